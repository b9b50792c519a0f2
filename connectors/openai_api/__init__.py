"""OpenAI-compatible HTTP API: any OpenAI SDK can use the hub with a team key."""

from connectors.openai_api.plugin import plugin

__all__ = ["plugin"]

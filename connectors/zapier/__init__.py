"""The Zapier integration's REST API: auth test, Ask LLM action, REST-hook triggers."""

from connectors.zapier.plugin import plugin

__all__ = ["plugin"]

"""Signed inbound webhooks: any system that can send an HTTP request can ask the LLM."""

from connectors.webhooks.plugin import plugin

__all__ = ["plugin"]

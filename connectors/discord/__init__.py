"""Discord: slash commands through the interactions endpoint, mentions through the gateway."""

from connectors.discord.plugin import plugin

__all__ = ["plugin"]

"""Slack: slash commands, mentions, threads and AI-app DMs, on slack-bolt."""

from connectors.slack.plugin import plugin

__all__ = ["plugin"]

"""Outbound events: the outbox written in the causing transaction, and its delivery."""

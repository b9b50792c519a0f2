"""Providers: one module per wire protocol, each an httpx client."""

"""Connectors: one package per platform, each depending only on the hub's public API."""

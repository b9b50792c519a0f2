"""The web dashboard at `/`: usage that reconciles to the ledger, served by the hub itself."""

from connectors.dashboard.plugin import plugin

__all__ = ["plugin"]

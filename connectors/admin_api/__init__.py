"""The Admin HTTP API under /admin/api/v1: teams, members, keys, quotas, limits, bindings,
subscriptions, provider keys, usage and audit, for team admins and the operator."""

from connectors.admin_api.plugin import plugin

__all__ = ["plugin"]

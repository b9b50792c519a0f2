"""Team roles and what each may do. Each role includes the powers of the ones before it."""

from __future__ import annotations

ROLES = ("viewer", "member", "admin", "owner")

# What each action needs, at least.
NEEDS = {
    "read_usage": "viewer",
    "ask": "member",
    "manage": "admin",  # keys, quotas, bindings, subscriptions, channel defaults, limits
    "manage_admins": "owner",  # grant or take the admin and owner roles
}


def rank(role: str) -> int:
    return ROLES.index(role) if role in ROLES else -1


def allows(role: str, action: str) -> bool:
    return rank(role) >= rank(NEEDS[action])

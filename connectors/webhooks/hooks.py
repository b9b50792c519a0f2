"""Inbound hooks are a hub service now (hub.inbound_hooks); these names stay for callers that
import them from here."""

from hub.inbound_hooks import HookInfo, InboundHooks, IssuedHook

__all__ = ["HookInfo", "InboundHooks", "IssuedHook"]

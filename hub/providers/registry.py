"""Which class speaks each configured provider type."""

from __future__ import annotations

from hub.clock import Clock
from hub.config import ProviderSettings
from hub.providers.anthropic import AnthropicProvider
from hub.providers.base import Provider
from hub.providers.demo import DemoProvider
from hub.providers.openai import OpenAIProvider
from hub.providers.transport import Transports


def build_provider(settings: ProviderSettings, *, transports: Transports, clock: Clock) -> Provider:
    """Each HTTP provider gets its own transport: its own pool and in-flight limit."""
    if settings.type == "openai":
        return OpenAIProvider(settings, transports.for_provider(settings), clock=clock)
    if settings.type == "anthropic":
        return AnthropicProvider(settings, transports.for_provider(settings), clock=clock)
    if settings.type == "demo":
        return DemoProvider(settings, clock)
    raise ValueError(f"unknown provider type {settings.type!r} for provider {settings.name!r}")

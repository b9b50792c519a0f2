"""Which class speaks each configured provider type."""

from __future__ import annotations

import httpx

from hub.clock import Clock
from hub.config import ProviderSettings
from hub.providers.anthropic import AnthropicProvider
from hub.providers.base import Provider
from hub.providers.demo import DemoProvider
from hub.providers.openai import OpenAIProvider


def build_provider(
    settings: ProviderSettings, *, client: httpx.AsyncClient, clock: Clock
) -> Provider:
    if settings.type == "openai":
        return OpenAIProvider(settings, client, clock=clock)
    if settings.type == "anthropic":
        return AnthropicProvider(settings, client, clock=clock)
    if settings.type == "demo":
        return DemoProvider(settings, clock)
    raise ValueError(f"unknown provider type {settings.type!r} for provider {settings.name!r}")

"""The Stripe SDK client the connector uses: `[billing.stripe] api_base` when set (tests point
it at a fake Stripe on 127.0.0.1), no retries inside the SDK (the hub's export job retries on
its own schedule and clock), httpx underneath for async calls."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import stripe

from hub.config import StripeSettings


class _HttpxClient(stripe.HTTPXClient):
    """The SDK's httpx client, sending the form-encoded body as `content=`: httpx deprecates
    `data=` for a ready-encoded body (a DeprecationWarning on every request otherwise)."""

    def _get_request_args_kwargs(
        self, method: str, url: str, headers: Mapping[str, str], post_data: Any
    ) -> list[Any]:
        args, kwargs = super()._get_request_args_kwargs(method, url, headers, post_data)
        data = kwargs.pop("data", None)
        if data:
            kwargs["content"] = data
        return [args, kwargs]


def build_client(settings: StripeSettings) -> tuple[stripe.StripeClient, stripe.HTTPXClient]:
    http = _HttpxClient(timeout=settings.timeout_s)
    base = settings.api_base or stripe.DEFAULT_API_BASE
    client = stripe.StripeClient(
        settings.api_key,
        base_addresses={"api": base},
        max_network_retries=0,
        http_client=http,
    )
    return client, http

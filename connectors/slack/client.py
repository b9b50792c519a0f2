"""The Slack Web API client: base URL from config, and Slack's 429s waited out on the hub clock."""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from hub.clock import Clock

MAX_RETRY_AFTER_S = 30.0


class ClockRateLimitRetryHandler(AsyncRateLimitErrorRetryHandler):
    """slack_sdk's 429 handler, sleeping Retry-After on the hub clock (a FakeClock in tests)."""

    def __init__(self, clock: Clock, *, max_retry_count: int = 2) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self._clock = clock

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        if response is None:
            raise error or RuntimeError("retry without a response")
        state.next_attempt_requested = True
        value = {k.lower(): v for k, v in response.headers.items()}.get("retry-after") or "1"
        try:
            wait = float(value[0] if isinstance(value, list) else value)
        except (ValueError, IndexError):
            wait = 1.0
        await self._clock.sleep(min(max(wait, 0.0), MAX_RETRY_AFTER_S))
        state.increment_current_attempt()


def retry_handlers(clock: Clock) -> list[AsyncRetryHandler]:
    return [ClockRateLimitRetryHandler(clock)]


class OAuthWebClient(AsyncWebClient):
    """oauth.v2.access with the app credentials in the form body (Slack accepts either way):
    slack_sdk's HTTP Basic route uses aiohttp.BasicAuth, deprecated and gone in aiohttp 4."""

    async def oauth_v2_access(
        self,
        *,
        client_id: str,
        client_secret: str,
        code: str | None = None,
        redirect_uri: str | None = None,
        grant_type: str | None = None,
        refresh_token: str | None = None,
        **kwargs: Any,
    ) -> AsyncSlackResponse:
        optional = {
            "code": code,
            "redirect_uri": redirect_uri,
            "grant_type": grant_type,
            "refresh_token": refresh_token,
        }
        data = {k: v for k, v in optional.items() if v is not None}
        data.update(kwargs, client_id=client_id, client_secret=client_secret)
        return await self.api_call("oauth.v2.access", data=data)


def web_client(*, base_url: str, clock: Clock, token: str | None = None) -> AsyncWebClient:
    return AsyncWebClient(token=token, base_url=base_url, retry_handlers=retry_handlers(clock))


def oauth_client(*, base_url: str, clock: Clock) -> OAuthWebClient:
    return OAuthWebClient(base_url=base_url, retry_handlers=retry_handlers(clock))


def api_error(exc: SlackApiError) -> str:
    """Slack's error code (`msg_too_long`, `ratelimited`...), or the HTTP status if no JSON."""
    data = getattr(exc.response, "data", None)
    if isinstance(data, dict):
        return str(data.get("error") or "unknown_error")
    return f"http_{getattr(exc.response, 'status_code', 'error')}"

"""The hub's one error tree. Connectors translate it into platform messages in one place.

HubError                        user_message: one sentence the asker sees
├── BadRequest                  the request itself is malformed (HTTP 400)
│   └── InvalidField            one named field is malformed (`field`)
├── AuthError                   no or wrong credentials (401)
│   ├── KeyExpired
│   └── KeyRevoked
├── Forbidden                   credentials fine, not allowed (403)
│   └── BillingSuspended        the team's payment failed past the grace days (402)
├── NotFound                    (404)
│   └── UnknownModel            alias not configured; lists the aliases
├── NotBound                    a workspace/guild not bound to a hub team
├── LimitError                  (429, retry_after seconds)
│   ├── QuotaExceeded           a budget or token quota is used up until `resets_at`
│   └── RateLimited             too many requests or tokens per minute
├── ProviderError               upstream trouble (502/503)
│   ├── ProviderAuthError       upstream refused our credentials (configuration problem)
│   ├── ProviderRateLimited     upstream 429 after retries and fallbacks (429, Retry-After)
│   ├── ProviderUnavailable     5xx, overloaded, timeouts, connection errors
│   │   ├── ProviderTimeout     an attempt or request past its deadline, or idle too long
│   │   └── ProviderBusy        the hub's own in-flight limit for the provider is reached:
│   │                           not retried on it, the next deployment is tried (503)
│   ├── ProviderBadRequest      upstream 4xx: retrying will not help; one the caller caused
│   │                           (context length, a parameter) keeps the upstream's status,
│   │                           type, code and param (`upstream`), passed on to the client
│   ├── ProviderMalformed       the upstream answered something that is not its protocol
│   │   └── InvalidUsage        usage that cannot be true (negative, absurd): billed at the hold
│   └── StreamInterrupted       the stream broke after text reached the caller
├── PaymentPlatformError        the payment platform (Stripe) failed or refused (502)
├── SecretKeyChanged            stored secrets unreadable with HUB_SECRET_KEY (500)
├── UnsupportedParameter        a provider cannot honour a parameter (400, `param` names it)
└── Cancelled                   the caller went away or pressed Stop
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


class HubError(Exception):
    status: int = 500
    code: str = "hub_error"

    def __init__(self, message: str, *, detail: str | None = None) -> None:
        super().__init__(message)
        self.user_message = message
        # `detail` is for logs only: never shown to the user, never holds a secret.
        self.detail = detail


class BadRequest(HubError):
    status = 400
    code = "invalid_request_error"


class InvalidField(BadRequest):
    """A malformed field; `field` names it (`messages[0].content`, a header, `body`)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field

    @property
    def param(self) -> str:
        """OpenAI's name for the same thing."""
        return self.field


class AuthError(HubError):
    status = 401
    code = "invalid_api_key"


class KeyExpired(AuthError):
    code = "key_expired"


class KeyRevoked(AuthError):
    code = "key_revoked"


class Forbidden(HubError):
    status = 403
    code = "forbidden"


class BillingSuspended(Forbidden):
    status = 402
    code = "billing_suspended"


class NotFound(HubError):
    status = 404
    code = "not_found"


class UnknownModel(NotFound):
    code = "model_not_found"

    def __init__(self, alias: str, known: list[str]) -> None:
        super().__init__(
            f"Unknown model '{alias}'. Available models: {', '.join(known) or 'none'}."
        )
        self.alias = alias
        self.known = known


class NotBound(HubError):
    status = 403
    code = "not_bound"


class LimitError(HubError):
    status = 429
    code = "rate_limit_exceeded"

    def __init__(
        self, message: str, *, retry_after: float | None = None, detail: str | None = None
    ) -> None:
        super().__init__(message, detail=detail)
        self.retry_after = retry_after


class QuotaExceeded(LimitError):
    code = "quota_exceeded"

    def __init__(
        self,
        message: str,
        *,
        resets_at: datetime,
        retry_after: float | None = None,
        limit_name: str = "",
    ) -> None:
        super().__init__(message, retry_after=retry_after)
        self.resets_at = resets_at
        self.limit_name = limit_name


class RateLimited(LimitError):
    code = "rate_limited"


class ProviderError(HubError):
    status = 502
    code = "provider_error"
    retryable = False

    def __init__(
        self,
        message: str = "The model provider failed to answer.",
        *,
        detail: str | None = None,
        retry_after: float | None = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(message, detail=detail)
        self.retry_after = retry_after
        self.attempts = attempts


class ProviderAuthError(ProviderError):
    code = "provider_auth_error"


class ProviderRateLimited(ProviderError):
    status = 429
    code = "provider_rate_limited"
    retryable = True


class ProviderUnavailable(ProviderError):
    status = 503
    code = "provider_unavailable"
    retryable = True


class ProviderTimeout(ProviderUnavailable):
    code = "provider_timeout"


class ProviderBusy(ProviderUnavailable):
    """Every slot of `[providers.<name>] max_in_flight` stayed taken for in_flight_wait_s.
    Not the provider's failure (its circuit is not charged) and not worth retrying on it."""

    code = "provider_busy"
    retryable = False


@dataclass(frozen=True, slots=True)
class UpstreamRejection:
    """An upstream's own 4xx for something the caller sent, as it described it (secrets and
    the provider's address already removed)."""

    status: int
    message: str
    type: str | None = None
    code: str | None = None
    param: str | None = None


class ProviderBadRequest(ProviderError):
    status = 502  # the hub's configuration is wrong (an unknown model); see `upstream`
    code = "provider_bad_request"

    def __init__(
        self,
        message: str = "The model provider rejected the request.",
        *,
        detail: str | None = None,
        retry_after: float | None = None,
        attempts: int = 1,
        upstream: UpstreamRejection | None = None,
    ) -> None:
        super().__init__(message, detail=detail, retry_after=retry_after, attempts=attempts)
        self.upstream = upstream
        if upstream is not None:
            self.status = upstream.status  # the caller caused it: the client sees it as it was
            self.param = upstream.param


class ProviderMalformed(ProviderError):
    code = "provider_malformed_response"


class InvalidUsage(ProviderMalformed):
    code = "invalid_usage"
    retryable = False


class StreamInterrupted(ProviderError):
    code = "stream_interrupted"


class PaymentPlatformError(HubError):
    status = 502
    code = "payment_platform_error"


class SecretKeyChanged(HubError):
    """A stored secret (a webhook's signing secret, a bot token) cannot be decrypted: the
    operator changed HUB_SECRET_KEY without keeping the old key. Nothing can be verified."""

    status = 500
    code = "secret_key_changed"

    def __init__(self, what: str) -> None:
        super().__init__(
            f"This hub cannot read {what}: its HUB_SECRET_KEY changed. The operator must put "
            "the previous key after the new one (HUB_SECRET_KEY=new,old) and run "
            "`hub rotate-secrets`."
        )


class Cancelled(HubError):
    status = 499
    code = "cancelled"


class UnsupportedParameter(BadRequest):
    """A parameter the chosen provider cannot honour (and the alias does not drop)."""

    code = "unsupported_parameter"

    def __init__(self, param: str, *, provider: str, alias: str, why: str = "") -> None:
        super().__init__(
            f"The model provider '{provider}' behind model '{alias}' does not support "
            f"'{param}'{': ' + why if why else ''}. Remove it, or set drop_params = true for "
            f"the model to have it dropped."
        )
        self.param = param
        self.provider = provider

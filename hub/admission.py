"""Who may ask, and whether now: member resolution, role, and rate limits, before any money
is reserved."""

from __future__ import annotations

from dataclasses import dataclass

from hub.billing.accounts import BillingAccounts
from hub.errors import Forbidden
from hub.members import Members
from hub.model import Caller, ChatRequest
from hub.ratelimit import AppliedLimit, RateLimits
from hub.roles import allows


@dataclass(frozen=True, slots=True)
class Admitted:
    caller: Caller
    role: str
    limits: list[AppliedLimit]


class Admission:
    def __init__(self, members: Members, rate_limits: RateLimits, billing: BillingAccounts) -> None:
        self._members = members
        self._rate_limits = rate_limits
        self._billing = billing

    async def admit(self, request: ChatRequest) -> Admitted:
        caller, role = await self._members.resolve(request.caller, request.origin)
        if not allows(role, "ask"):
            raise Forbidden(
                f"Your role in team '{caller.team_name}' ({role}) cannot ask; "
                "ask a team admin for the member role."
            )
        await self._billing.check(caller.team_id, caller.team_name)  # suspended for non-payment
        limits = await self._rate_limits.admit(caller)
        return Admitted(caller=caller, role=role, limits=limits)

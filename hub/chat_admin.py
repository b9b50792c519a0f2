"""Administration from a chat platform: `/ask quota @user 5usd/month` and friends.

The platform connector parses its own command syntax and mentions; this module decides who
may do what (the asker's hub role, found through their linked account) and answers with one
sentence. Changes are audited as the platform user.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hub.audit import Actor, acting_as
from hub.errors import BadRequest
from hub.ledger.money import format_usd, usd_to_micros
from hub.ledger.teams import QuotaSpec
from hub.model import Caller
from hub.roles import allows
from hub.service import Hub
from hub.store.ledger_tables import Member

_QUOTA = re.compile(
    r"^\s*(?:\$\s*(?P<usd1>\d+(?:\.\d+)?)|(?P<usd2>\d+(?:\.\d+)?)\s*(?:usd|\$|dollars?)|"
    r"(?P<tokens>\d+(?:\.\d+)?)\s*(?P<mult>[km]?)\s*(?:tokens?|tok))\s*"
    r"(?:/|per\s+|a\s+)\s*(?P<window>day|month)\s*$",
    re.IGNORECASE,
)
QUOTA_HELP = "Write the limit as 5usd/month, $2/day, 100k tokens/month or 20000 tokens/day."


@dataclass(frozen=True, slots=True)
class ChatQuota:
    window: str
    cost_limit_micros: int | None
    token_limit: int | None

    def describe(self) -> str:
        window = "daily" if self.window == "day" else "monthly"
        if self.cost_limit_micros is not None:
            return f"a {window} budget of {format_usd(self.cost_limit_micros)}"
        return f"a {window} quota of {self.token_limit:,} tokens"


def parse_quota(text: str) -> ChatQuota:
    match = _QUOTA.match(text)
    if not match:
        raise BadRequest(f"I could not read '{text.strip()}' as a limit. {QUOTA_HELP}")
    window = match["window"].lower()
    usd = match["usd1"] or match["usd2"]
    if usd is not None:
        return ChatQuota(window, usd_to_micros(usd), None)
    scale = {"": 1, "k": 1_000, "m": 1_000_000}[match["mult"].lower()]
    return ChatQuota(window, None, int(float(match["tokens"]) * scale))


async def role_of(hub: Hub, caller: Caller, *, platform: str, workspace: str, user: str) -> str:
    """The hub role of a platform user in the bound team: their member's, else `member`."""
    found = await hub.members.find_by_identity(
        platform=platform, workspace=workspace, user=user, team_id=caller.team_id
    )
    return found.role if found else "member"


async def may_manage(hub: Hub, caller: Caller, *, platform: str, workspace: str, user: str) -> bool:
    role = await role_of(hub, caller, platform=platform, workspace=workspace, user=user)
    return allows(role, "manage")


async def member_for(
    hub: Hub, caller: Caller, *, platform: str, workspace: str, user: str
) -> Member:
    """The member a platform user is linked to; enrolled (linked, role member) if none yet."""
    found = await hub.members.find_by_identity(
        platform=platform, workspace=workspace, user=user, team_id=caller.team_id
    )
    if found is not None:
        return found
    team = await hub.teams.get_by_id(caller.team_id)
    added = await hub.members.add(team, f"{platform}:{user}")
    await hub.members.link(added, platform=platform, workspace=workspace, user=user)
    return added


async def set_member_quota(
    hub: Hub,
    caller: Caller,
    *,
    platform: str,
    workspace: str,
    asker: str,
    target: str,
    text: str,
    target_label: str,
) -> str:
    """Set a member's quota from chat; the reply sentence, for success and refusal alike."""
    if not await may_manage(hub, caller, platform=platform, workspace=workspace, user=asker):
        return (
            f"Only admins of team '{caller.team_name}' can set quotas. An owner can make you "
            "one: hub member role NAME admin --team " + caller.team_name
        )
    try:
        quota = parse_quota(text)
    except BadRequest as exc:
        return exc.user_message
    with acting_as(Actor(platform, asker)):
        member = await member_for(hub, caller, platform=platform, workspace=workspace, user=target)
        await hub.teams.set_quota(
            QuotaSpec(
                "member", member.id, quota.window, quota.cost_limit_micros, quota.token_limit
            ),
            team_id=caller.team_id,
        )
    return f"{target_label} now has {quota.describe()} in team '{caller.team_name}'."

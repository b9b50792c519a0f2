"""The answers to `/ask usage` (`/usage`), `/ask model [ALIAS]` and `/ask quota @user LIMIT`:
quick database reads and writes that fit inside the 3-second ack. Who may change what is the
hub's decision (hub.chat_admin), made through the asker's linked hub account."""

from __future__ import annotations

from connectors.slack import messages
from connectors.slack.config import SlackSettings
from hub.audit import Actor, acting_as
from hub.chat_admin import may_manage, set_member_quota
from hub.errors import HubError
from hub.ledger.money import format_usd
from hub.model import Origin
from hub.service import Hub

PLATFORM = "slack"


async def usage_text(hub: Hub, *, workspace: str, user: str) -> str:
    caller = await hub.bindings.caller_for(PLATFORM, workspace)
    if caller is None:
        return messages.not_bound(workspace)
    try:
        # The same rule as asking: under `members_only`, people who are not members are refused.
        asker, _ = await hub.members.resolve(
            caller, Origin(connector=PLATFORM, user=user, workspace=workspace)
        )
    except HubError as exc:
        return exc.user_message
    status = await hub.usage.month_status(caller, user=user)
    budget = (
        f" of {format_usd(status.budget_micros)} budget" if status.budget_micros is not None else ""
    )
    quota = f" of {status.token_quota:,}" if status.token_quota is not None else ""
    lines = [
        f"*Usage this month* (resets {status.resets_at:%Y-%m-%d %H:%M} UTC)",
        f"Team *{caller.team_name}*: {format_usd(status.spent_micros)}{budget}, "
        f"{status.tokens_spent:,}{quota} tokens",
        f"You: {format_usd(status.user_spent_micros)}, {status.user_tokens:,} tokens",
    ]
    if asker.member_id is not None:
        limits = await hub.members.limits(asker.member_id)
        lines += [limit.describe() for limit in limits]
    plan, estimate = await hub.billing.plan_and_estimate(caller.team_id)
    lines.append(
        f"Plan *{plan or 'none'}*: invoice estimate so far {format_usd(estimate)}"
        f" (the draft for {hub.clock.now():%Y-%m})"
    )
    return "\n".join(lines)


async def model_text(
    hub: Hub,
    settings: SlackSettings,
    *,
    workspace: str,
    user: str,
    channel: str,
    alias: str | None,
) -> str:
    """Show the channel's default model, or set it (hub admins only) when `alias` is given."""
    if alias is None:
        current = await hub.channels.get(PLATFORM, channel)
        fallback = settings.default_model or hub.settings.default_alias or "none"
        shown = f"*{current}*" if current else f"not set (using *{fallback}*)"
        return f"This channel's default model: {shown}. Available: {', '.join(hub.aliases)}."
    caller = await hub.bindings.caller_for(PLATFORM, workspace)
    if caller is None:
        return messages.not_bound(workspace)
    if not await may_manage(hub, caller, platform=PLATFORM, workspace=workspace, user=user):
        return messages.not_admin(caller.team_name, "change a channel's default model")
    try:
        resolved = hub.router.resolve(alias).alias
    except HubError as exc:
        return exc.user_message
    with acting_as(Actor(PLATFORM, user)):
        await hub.channels.set(PLATFORM, channel, resolved, team_id=caller.team_id)
    return f"This channel's default model is now *{resolved}*."


async def quota_text(hub: Hub, *, workspace: str, user: str, target: str | None, limit: str) -> str:
    """`/ask quota @user 5usd/month`: set a member's quota (hub admins only)."""
    if target is None or not limit:
        return messages.QUOTA_HELP
    caller = await hub.bindings.caller_for(PLATFORM, workspace)
    if caller is None:
        return messages.not_bound(workspace)
    return await set_member_quota(
        hub,
        caller,
        platform=PLATFORM,
        workspace=workspace,
        asker=user,
        target=target,
        text=limit,
        target_label=f"<@{target}>",
    )

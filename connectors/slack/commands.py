"""The answers to `/ask usage` (`/usage`) and `/ask model [ALIAS]`: quick database reads that
fit inside the 3-second ack."""

from __future__ import annotations

from connectors.slack import messages
from connectors.slack.config import SlackSettings
from hub.errors import UnknownModel
from hub.ledger.money import format_usd
from hub.service import Hub


async def usage_text(hub: Hub, *, workspace: str, user: str) -> str:
    caller = await hub.bindings.caller_for("slack", workspace)
    if caller is None:
        return messages.not_bound(workspace)
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
    return "\n".join(lines)


async def model_text(hub: Hub, settings: SlackSettings, *, channel: str, alias: str | None) -> str:
    """Show the channel's default model, or set it when `alias` is given."""
    if alias is None:
        current = await hub.channels.get("slack", channel)
        fallback = settings.default_model or hub.settings.default_alias or "none"
        shown = f"*{current}*" if current else f"not set (using *{fallback}*)"
        return f"This channel's default model: {shown}. Available: {', '.join(hub.aliases)}."
    try:
        hub.router.resolve(alias)
    except UnknownModel as exc:
        return exc.user_message
    await hub.channels.set("slack", channel, alias)
    return f"This channel's default model is now *{alias}*."

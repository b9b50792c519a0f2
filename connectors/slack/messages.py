"""Everything the user reads when something goes wrong, in one place, one sentence each."""

from __future__ import annotations

from hub.errors import HubError, LimitError, ProviderError, QuotaExceeded

NOT_BOUND = (
    "This Slack workspace is not connected to a hub team yet; ask an admin to bind it: "
    "`hub bind slack {workspace} --team NAME`."
)
STOPPED = "_Stopped._"
TRIMMED = "_Older messages in this thread were left out to fit the model's context._"
THINKING = "_Thinking…_"
NOT_IN_CHANNEL = "I can't post in this channel; invite me with `/invite @UniLLM` and ask again."
SLACK_FAILED = "Slack refused my answer ({error}); please try again."
EMPTY_QUESTION = (
    "Ask a question: `/ask [--model ALIAS] question`, `/ask usage`, `/ask model [ALIAS]`, "
    "or (admins) `/ask quota @user 5usd/month`."
)
QUOTA_HELP = (
    "Set a member's quota with `/ask quota @user LIMIT`, mentioning the person, e.g. "
    "`/ask quota @ann 5usd/month` or `/ask quota @ann 100k tokens/day`."
)


def not_bound(workspace: str) -> str:
    return NOT_BOUND.format(workspace=workspace)


def not_admin(team: str, action: str) -> str:
    return (
        f"Only admins of team '{team}' can {action}. An owner can make you one: "
        f"hub member role NAME admin --team {team}"
    )


def for_error(exc: HubError) -> str:
    """The hub error as one sentence, with when to retry where the hub knows it."""
    message = exc.user_message.rstrip()
    if isinstance(exc, QuotaExceeded):
        return message
    if isinstance(exc, LimitError | ProviderError) and exc.retry_after:
        if "retry" not in message.lower() and "again" not in message.lower():
            message += f" Try again in {max(1, round(exc.retry_after))} s."
    return message

"""The hub's errors as the one sentence a Discord user sees: the single translation point."""

from __future__ import annotations

import logging

from hub.errors import HubError

log = logging.getLogger("connectors.discord")

UNEXPECTED = "Something went wrong while answering; please try again in a moment."


def user_sentence(error: BaseException) -> str:
    if isinstance(error, HubError):
        return error.user_message
    # Not ours to explain (a bug, a Discord outage): log it for the operator, keep it vague.
    log.error("unexpected error while answering", exc_info=error)
    return UNEXPECTED

"""The sentences a chat answer ends with, for the connectors that write answers for people
(Slack, Discord): a budget downgrade told once, and the deployment that answered when the
alias sets `show_model`. API callers get the same facts as headers instead."""

from __future__ import annotations

from hub.model import ChatResult


def answer_notes(result: ChatResult) -> tuple[str, ...]:
    notes: list[str] = []
    if result.notice:
        notes.append(result.notice)
    if result.show_model and result.deployment:
        notes.append(f"Answered by {result.deployment}.")
    return tuple(notes)

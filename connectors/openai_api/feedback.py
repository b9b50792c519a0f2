"""POST /v1/feedback: 👍 or 👎 on an answer by its response id (the `id` of the completion),
for API callers. The body is one typed model, also its OpenAPI schema; errors are the OpenAI
error shape like every /v1 route.

    POST /v1/feedback  {"response_id": "chatcmpl-...", "rating": 1, "comment": "spot on"}
"""

from __future__ import annotations

from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hub.body_models import invalid_field
from hub.errors import InvalidField
from hub.feedback import MAX_COMMENT_CHARS, Vote, Voter
from hub.model import Caller

MAX_FEEDBACK_BODY = 16 * 1024  # a vote and a comment of 2,000 characters fit many times


class FeedbackRequest(BaseModel):
    """A vote on one answer. Voting again on the same answer replaces the vote."""

    # Nothing here reaches a provider: an unknown field is a mistake, said by name.
    model_config = ConfigDict(strict=True, extra="forbid")

    response_id: str = Field(
        min_length=1,
        max_length=64,
        description="The `id` of the chat completion (also of each of its stream chunks)",
    )
    rating: Literal[1, -1] = Field(description="1 for 👍, -1 for 👎")
    comment: str | None = Field(default=None, max_length=MAX_COMMENT_CHARS)
    user: str | None = Field(
        default=None,
        max_length=64,
        description="Your end user's id, as in `user` on the completion: each end user has "
        "one vote per answer (without it, one vote per key)",
    )


class FeedbackResponse(BaseModel):
    object: Literal["feedback"] = "feedback"
    id: int
    response_id: str
    rating: Literal[1, -1]
    comment: str | None
    replaced: bool = Field(description="true when this voter's earlier vote was replaced")


def parse_feedback(body: Any) -> FeedbackRequest:
    if not isinstance(body, dict):
        raise InvalidField("body", "The request body must be a JSON object.")
    try:
        return FeedbackRequest.model_validate(body)
    except ValidationError as exc:
        raise invalid_field(exc, body, FeedbackRequest) from None


def voter_of(caller: Caller, parsed: FeedbackRequest) -> Voter:
    who = f"key:{caller.key_id}" + (f":{parsed.user}" if parsed.user else "")
    return Voter(source="openai_api", id=who, team_id=caller.team_id)


def vote_response(vote: Vote) -> web.Response:
    rating: Literal[1, -1] = 1 if vote.rating > 0 else -1
    body = FeedbackResponse(
        id=vote.id,
        response_id=vote.response_id,
        rating=rating,
        comment=vote.comment,
        replaced=vote.replaced,
    )
    return web.json_response(body.model_dump())

"""Which deployments of an alias can take a request: images, tools, structured output, length.

Every strategy starts from `capable(...)`: a request with images skips deployments without
vision, one with tools skips those with `tools = false`, one asking for a JSON schema skips
those with `json_schema = false`, and a prompt longer than a deployment's `max_input_tokens`
skips it. When none is left the request is refused with a 400 that says what it needs and
why each deployment could not take it, before any money is reserved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hub.config import DeploymentSettings, ModelSettings
from hub.model import ChatRequest, ImagePart, TextPart
from hub.routing.errors import NoCapableDeployment

# A typical (not worst-case) count: the point is to skip deployments that are surely too small.
CHARS_PER_TOKEN = 4
PER_MESSAGE_TOKENS = 4


@dataclass(frozen=True, slots=True)
class Needs:
    images: bool = False
    tools: bool = False
    json_schema: bool = False
    input_tokens: int = 0

    def describe(self) -> str:
        wanted = [
            name
            for name, on in (
                ("images", self.images),
                ("tools", self.tools),
                ("structured output (json_schema)", self.json_schema),
            )
            if on
        ]
        wanted.append(f"about {self.input_tokens:,} input tokens")
        return ", ".join(wanted)


def needs_of(request: ChatRequest) -> Needs:
    # One pass over the parts for both the images and a typical token count of the text
    # (CHARS_PER_TOKEN, PER_MESSAGE_TOKENS), without a generator per message.
    images = False
    chars = 0
    for message in request.messages:
        for part in message.content:
            if isinstance(part, TextPart):
                chars += len(part.text)
            elif isinstance(part, ImagePart):
                images = True
    fmt = request.response_format
    return Needs(
        images=images,
        tools=bool(request.tools),
        json_schema=fmt is not None and fmt.type == "json_schema",
        input_tokens=chars // CHARS_PER_TOKEN + PER_MESSAGE_TOKENS * len(request.messages),
    )


def cannot_take(deployment: DeploymentSettings, model: ModelSettings, needs: Needs) -> str | None:
    """Why `deployment` cannot take a request with these needs, or None when it can."""
    vision = model.vision if deployment.vision is None else deployment.vision
    if needs.images and not vision:
        return "no vision"
    if needs.tools and not deployment.tools:
        return "no tools"
    if needs.json_schema and not deployment.json_schema:
        return "no json_schema"
    limit = deployment.max_input_tokens
    if limit is not None and needs.input_tokens > limit:
        return f"max_input_tokens {limit:,}"
    return None


def capable(model: ModelSettings, needs: Needs) -> list[DeploymentSettings]:
    """The alias's deployments that can take the request, in configured order."""
    fit = [d for d in model.deployments if cannot_take(d, model, needs) is None]
    if fit:
        return fit
    raise NoCapableDeployment(_refusal(model, needs, model.deployments))


def _refusal(model: ModelSettings, needs: Needs, deployments: Sequence[DeploymentSettings]) -> str:
    reasons = "; ".join(f"{d.label}: {cannot_take(d, model, needs)}" for d in deployments)
    return (
        f"No deployment of model '{model.alias}' can take this request (it needs "
        f"{needs.describe()}): {reasons}. Pick a model that supports it."
    )

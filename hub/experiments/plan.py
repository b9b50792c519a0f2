"""What an experiment is: an alias, its variants (each an alias or one deployment) with their
shares of traffic, and what keeps a person on one variant.

    hub experiment create tone --alias chat --variant a=chat-mini --variant b=up/gpt-4o \
        --split 70/30 --sticky thread

A request is assigned by hashing its sticky identifier (hub/routing/sticky.py) salted with the
experiment's name to a point in [0, 1); the variants cover [0, 1) in the order given, each by
its share. The same person (or thread, or team) therefore lands on the same variant in every
process, for the whole experiment; a request with nothing to keep together is assigned at
random with the same shares.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

from hub.config import DeploymentSettings, ModelSettings
from hub.errors import BadRequest
from hub.model import ChatRequest
from hub.routing.settings import Sticky
from hub.routing.sticky import stable_fraction, sticky_identifier

ExperimentStatus = Literal["draft", "running", "stopped"]
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
STICKY_CHOICES: tuple[str, ...] = get_args(Sticky)


@dataclass(frozen=True, slots=True)
class Variant:
    name: str
    target: str  # an alias, or a deployment as provider/model
    share: int  # percent of the experiment's traffic

    def as_json(self) -> dict[str, object]:
        return {"name": self.name, "target": self.target, "share": self.share}


@dataclass(frozen=True, slots=True)
class Experiment:
    id: int
    name: str
    alias: str
    variants: tuple[Variant, ...]
    sticky: Sticky
    status: ExperimentStatus
    created_at: datetime
    started_at: datetime | None
    stopped_at: datetime | None

    def choose(self, request: ChatRequest, rng: random.Random) -> Variant:
        """The request's variant: sticky by the experiment's identifier, else at random."""
        identifier = sticky_identifier(request, self.sticky)
        point = (
            stable_fraction(identifier, f"experiment:{self.name}")
            if identifier is not None
            else rng.random()
        )
        edge = 0.0
        for variant in self.variants:
            edge += variant.share / 100
            if point < edge:
                return variant
        return self.variants[-1]

    def as_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "alias": self.alias,
            "status": self.status,
            "sticky": self.sticky,
            "variants": [v.as_json() for v in self.variants],
            "created_at": self.created_at.isoformat(),
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "stopped_at": self.stopped_at.isoformat() if self.stopped_at else None,
        }


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise BadRequest(
            f"'{name}' cannot name an experiment: use 1 to 40 letters, digits, '.', '_' or '-'."
        )
    return name


def parse_variants(
    specs: Sequence[str], split: str | None, models: Mapping[str, ModelSettings]
) -> tuple[Variant, ...]:
    """`a=<alias or provider/model>` each, with `--split 50/50` (default: equal shares)."""
    if len(specs) < 2:
        raise BadRequest("An experiment needs at least two variants: --variant a=X --variant b=Y.")
    named: list[tuple[str, str]] = []
    for spec in specs:
        name, sep, target = (part.strip() for part in spec.partition("="))
        if not sep or not name or not target:
            raise BadRequest(f"'{spec}' is not a variant: write NAME=<alias or provider/model>.")
        if not _NAME.match(name):
            raise BadRequest(f"'{name}' cannot name a variant: letters, digits, '.', '_', '-'.")
        if any(name == seen for seen, _ in named):
            raise BadRequest(f"Two variants are named '{name}'.")
        if target not in models and find_deployment(target, models) is None:
            raise BadRequest(
                f"Variant '{name}': '{target}' is neither a configured alias nor a configured "
                f"deployment (provider/model). Aliases: {', '.join(models)}."
            )
        named.append((name, target))
    shares = _parse_split(split, len(named))
    return tuple(Variant(n, t, s) for (n, t), s in zip(named, shares, strict=True))


def _parse_split(split: str | None, count: int) -> list[int]:
    if split is None:
        base, extra = divmod(100, count)
        return [base + (1 if i < extra else 0) for i in range(count)]
    parts = split.split("/")
    if len(parts) != count or not all(p.strip().isdigit() for p in parts):
        raise BadRequest(
            f"--split '{split}' must give {count} whole percentages separated by '/' "
            f"(one per variant, e.g. {'/'.join(['50'] * 2) if count == 2 else '34/33/33'})."
        )
    shares = [int(p) for p in parts]
    if sum(shares) != 100 or min(shares) < 1:
        raise BadRequest(f"--split '{split}' must add up to 100, each variant at least 1.")
    return shares


def find_deployment(label: str, models: Mapping[str, ModelSettings]) -> DeploymentSettings | None:
    """A configured deployment by its label (provider/model), from whichever alias has it."""
    for model in models.values():
        for deployment in model.deployments:
            if deployment.label == label:
                return deployment
    return None


def variants_json(variants: Sequence[Variant]) -> str:
    return json.dumps([v.as_json() for v in variants])


def variants_from_json(text: str) -> tuple[Variant, ...]:
    return tuple(
        Variant(str(v["name"]), str(v["target"]), int(v["share"])) for v in json.loads(text)
    )

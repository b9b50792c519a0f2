"""Cost optimization suggestions from a team's real usage, stated with the money.

Three kinds, each a sentence with its numbers (the dashboard's page and the weekly report show
the same ones):
- a cheaper model for small requests: the share of a place's (Slack or Discord channel,
  connector) requests on a model whose prompts are under 512 tokens and answers under 256
  (the `size` cube), and what those same tokens would have cost on the cheapest other
  configured model at today's prices (the price book, rounded up once);
- a response cache: requests identical to an earlier one in the window (their prompt hash,
  never the text), and what they cost;
- deployments that fail over often: the share of requests first sent to a deployment that it
  did not answer (the `failover` cube).
The window is the last 30 days: whole UTC days, today included so far.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from hub.billing.price_book import PriceBook
from hub.clock import Clock
from hub.config import Settings
from hub.ledger.money import format_usd
from hub.ledger.reports import UsageReports
from hub.ledger.summary import UsageFilter
from hub.ledger.summary_plan import DAY, floor_day
from hub.ledger.usage_totals import UsageTotals
from hub.model import Usage
from hub.suggestion_reports import Kept, SuggestionStore

WINDOW_DAYS = 30
SMALL_PROMPT = 9  # size class ≤ 9: under 2^9 = 512 tokens
SMALL_ANSWER = 8  # under 256 tokens
MIN_REQUESTS = 10  # below this a share says little
MIN_SHARE = 0.25
MIN_SAVING_MICROS = 10_000  # one cent
FAILOVER_RATE = 0.05
PLATFORMS = {"slack": "Slack", "discord": "Discord"}


@dataclass(frozen=True, slots=True)
class Suggestion:
    kind: str  # "cheaper_model", "cache" or "failover"
    template: str  # the sentence, with %(name)s for each of `params` (translatable)
    params: dict[str, str] = field(default_factory=dict)
    saving_micros: int = 0  # what it would have saved in the window (0: not money)
    # The params' values before they were written in English, for a page that writes them in
    # another language: money in micro-dollars (`*_micros`), shares as fractions, counts, and
    # the place's connector, workspace and channel.
    figures: dict[str, int | float | str | None] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.template % self.params


@dataclass(frozen=True, slots=True)
class SuggestionReport:
    since: datetime
    until: datetime
    suggestions: list[Suggestion]

    @property
    def saving_micros(self) -> int:
        return sum(s.saving_micros for s in self.suggestions)


def place_of(connector: str, workspace: str | None, channel: str | None) -> str:
    if channel and connector in PLATFORMS:
        return f"{PLATFORMS[connector]} channel {channel}"
    if workspace and connector in PLATFORMS:
        kind = "workspace" if connector == "slack" else "server"
        return f"{PLATFORMS[connector]} {kind} {workspace}"
    return f"the {connector} connector"


def _encoded(report: SuggestionReport) -> str:
    return json.dumps([{"kind": s.kind, "template": s.template, "params": s.params,
                        "saving_micros": s.saving_micros, "figures": s.figures}
                       for s in report.suggestions])  # fmt: skip


def _decoded(kept: Kept) -> SuggestionReport:
    found: list[dict[str, Any]] = json.loads(kept.body)
    return SuggestionReport(kept.since, kept.until, [
        Suggestion(s["kind"], s["template"], s["params"], s["saving_micros"], s["figures"])
        for s in found
    ])  # fmt: skip


class Suggestions:
    def __init__(
        self,
        usage: UsageReports,
        prices: PriceBook,
        settings: Settings,
        clock: Clock,
        store: SuggestionStore | None = None,
    ) -> None:
        self._usage = usage
        self._prices = prices
        self._settings = settings
        self._clock = clock
        # A month of a team's prompt hashes is read to make them (hub/ledger/insight_reads.py):
        # made by a job and kept in the store (hub/suggestion_reports.py). None: never kept.
        self._store = store

    def window(self) -> tuple[datetime, datetime]:
        until = floor_day(self._clock.now()) + DAY
        return until - timedelta(days=WINDOW_DAYS), until

    async def for_team(self, team_id: int) -> SuggestionReport:
        """The team's suggestions over the window: the stored report while it is younger than
        `[reports] suggestions_cache_s` and of this window, else made now (and stored)."""
        fresh_s = self._settings.reports.suggestions_cache_s
        if fresh_s == 0 or self._store is None:
            return await self._compute(team_id, *self.window())
        kept = await self._store.load(team_id)
        now = self._clock.now()
        if (kept is not None and kept.since == self.window()[0]
                and now - kept.computed_at < timedelta(seconds=fresh_s)):  # fmt: skip
            return _decoded(kept)
        return await self.refresh(team_id)

    async def refresh(self, team_id: int) -> SuggestionReport:
        """The team's suggestions made now, and stored for every process."""
        at = self._clock.now()
        report = await self._compute(team_id, *self.window())
        if self._store is not None:
            await self._store.save(team_id, Kept(report.since, report.until, at,
                                                 _encoded(report)))  # fmt: skip
        return report

    async def _compute(self, team_id: int, since: datetime, until: datetime) -> SuggestionReport:
        found = [
            *await self._cheaper_models(team_id, since, until),
            *await self._cache(team_id, since, until),
        ]
        found.sort(key=lambda s: -s.saving_micros)
        found.extend(await self._failovers(team_id, since, until))
        return SuggestionReport(since, until, found)

    def _reprice(self, alias: str, totals: UsageTotals) -> int | None:
        """What these tokens would cost on `alias`'s first deployment at today's prices."""
        model = self._settings.models.get(alias)
        if model is None or not model.deployments or model.strategy == "auto":
            return None
        deployment = model.deployments[0]
        provider = self._settings.providers.get(deployment.provider)
        if provider is not None and provider.type == "demo":
            return None  # the demo provider answers canned text: never a suggestion
        prices = self._prices.deployment_prices(deployment, self._clock.now())
        if prices is None:
            return None
        usage = Usage(
            prompt_tokens=totals.prompt_tokens, completion_tokens=totals.completion_tokens,
            cached_tokens=totals.cached_tokens, cache_write_tokens=totals.cache_write_tokens,
            reasoning_tokens=totals.reasoning_tokens,
        )  # fmt: skip
        return prices.cost_of(usage)

    async def _cheaper_models(
        self, team_id: int, since: datetime, until: datetime
    ) -> list[Suggestion]:
        everything: dict[tuple[str, str | None, str | None, str], UsageTotals] = defaultdict(
            UsageTotals
        )
        small: dict[tuple[str, str | None, str | None, str], UsageTotals] = defaultdict(UsageTotals)
        for row in await self._usage.sizes(team_id=team_id, since=since, until=until):
            if row.status == "cached":
                continue  # charged as a cache hit, not at the model's price
            key = (row.connector, row.workspace, row.channel, row.alias)
            everything[key] += row.totals
            if row.prompt_class <= SMALL_PROMPT and row.completion_class <= SMALL_ANSWER:
                small[key] += row.totals
        found = []
        for key, part in small.items():
            whole = everything[key]
            share = part.requests / whole.requests
            if part.requests < MIN_REQUESTS or share < MIN_SHARE:
                continue
            connector, workspace, channel, alias = key
            options = [
                (cost, other) for other in self._settings.models
                if other != alias and (cost := self._reprice(other, part)) is not None
            ]  # fmt: skip
            if not options:
                continue
            cost, target = min(options)
            saving = part.cost_micros - cost
            if saving < MIN_SAVING_MICROS:
                continue
            found.append(Suggestion(
                "cheaper_model",
                "%(share)s of %(place)s's requests on %(model)s have prompts under 512 tokens "
                "and answers under 256; on %(target)s they would have cost %(saving)s less in "
                "the last 30 days (%(cost)s instead of %(actual)s).",
                {"share": f"{share:.0%}", "place": place_of(connector, workspace, channel),
                 "model": f"`{alias}`", "target": f"`{target}`", "saving": format_usd(saving),
                 "cost": format_usd(cost), "actual": format_usd(part.cost_micros),
                 "requests": f"{part.requests:,}"},
                saving,
                {"share": share, "saving_micros": saving, "cost_micros": cost,
                 "actual_micros": part.cost_micros, "requests": part.requests,
                 "connector": connector, "workspace": workspace, "channel": channel},
            ))  # fmt: skip
        return found

    async def _cache(self, team_id: int, since: datetime, until: datetime) -> list[Suggestion]:
        found = []
        charge = self._settings.cache.charge
        for row in await self._usage.repeats(team_id=team_id, since=since, until=until):
            saving = row.repeated_cost_micros - charge.of(row.repeated_cost_micros)
            if row.repeated < MIN_REQUESTS or saving < MIN_SAVING_MICROS:
                continue
            model = self._settings.models.get(row.alias)
            advice = (
                "a longer cache_ttl_s for it" if model is not None and model.cache_ttl_s
                else "the response cache on (cache_ttl_s)"
            )  # fmt: skip
            found.append(Suggestion(
                "cache",
                "%(repeated)s of %(model)s's %(requests)s requests (%(share)s) repeated an "
                "identical earlier request in the last 30 days; with %(advice)s they would "
                "have cost %(saving)s less.",
                {"repeated": f"{row.repeated:,}", "model": f"`{row.alias}`",
                 "requests": f"{row.requests:,}", "share": f"{row.repeated / row.requests:.0%}",
                 "advice": advice, "saving": format_usd(saving),
                 "distinct": f"{row.distinct_repeated:,}"},
                saving,
                {"repeated": row.repeated, "requests": row.requests,
                 "share": row.repeated / row.requests, "saving_micros": saving,
                 "distinct": row.distinct_repeated},
            ))  # fmt: skip
        return found

    async def _failovers(self, team_id: int, since: datetime, until: datetime) -> list[Suggestion]:
        found = await self._usage.histograms(
            "failover", since=since, until=until, where=UsageFilter(team_id=team_id),
            group_by=("deployment",),
        )  # fmt: skip
        rows = []
        for (deployment,), histogram in found.items():
            routed, failed = histogram.count, histogram.counts.get(1, 0)
            if routed >= MIN_REQUESTS and failed / routed >= FAILOVER_RATE:
                rows.append((failed / routed, str(deployment), failed, routed))
        return [
            Suggestion(
                "failover",
                "%(deployment)s failed over on %(rate)s of the requests first sent to it "
                "(%(failed)s of %(routed)s) in the last 30 days: check its provider's health "
                "and limits, or put a steadier deployment first.",
                {
                    "deployment": f"`{deployment}`",
                    "rate": f"{rate:.1%}",
                    "failed": f"{failed:,}",
                    "routed": f"{routed:,}",
                },
                figures={"rate": rate, "failed": failed, "routed": routed},
            )  # fmt: skip
            for rate, deployment, failed, routed in sorted(rows, reverse=True)
        ]

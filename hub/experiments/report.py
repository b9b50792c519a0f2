"""An experiment's report: each metric per variant with its 95% interval, and whether the
difference from the first variant (the control) is significant.

Metrics, from the usage records the experiment routed (`usage_records.experiment_id`) and the
votes on them (`feedback`):

- feedback: share of 👍 among votes; two-proportion z-test;
- error_rate: share of requests that ended in `error`, `partial` or `interrupted`; the same test;
- latency_ms and ttft_ms: means over answered requests (`ok`); Welch's t-test;
- cost_usd: mean cost per request, every request; Welch's t-test.

A difference is significant at p < 0.05 when each side has at least `MIN_SAMPLE` values; the
report says "not significant yet" otherwise. Several variants are each compared with the
control, without a correction for multiple comparisons (the report says so).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.experiments.plan import Experiment
from hub.experiments.stats import ALPHA, Estimate, Moments, mean, share, two_proportions, welch
from hub.store.ledger_tables import UsageRecord
from hub.store.routing_tables import Feedback

MIN_SAMPLE = 10
ERROR_STATUSES = ("error", "partial", "interrupted")
# metric -> (unit, higher is better)
METRICS: dict[str, tuple[str, bool]] = {
    "feedback": ("👍 share", True),
    "error_rate": ("share", False),
    "latency_ms": ("ms", False),
    "ttft_ms": ("ms", False),
    "cost_usd": ("USD", False),
}


@dataclass(slots=True)
class VariantFigures:
    """What one variant's records add up to."""

    requests: int = 0
    errors: int = 0
    latency: Moments = field(default_factory=Moments)
    ttft: Moments = field(default_factory=Moments)
    cost: Moments = field(default_factory=Moments)
    up: int = 0
    down: int = 0

    def estimates(self) -> dict[str, Estimate]:
        return {
            "feedback": share(self.up, self.up + self.down),
            "error_rate": share(self.errors, self.requests),
            "latency_ms": mean(self.latency),
            "ttft_ms": mean(self.ttft),
            "cost_usd": mean(self.cost, scale=1e-6),
        }


@dataclass(frozen=True, slots=True)
class Comparison:
    metric: str
    control: str
    variant: str
    p_value: float | None
    significant: bool
    better: str | None  # the variant that wins the metric, when significant
    verdict: str


@dataclass(frozen=True, slots=True)
class ExperimentReport:
    experiment: Experiment
    figures: dict[str, VariantFigures]
    comparisons: list[Comparison]

    def as_json(self) -> dict[str, Any]:
        variants = []
        for v in self.experiment.variants:
            figures = self.figures[v.name]
            variants.append(
                {
                    **v.as_json(),
                    "requests": figures.requests,
                    "votes": {"up": figures.up, "down": figures.down},
                    "metrics": {k: _estimate_json(e) for k, e in figures.estimates().items()},
                }
            )
        return {
            "experiment": self.experiment.as_json(),
            "confidence": 1 - ALPHA,
            "variants": variants,
            "comparisons": [
                {
                    "metric": c.metric,
                    "control": c.control,
                    "variant": c.variant,
                    "p_value": c.p_value,
                    "significant": c.significant,
                    "better": c.better,
                    "verdict": c.verdict,
                }
                for c in self.comparisons
            ],
        }


async def build_report(
    sessions: async_sessionmaker[AsyncSession], experiment: Experiment
) -> ExperimentReport:
    figures = {v.name: VariantFigures() for v in experiment.variants}
    async with sessions() as session:
        for row in await session.execute(_usage_query(experiment.id)):
            found = figures.get(row.variant)
            if found is None:
                continue  # a variant no longer in the experiment's definition
            found.requests, found.errors = row.requests, int(row.errors or 0)
            found.latency = Moments(row.answered, int(row.lat or 0), int(row.lat2 or 0))
            found.ttft = Moments(row.timed, int(row.ttft or 0), int(row.ttft2 or 0))
            found.cost = Moments(row.requests, int(row.cost or 0), int(row.cost2 or 0))
        for variant, rating, votes in await session.execute(_votes_query(experiment.id)):
            found = figures.get(variant)
            if found is not None and rating > 0:
                found.up += votes
            elif found is not None:
                found.down += votes
    control = experiment.variants[0].name
    comparisons = [
        _compare(metric, control, other.name, figures[control], figures[other.name])
        for other in experiment.variants[1:]
        for metric in METRICS
    ]
    return ExperimentReport(experiment, figures, comparisons)


def _usage_query(experiment_id: int) -> Any:
    ok = UsageRecord.status == "ok"
    timed = ok & UsageRecord.ttft_ms.is_not(None)
    latency = case((ok, UsageRecord.latency_ms))
    ttft = case((timed, UsageRecord.ttft_ms))
    return (
        select(
            UsageRecord.variant,
            func.count().label("requests"),
            func.sum(case((UsageRecord.status.in_(ERROR_STATUSES), 1), else_=0)).label("errors"),
            func.count(latency).label("answered"),
            func.sum(latency).label("lat"),
            func.sum(latency * latency).label("lat2"),
            func.count(ttft).label("timed"),
            func.sum(ttft).label("ttft"),
            func.sum(ttft * ttft).label("ttft2"),
            func.sum(UsageRecord.cost_micros).label("cost"),
            func.sum(UsageRecord.cost_micros * UsageRecord.cost_micros).label("cost2"),
        )
        .where(UsageRecord.experiment_id == experiment_id)
        .group_by(UsageRecord.variant)
    )


def _votes_query(experiment_id: int) -> Any:
    return (
        select(UsageRecord.variant, Feedback.rating, func.count())
        .join(Feedback, Feedback.usage_id == UsageRecord.id)
        .where(UsageRecord.experiment_id == experiment_id)
        .group_by(UsageRecord.variant, Feedback.rating)
    )


def _compare(
    metric: str, control: str, variant: str, a: VariantFigures, b: VariantFigures
) -> Comparison:
    unit, higher_is_better = METRICS[metric]
    tests: dict[str, Callable[[], tuple[float | None, int, int]]] = {
        "feedback": lambda: (
            two_proportions(a.up, a.up + a.down, b.up, b.up + b.down),
            a.up + a.down,
            b.up + b.down,
        ),
        "error_rate": lambda: (
            two_proportions(a.errors, a.requests, b.errors, b.requests),
            a.requests,
            b.requests,
        ),
        "latency_ms": lambda: (welch(a.latency, b.latency), a.latency.n, b.latency.n),
        "ttft_ms": lambda: (welch(a.ttft, b.ttft), a.ttft.n, b.ttft.n),
        "cost_usd": lambda: (welch(a.cost, b.cost), a.cost.n, b.cost.n),
    }
    p_value, n_a, n_b = tests[metric]()
    ea, eb = a.estimates()[metric], b.estimates()[metric]
    enough = min(n_a, n_b) >= MIN_SAMPLE
    significant = p_value is not None and enough and p_value < ALPHA
    better: str | None = None
    if significant and ea.value is not None and eb.value is not None and ea.value != eb.value:
        b_higher = eb.value > ea.value
        better = variant if b_higher == higher_is_better else control
    shown = f"{control} {_shown(ea, metric)} vs {variant} {_shown(eb, metric)}"
    if better is not None:
        verdict = f"{better} is better ({shown}, p={p_value:.3g}): significant"
    elif not enough:
        verdict = f"not significant yet ({shown}; fewer than {MIN_SAMPLE} on a side)"
    else:
        where = f", p={p_value:.3g}" if p_value is not None else ""
        verdict = f"not significant yet ({shown}{where})"
    return Comparison(metric, control, variant, p_value, significant, better, verdict)


def _shown(estimate: Estimate, metric: str) -> str:
    if estimate.value is None:
        return "n/a"
    if metric in ("feedback", "error_rate"):
        return f"{estimate.value:.0%}"
    if metric == "cost_usd":
        return f"${estimate.value:.6f}"
    return f"{estimate.value:.0f} ms"


def _estimate_json(estimate: Estimate) -> dict[str, Any]:
    interval = estimate.interval
    return {
        "value": estimate.value,
        "low": interval.low if interval else None,
        "high": interval.high if interval else None,
        "n": estimate.n,
    }


def render_text(report: ExperimentReport) -> str:
    """The report as `hub experiment report` prints it."""
    e = report.experiment
    lines = [f"Experiment {e.name} on '{e.alias}' ({e.status}, sticky by {e.sticky})", ""]
    for v in e.variants:
        figures = report.figures[v.name]
        lines.append(
            f"{v.name} = {v.target} ({v.share}%): {figures.requests} requests, "
            f"{figures.up} 👍 / {figures.down} 👎"
        )
        for metric, estimate in figures.estimates().items():
            interval = estimate.interval
            span = ""
            if interval is not None:
                low = Estimate(interval.low, None, 0)
                high = Estimate(interval.high, None, 0)
                span = f"  95% CI {_shown(low, metric)} to {_shown(high, metric)}"
            lines.append(f"  {metric:<11} {_shown(estimate, metric)}{span}  (n={estimate.n})")
    lines.append("")
    for c in report.comparisons:
        lines.append(f"{c.metric}: {c.verdict}")
    if len(e.variants) > 2:
        lines.append("(each variant is compared with the first; no multiple-comparison correction)")
    return "\n".join(lines)

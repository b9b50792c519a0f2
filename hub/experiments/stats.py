"""The statistics an experiment's report rests on: 95% intervals and two-sided tests.

- A share (👍 among votes, errors among requests): the Wilson score interval, and the pooled
  two-proportion z-test between two variants.
- A mean (latency, time to first token, cost): the Student t interval, and Welch's t-test
  (unequal variances) between two variants.

Student's t distribution comes from the regularized incomplete beta function (a continued
fraction, as in Numerical Recipes §6.4): the standard library has the normal distribution but
not t, and this is the only piece the hub needs, so it is written here rather than pulling in
SciPy.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from statistics import NormalDist

CONFIDENCE = 0.95
ALPHA = 1 - CONFIDENCE
_Z = NormalDist().inv_cdf(1 - ALPHA / 2)


@dataclass(frozen=True, slots=True)
class Interval:
    low: float
    high: float


@dataclass(frozen=True, slots=True)
class Estimate:
    """A share or a mean with its 95% interval (None when the sample cannot give one)."""

    value: float | None
    interval: Interval | None
    n: int


def share(successes: int, n: int) -> Estimate:
    """`successes` out of `n`, with the Wilson score interval (sound near 0 and 1)."""
    if n == 0:
        return Estimate(None, None, 0)
    p = successes / n
    centre = (p + _Z**2 / (2 * n)) / (1 + _Z**2 / n)
    half = _Z / (1 + _Z**2 / n) * math.sqrt(p * (1 - p) / n + _Z**2 / (4 * n * n))
    return Estimate(p, Interval(max(0.0, centre - half), min(1.0, centre + half)), n)


@dataclass(frozen=True, slots=True)
class Moments:
    """A sample of integers as count, sum and sum of squares (what SQL aggregates give): the
    mean and variance follow exactly, without holding the values."""

    n: int = 0
    total: int = 0
    squares: int = 0

    @classmethod
    def of(cls, values: Iterable[int]) -> Moments:
        listed = list(values)
        return cls(len(listed), sum(listed), sum(v * v for v in listed))

    @property
    def mean(self) -> float:
        return self.total / self.n

    @property
    def variance(self) -> float:
        """The sample variance (n - 1), computed in integers before the one division."""
        return (self.n * self.squares - self.total * self.total) / (self.n * (self.n - 1))


def mean(sample: Moments, *, scale: float = 1.0) -> Estimate:
    """The mean (times `scale`) with its Student t interval (none from fewer than 2 values)."""
    if sample.n == 0:
        return Estimate(None, None, 0)
    m = sample.mean * scale
    if sample.n == 1:
        return Estimate(m, None, 1)
    half = t_quantile(1 - ALPHA / 2, sample.n - 1) * math.sqrt(sample.variance / sample.n) * scale
    return Estimate(m, Interval(m - half, m + half), sample.n)


def two_proportions(s1: int, n1: int, s2: int, n2: int) -> float | None:
    """Two-sided p-value of the pooled z-test that two shares are equal (None: no data)."""
    if n1 == 0 or n2 == 0:
        return None
    pooled = (s1 + s2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 1.0  # all successes or all failures on both sides: no difference to see
    z = (s1 / n1 - s2 / n2) / se
    return 2 * (1 - NormalDist().cdf(abs(z)))


def welch(a: Moments, b: Moments) -> float | None:
    """Two-sided p-value of Welch's t-test that two means are equal (None: too few values)."""
    if a.n < 2 or b.n < 2:
        return None
    va, vb = a.variance / a.n, b.variance / b.n
    difference = a.mean - b.mean
    if va + vb == 0:
        return 1.0 if difference == 0 else 0.0  # constant samples: equal or plainly not
    t = difference / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (a.n - 1) + vb**2 / (b.n - 1))
    return t_two_sided(t, df)


def t_two_sided(t: float, df: float) -> float:
    """P(|T| >= |t|) for Student's t with `df` degrees of freedom."""
    return _incomplete_beta(df / (df + t * t), df / 2, 0.5)


def t_quantile(p: float, df: float) -> float:
    """The t value below which a share `p` (> 0.5) of Student's t lies, by bisection."""
    target = 2 * (1 - p)  # the two-sided tail at that value
    low, high = 0.0, 1.0
    while t_two_sided(high, df) > target:
        high *= 2
    for _ in range(60):
        middle = (low + high) / 2
        if t_two_sided(middle, df) > target:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def _incomplete_beta(x: float, a: float, b: float) -> float:
    """The regularized incomplete beta function I_x(a, b)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1) / (a + b + 2):
        return front * _beta_fraction(x, a, b) / a
    return 1 - front * _beta_fraction(1 - x, b, a) / b


def _beta_fraction(x: float, a: float, b: float) -> float:
    """The continued fraction of I_x(a, b), by the modified Lentz method."""
    tiny, c, d = 1e-300, 1.0, 1 - (a + b) * x / (a + 1)
    d = 1 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 300):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1 + numerator * d
            d = 1 / (d if abs(d) > tiny else tiny)
            c = 1 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= c * d
        if abs(c * d - 1) < 1e-12:
            break
    return result

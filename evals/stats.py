"""Means with 95% confidence intervals and paired tests between two variants on the same cases:
McNemar's exact test for pass/fail metrics, Wilcoxon's signed-rank test for continuous ones."""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats

ALPHA = 0.05


@dataclass(frozen=True)
class Estimate:
    mean: float
    low: float
    high: float
    n: int


@dataclass(frozen=True)
class Comparison:
    metric: str
    test: str
    a: float
    b: float
    difference: float  # b - a
    p_value: float
    significant: bool
    detail: str


def proportion(values: list[float]) -> Estimate:
    """Share of passes with its Wilson 95% interval."""
    n = len(values)
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    k = round(sum(values))
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    return Estimate(k / n, float(ci.low), float(ci.high), n)


def mean(values: list[float], bounds: tuple[float, float] | None = None) -> Estimate:
    """Mean with a t 95% interval (the mean itself when all values are equal or n < 2), clipped to
    the metric's ``bounds`` when it has some."""
    n = len(values)
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    centre = sum(values) / n
    if n < 2 or len(set(values)) == 1:
        return Estimate(centre, centre, centre, n)
    sem = stats.sem(values)
    half = float(stats.t.ppf(0.975, n - 1) * sem)
    low, high = centre - half, centre + half
    if bounds is not None:
        low, high = max(bounds[0], low), min(bounds[1], high)
    return Estimate(centre, low, high, n)


def mcnemar(a: list[float], b: list[float], metric: str) -> Comparison:
    """Exact McNemar on the discordant pairs (a passed and b failed, or the reverse)."""
    only_a = sum(1 for x, y in zip(a, b, strict=True) if x >= 0.5 > y)
    only_b = sum(1 for x, y in zip(a, b, strict=True) if y >= 0.5 > x)
    discordant = only_a + only_b
    p = 1.0 if discordant == 0 else float(stats.binomtest(only_a, discordant, 0.5).pvalue)
    return Comparison(
        metric,
        "McNemar exact",
        sum(a) / len(a),
        sum(b) / len(b),
        (sum(b) - sum(a)) / len(a),
        p,
        p < ALPHA,
        f"{only_a} cases pass only with A, {only_b} only with B",
    )


def wilcoxon(a: list[float], b: list[float], metric: str) -> Comparison:
    """Wilcoxon signed-rank on the paired differences (p = 1 when every pair is equal)."""
    differences = [y - x for x, y in zip(a, b, strict=True)]
    nonzero = [d for d in differences if d != 0]
    p = 1.0 if not nonzero else float(stats.wilcoxon(a, b, zero_method="wilcox").pvalue)
    return Comparison(
        metric,
        "Wilcoxon signed-rank",
        sum(a) / len(a),
        sum(b) / len(b),
        sum(differences) / len(differences),
        p,
        p < ALPHA,
        f"{len(nonzero)} of {len(differences)} cases differ",
    )

"""Means with 95% confidence intervals and paired tests between two variants on the same cases:
McNemar's exact test for pass/fail metrics, Wilcoxon's signed-rank test for continuous ones (exact,
ties included, up to ``EXACT_UP_TO`` differing pairs), and Holm's correction across the metrics
compared at once."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

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
    significant: bool  # after Holm's correction when compared with other metrics (``adjust``)
    detail: str
    p_adjusted: float | None = None  # Holm's, across the metrics of one report


def adjust(comparisons: list[Comparison]) -> list[Comparison]:
    """The comparisons with Holm-adjusted p-values; significance is judged on those."""
    adjusted = holm([c.p_value for c in comparisons])
    return [replace(c, p_adjusted=p, significant=p < ALPHA) for c, p in zip(comparisons, adjusted, strict=True)]


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


EXACT_UP_TO = 60  # differing pairs: the exact null distribution is cheap up to here


def signed_rank_p(differences: list[float]) -> tuple[float, str]:
    """Two-sided p of Wilcoxon's signed-rank test (zero differences dropped) and how it was computed:
    exactly, from the distribution of the statistic over every assignment of signs to the (mid)ranks,
    which holds with ties; by scipy's normal approximation with its tie correction beyond
    ``EXACT_UP_TO`` pairs."""
    nonzero = [d for d in differences if d != 0]
    n = len(nonzero)
    if n == 0:
        return 1.0, "no pair differs"
    if n > EXACT_UP_TO:
        return float(stats.wilcoxon(nonzero, method="approx").pvalue), "normal approximation"
    doubled = [round(2 * r) for r in stats.rankdata([abs(d) for d in nonzero])]  # midranks, as integers
    total = sum(doubled)
    ways = [1] + [0] * total  # ways[s]: sign assignments whose positive ranks sum to s
    for rank in doubled:
        for s in range(total, rank - 1, -1):
            ways[s] += ways[s - rank]
    observed = sum(r for r, d in zip(doubled, nonzero, strict=True) if d > 0)
    distance = abs(observed - total / 2)
    extreme = sum(w for s, w in enumerate(ways) if abs(s - total / 2) >= distance)
    return min(1.0, extreme / 2**n), "exact"


def holm(p_values: list[float]) -> list[float]:
    """Holm's step-down adjustment: the family-wise error stays at α across all the metrics."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted = [1.0] * len(p_values)
    running = 0.0
    for step, index in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - step) * p_values[index]))
        adjusted[index] = running
    return adjusted


def wilcoxon(a: list[float], b: list[float], metric: str) -> Comparison:
    """Wilcoxon signed-rank on the paired differences (p = 1 when every pair is equal)."""
    differences = [y - x for x, y in zip(a, b, strict=True)]
    nonzero = [d for d in differences if d != 0]
    p, how = signed_rank_p(differences)
    return Comparison(
        metric,
        f"Wilcoxon signed-rank ({how})",
        sum(a) / len(a),
        sum(b) / len(b),
        sum(differences) / len(differences),
        p,
        p < ALPHA,
        f"{len(nonzero)} of {len(differences)} cases differ",
    )

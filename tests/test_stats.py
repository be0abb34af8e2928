"""Statistics you can defend, on constructed data whose p-values are known by hand: the exact
signed-rank test with ties and all-tied differences, Holm's correction, and the online A/B analysis
with users as the units (one user's many votes weigh as one user)."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from evals.online import UserVotes, cluster_interval, render, user_permutation_p
from evals.report import summarise
from evals.stats import holm, signed_rank_p, wilcoxon

pytestmark = pytest.mark.fast


def test_the_signed_rank_test_is_exact_with_ties() -> None:
    # seven pairs, all differing by +1: only "all positive" and "all negative" are as extreme, 2 / 2^7
    assert signed_rank_p([1.0] * 7) == (2 / 128, "exact")
    assert wilcoxon([0.0] * 7, [1.0] * 7, "tokens").p_value == 2 / 128
    # ties among |d| (midranks 1.5, 1.5, 3.5, 3.5, 5, 6) and a zero dropped: 6 of the 64 sign patterns are
    # as extreme as the observed one (only a rank of 1.5 negative) — counted by hand
    assert signed_rank_p([1, 2, 3, -1, 2, 0, 4]) == (6 / 64, "exact")
    # without ties it agrees with scipy's exact test
    sample = [0.5, 1.2, -0.3, 2.2, 1.1, 0.7, -0.9, 1.6]
    assert math.isclose(signed_rank_p(sample)[0], stats.wilcoxon(sample, method="exact").pvalue)
    assert signed_rank_p([0.0, 0.0]) == (1.0, "no pair differs")
    assert signed_rank_p([float(i % 7 + 1) for i in range(80)])[1] == "normal approximation"


def test_holm_adjusts_across_metrics() -> None:
    assert holm([0.01, 0.04, 0.03, 0.2]) == pytest.approx([0.04, 0.09, 0.09, 0.2])
    assert holm([0.5]) == [0.5] and holm([]) == []


def test_a_report_judges_significance_after_holm() -> None:
    """Two metrics that differ at p = 0.03 each alone are not significant together."""
    rows = []
    for case in range(12):
        for variant in ("a", "b"):
            # 6 discordant pass pairs all for b: McNemar p = 2 × 0.5^6 = 0.031
            passes = 1.0 if (variant == "b" and case < 6) or case >= 10 else 0.0
            metrics = {"pass": passes, "tokens_sent": 100.0 + (5.0 if variant == "b" and case < 6 else 0.0)}
            rows.append({"case": f"c{case}", "variant": variant, "metrics": metrics})
    summary = summarise(rows, ["a", "b"])
    compared = {c["metric"]: c for c in summary["comparisons"]}
    assert compared["pass"]["p_value"] == pytest.approx(2 * 0.5**6)
    assert compared["pass"]["p_adjusted"] > 0.05 and not compared["pass"]["significant"]
    assert all(c["p_adjusted"] >= c["p_value"] for c in summary["comparisons"])


def users(prefix: str, votes: list[tuple[int, int]]) -> list[UserVotes]:
    return [UserVotes(f"{prefix}{i}", up + down, up, down) for i, (up, down) in enumerate(votes)]


def test_online_users_are_the_units() -> None:
    # three users like A, three dislike B: 2 of the C(6, 3) = 20 ways to split them are as extreme
    happy, unhappy = users("a", [(1, 0)] * 3), users("b", [(0, 1)] * 3)
    assert user_permutation_p(happy, unhappy) == (2 / 20, "exact")
    # one user's twenty thumbs-down: as votes, Fisher calls it overwhelming; as users, it is one user
    a = users("a", [(1, 0)] * 10)
    b = users("b", [(1, 0)] * 9 + [(0, 20)])
    _, fisher = stats.fisher_exact([[10, 0], [9, 20]])
    assert fisher < 0.001
    p, how = user_permutation_p(a, b)
    assert how == "10000 random splits" and p > 0.4, p  # C(20, 10) splits: sampled
    low, high = cluster_interval(b)
    assert high == 1.0 and high - low > 0.7  # resampling users: the one heavy user makes the rate uncertain


def test_the_online_report_names_silent_variants() -> None:
    rows = [
        {"variant": "baseline", "caller": "ana", "answers": 3, "up": 2, "down": 1},
        {"variant": "baseline", "caller": "bia", "answers": 2, "up": 2, "down": 0},
        {"variant": "brief", "caller": "caio", "answers": 4, "up": 0, "down": 3},
    ]
    text = render(rows, None, ["baseline", "brief", "v1-prompt"])
    assert "no answers at all: v1-prompt" in text
    assert "permutation test over users (exact) p = " in text and "one user = one unit" in text

"""The online A/B report. Users are what the test randomises (each is assigned one variant, sticky),
so a user is one unit of the analysis: each variant's thumbs-up rate comes with a 95% interval from
resampling users (a cluster bootstrap), and two variants are compared by a permutation test that
moves whole users between them — one user's twenty thumbs-down weigh as one user, not twenty
independent votes. Only the votes of an answer's own user count. Variants that got no answers are
named (a weight of 0 gets no traffic)."""

from __future__ import annotations

import asyncio
import itertools
import math
import random
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from server.settings import Settings
from tools.store.db import database_url, open_pool, release_embedded
from tools.store.feedback import votes_by_user
from tools.store.migrate import upgrade

from .stats import ALPHA

EXACT_ARRANGEMENTS = 20_000  # up to this many ways to split the users, every one is counted
DRAWS = 10_000  # beyond: random splits (and bootstrap resamples), seeded


@dataclass(frozen=True)
class UserVotes:
    user: str
    answers: int
    up: int
    down: int


def rate(users: list[UserVotes]) -> float:
    """Thumbs-up share of all the votes of these users (nan without votes)."""
    votes = sum(u.up + u.down for u in users)
    return sum(u.up for u in users) / votes if votes else math.nan


def cluster_interval(users: list[UserVotes], seed: int = 7) -> tuple[float, float]:
    """95% interval of the rate, resampling users with replacement (percentile bootstrap)."""
    rng = random.Random(seed)
    rated = [u for u in users if u.up + u.down]
    if len(rated) < 2:
        return math.nan, math.nan
    samples = sorted(r for r in (rate(rng.choices(rated, k=len(rated))) for _ in range(2000)) if not math.isnan(r))
    return samples[int(0.025 * len(samples))], samples[int(0.975 * len(samples)) - 1]


def user_permutation_p(a: list[UserVotes], b: list[UserVotes], seed: int = 7) -> tuple[float, str]:
    """Two-sided p that the rates differ, moving whole users between the variants: every split when
    there are few, else ``DRAWS`` random ones (p = (hits + 1) / (draws + 1))."""
    rated_a, rated_b = [u for u in a if u.up + u.down], [u for u in b if u.up + u.down]
    everyone = rated_a + rated_b
    observed = abs(rate(rated_a) - rate(rated_b))
    size = len(rated_a)

    def as_extreme(chosen: set[int]) -> bool:
        left = [everyone[i] for i in chosen]
        right = [everyone[i] for i in range(len(everyone)) if i not in chosen]
        return abs(rate(left) - rate(right)) >= observed - 1e-12

    if math.comb(len(everyone), size) <= EXACT_ARRANGEMENTS:
        splits = [set(c) for c in itertools.combinations(range(len(everyone)), size)]
        return sum(map(as_extreme, splits)) / len(splits), "exact"
    rng = random.Random(seed)
    hits = sum(as_extreme(set(rng.sample(range(len(everyone)), size))) for _ in range(DRAWS))
    return (hits + 1) / (DRAWS + 1), f"{DRAWS} random splits"


def by_variant(rows: list[dict[str, Any]]) -> dict[str, list[UserVotes]]:
    out: dict[str, list[UserVotes]] = {}
    for row in rows:
        out.setdefault(row["variant"], []).append(UserVotes(row["caller"], row["answers"], row["up"], row["down"]))
    return out


def render(rows: list[dict[str, Any]], since: datetime | None, configured: list[str] | None = None) -> str:
    variants = by_variant(rows)
    lines = [f"Online feedback{f' since {since.isoformat()}' if since else ''} (one user = one unit)", ""]
    lines += ["variant\tusers\tanswers\tup\tdown\tthumbs-up rate [95% CI, users resampled]"]
    rated = []
    for name, users in variants.items():
        up, down = sum(u.up for u in users), sum(u.down for u in users)
        if up + down:
            low, high = cluster_interval(users)
            shown = f"{rate(users):.1%} [{low:.1%}, {high:.1%}]" if not math.isnan(low) else f"{rate(users):.1%}"
            rated.append(name)
        else:
            shown = "no feedback"
        lines.append(f"{name}\t{len(users)}\t{sum(u.answers for u in users)}\t{up}\t{down}\t{shown}")
    silent = [name for name in configured or [] if name not in variants]
    if silent:
        lines += ["", f"no answers at all: {', '.join(silent)} (a weight of 0 gets no live traffic)"]
    if len(rated) >= 2:
        a, b = rated[0], rated[1]
        p, how = user_permutation_p(variants[a], variants[b])
        verdict = "significant" if p < ALPHA else "not significant"
        lines += ["", f"{b} vs {a}: permutation test over users ({how}) p = {p:.3f} ({verdict} at α = {ALPHA})"]
    else:
        lines += ["", "fewer than two variants have feedback: no comparison"]
    return "\n".join(lines)


async def online_report(settings: Settings, since: datetime | None = None, configured: list[str] | None = None) -> str:
    url = await asyncio.to_thread(database_url, settings.database_url, settings.data_dir / "pg")
    pool = await open_pool(url)
    try:
        await upgrade(pool)
        return render(await votes_by_user(pool, since), since, configured)
    finally:
        await pool.close()
        if not settings.database_url:
            await asyncio.to_thread(release_embedded, settings.data_dir / "pg")

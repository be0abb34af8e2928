"""The online A/B report: thumbs-up rate of each live variant (Wilson 95% interval) and Fisher's
exact test between the first two variants that received feedback."""

from __future__ import annotations

import asyncio
from datetime import datetime

from scipy import stats

from server.settings import Settings
from tools.store.db import database_url, open_pool, release_embedded
from tools.store.feedback import feedback_by_variant
from tools.store.migrate import upgrade

from .stats import ALPHA, proportion


def render(counts: dict[str, dict[str, int]], since: datetime | None) -> str:
    lines = [f"Online feedback{f' since {since.isoformat()}' if since else ''}", ""]
    lines += ["variant\tanswers\tup\tdown\tthumbs-up rate [95% CI]"]
    rated = []
    for variant, c in counts.items():
        votes = c["up"] + c["down"]
        if votes:
            e = proportion([1.0] * c["up"] + [0.0] * c["down"])
            rate = f"{e.mean:.1%} [{e.low:.1%}, {e.high:.1%}]"
            rated.append(variant)
        else:
            rate = "no feedback"
        lines.append(f"{variant}\t{c['answers']}\t{c['up']}\t{c['down']}\t{rate}")
    if len(rated) >= 2:
        a, b = counts[rated[0]], counts[rated[1]]
        _, p = stats.fisher_exact([[a["up"], a["down"]], [b["up"], b["down"]]])
        verdict = "significant" if p < ALPHA else "not significant"
        lines += ["", f"{rated[1]} vs {rated[0]}: Fisher exact p = {p:.4f} ({verdict} at α = {ALPHA})"]
    else:
        lines += ["", "fewer than two variants have feedback: no comparison"]
    return "\n".join(lines)


async def online_report(settings: Settings, since: datetime | None = None) -> str:
    url = await asyncio.to_thread(database_url, settings.database_url, settings.data_dir / "pg")
    pool = await open_pool(url)
    try:
        await upgrade(pool)
        return render(await feedback_by_variant(pool, since), since)
    finally:
        await pool.close()
        if not settings.database_url:
            await asyncio.to_thread(release_embedded, settings.data_dir / "pg")

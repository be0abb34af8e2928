"""Runs measured in an order that cannot favour a variant: first one warm-up run of each variant
(discarded: imports, connection pools, caches are cold for whoever goes first), then case by case,
the variants in an order shuffled per case (seeded, so a report can be reproduced). The outputs are
kept for the evaluators, which judge them per variant afterwards."""

from __future__ import annotations

import random
from collections import defaultdict
from typing import Any

from langsmith.run_helpers import tracing_context

from graph.variants import Variant

from .bench import Bench
from .cases import Case

SEED = 20261207


async def measure(
    bench_: Bench, cases: list[Case], variants: list[Variant], repetitions: int, seed: int = SEED
) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """{(variant, case): [outputs of each repetition]}, every run of the graph done here."""
    rng = random.Random(seed)
    outputs: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    with tracing_context(enabled=False):  # offline: nothing of the graph is sent anywhere
        warm_up = next((c for c in cases if c.query_type != "action"), cases[0])
        for variant in variants:
            await bench_.run(warm_up, variant)
        for _ in range(repetitions):
            for case in cases:
                order = list(variants)
                rng.shuffle(order)
                for variant in order:
                    outputs[(variant.name, case.id)].append(await bench_.run(case, variant))
    return outputs

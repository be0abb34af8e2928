"""Named configurations of a run (a YAML file each, ``evals/variants/``): prompt version, context
budget, ranking policy, answer style, model and the share of live traffic. Offline evaluations
compare them on the same cases; online, each user is assigned one, sticky (sha256, never ``hash()``)."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field

from .context import Context

VARIANTS_DIR = Path(__file__).resolve().parents[1] / "evals" / "variants"


class Variant(BaseModel):
    name: str
    description: str = ""
    prompt_version: str = "v2"
    token_budget: int = Field(3000, ge=100, le=200_000)
    ranking: Literal["ranked", "all"] = "ranked"
    answer_style: Literal["full", "brief"] = "full"
    model: Literal["offline", "configured"] = "offline"  # configured: the LLM the settings name
    weight: int = Field(0, ge=0, le=1000)  # share of live traffic among the active variants

    def apply(self, context: Context) -> Context:
        """The run's context with this variant's knobs."""
        return replace(
            context,
            prompt_version=self.prompt_version,
            token_budget=self.token_budget,
            ranking=self.ranking,
            answer_style=self.answer_style,
            variant=self.name,
        )


def variant_names(folder: Path = VARIANTS_DIR) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.yaml"))


def load_variant(name: str, folder: Path = VARIANTS_DIR) -> Variant:
    path = folder / f"{name}.yaml"
    if not path.is_file():
        raise LookupError(f"no variant {name!r}; known: {', '.join(variant_names(folder))}")
    return Variant(name=name, **(yaml.safe_load(path.read_text(encoding="utf-8")) or {}))


def assign(user: str, variants: list[Variant], salt: str = "resync-ab") -> Variant:
    """The user's variant: a stable hash of the user picks a slot in the weights (same user, same
    variant, in every process). Variants of weight 0 are never assigned unless all are 0."""
    weighted = [v for v in variants if v.weight > 0] or variants[:1]
    total = sum(max(v.weight, 1) for v in weighted)
    slot = int.from_bytes(hashlib.sha256(f"{salt}:{user}".encode()).digest()[:8], "big") % total
    for variant in weighted:
        slot -= max(variant.weight, 1)
        if slot < 0:
            return variant
    return weighted[-1]

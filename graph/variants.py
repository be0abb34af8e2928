"""Named configurations of a run (a YAML file each, ``evals/variants/``): prompt version, context
budget, ranking policy, answer style, model and the share of live traffic. Offline evaluations
compare them on the same cases; online, each user is assigned one, sticky (sha256, never ``hash()``)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import yaml
from pydantic import BaseModel, Field

if TYPE_CHECKING:  # the model and the graph's context load with a run, not with the settings' check
    from langchain_core.language_models import BaseChatModel

    from .context import Context

VARIANTS_DIR = Path(__file__).resolve().parents[1] / "evals" / "variants"


class Variant(BaseModel):
    name: str
    description: str = ""
    prompt_version: str = "v2"
    token_budget: int = Field(3000, ge=100, le=200_000)
    ranking: Literal["ranked", "all"] = "ranked"
    answer_style: Literal["full", "brief"] = "full"
    # configured: the model the settings name (the offline model when none is); offline: always the
    # offline model; any other name: that model, at ``base_url`` or else the configured server
    model: str = Field("configured", min_length=1, max_length=200)
    base_url: str | None = Field(None, description="this variant's OpenAI-compatible server")
    api_key_env: str | None = Field(None, description="the environment variable holding that server's key")
    weight: int = Field(0, ge=0, le=1000)  # share of live traffic among the active variants

    def chat_model(
        self, configured: BaseChatModel, build: Callable[[str | None, str | None, str | None], BaseChatModel]
    ) -> BaseChatModel:
        """The model this variant's runs use: ``configured`` (the settings'), or one ``build`` makes from
        this variant's model name, server and key (None: the settings' own) on the settings' terms."""
        from .models.offline import OfflineChatModel

        if self.model == "offline":
            return OfflineChatModel()
        if self.model == "configured" and self.base_url is None:
            return configured
        key = os.environ.get(self.api_key_env) if self.api_key_env else None
        model = build(None if self.model == "configured" else self.model, self.base_url, key)
        if isinstance(model, OfflineChatModel):
            raise LookupError(f"variant {self.name} names model {self.model!r} but no OpenAI-compatible server")
        return model

    def model_label(self, configured: BaseChatModel) -> str:
        """What answers this variant's runs, for reports."""
        chosen = "offline" if self.model == "offline" else self.model
        if chosen == "configured":
            chosen = getattr(configured, "model_name", None) or type(configured).__name__
        return f"{chosen}{f' at {self.base_url}' if self.base_url else ''}"

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

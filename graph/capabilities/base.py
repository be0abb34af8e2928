"""A capability is one kind of question, declared in one module: what identifies it (signals on the
folded question, and an optional boost from its entities), what it reads (gather branches, its own
or shared ones), how its context is weighed, and how its answer is composed in pt and en. The graph's
nodes read the registry (``graph.capabilities.REGISTRY``); adding a kind is adding a module."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..taxonomy import QueryType

Args = dict[str, Any]
Data = dict[str, list[dict[str, Any]]]  # what each gather branch returned
Phrases = dict[str, dict[str, str]]


@dataclass(frozen=True)
class Branch:
    """One read: a tool and its calls for a question's entities (``(entities, query) -> [args]``)."""

    tool: str
    args: Callable[[dict[str, Any], str], list[Args]]


def per_job(tool: str, extra: Args | None = None, limit: int = 3) -> Branch:
    return Branch(tool, lambda e, q: [{"job_name": job, **(extra or {})} for job in (e.get("jobs") or [])[:limit]])


def plan_wide(tool: str, args: Args) -> Branch:
    """A plan-wide read, made only when no job is named (a named job makes the question that job's)."""
    return Branch(tool, lambda e, q: [] if e.get("jobs") else [args])


def no_boost(entities: dict[str, Any], folded: str) -> float:
    return 0.0


@dataclass(frozen=True)
class Capability:
    kind: QueryType
    signals: tuple[str, ...]  # patterns on the folded question; each hit adds ``weight``
    weight: float
    reads: tuple[str, ...]  # the gather branches it needs (its ``branches`` or the shared ones)
    compose: Callable[[Data, str, dict[str, Any]], list[str]]  # (data, language, meta) -> answer parts
    branches: dict[str, Branch] = field(default_factory=dict)
    weights: dict[str, float] = field(default_factory=dict)  # rank weight per branch (1.0 for its reads)
    boost: Callable[[dict[str, Any], str], float] = no_boost  # extra score from entities
    about_a_job: bool = False  # without a job found, the agent looks for one
    settles: bool = True  # its reads are the whole answer: no agent step when they all came back
    also: tuple[tuple[float, tuple[str, ...]], ...] = ()  # more signals, each group with its own weight
    eval_tag: str = ""  # the evaluation cases' tag for this kind

    def score(self, folded: str, entities: dict[str, Any]) -> float:
        """How strongly the question reads as this kind: each signal that matches adds its weight."""
        total = 0.0
        for weight, patterns in ((self.weight, self.signals), *self.also):
            total += weight * sum(1 for p in patterns if re.search(p, folded))
        return total + self.boost(entities, folded)

    def weight_of(self, branch: str) -> float:
        return self.weights.get(branch, 1.0 if branch in self.reads else 0.3)


def say(phrases: Phrases, key: str, lang: str, **values: Any) -> str:
    return phrases[key][lang].format(**values)

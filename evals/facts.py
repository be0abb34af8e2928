"""Facts a case's answer must (or must not) state, resolved against the scheduler when the case runs:
plans are anchored at the current time, so a fact is a question to the engine ("the return code of
PAYROLL_NIGHTLY's last failed run"), not a constant. Resolved through the scheduler client alone —
never through the tools or the graph under test (``evals.engine_facts``).

A fact is ``{"fact": kind, ...}``; resolving it gives the strings the answer is checked for and how
many of them it must name (``need``). Matching is negation-aware: "it is not held at priority 0"
does not state "priority 0"."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tools.hwa import HWAClient

# a negation shortly before a mention, in the same clause (no sentence or clause break between)
NEGATION = re.compile(
    r"(?:\b(?:not|no|never|nor|without|isn'?t|aren'?t|wasn'?t|doesn'?t|didn'?t|won'?t|não|nao|nem|nunca|sem|"
    r"nenhum|nenhuma)\b|n't\b)[^.;:!?\n]{0,40}$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Expectation:
    """The answer passes when it names at least ``need`` of ``any_of`` (case-insensitive words);
    ``approval`` facts look at the run's pending approval instead."""

    label: str
    any_of: tuple[str, ...] = ()
    need: int = 1
    approval: bool | None = None  # True: an approval must be pending; False: none may be
    claim: bool = False  # a statement (a status, a reason, a phrase), not a name: a negated one is not stated

    def met(self, answer: str, pending_approval: str | None) -> bool:
        if self.approval is not None:
            return (pending_approval is not None) == self.approval
        return sum(1 for value in self.any_of if mentions(answer, value, self.claim)) >= self.need

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "any_of": list(self.any_of),
            "need": self.need,
            "approval": self.approval,
            "claim": self.claim,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Expectation:
        return cls(data["label"], tuple(data["any_of"]), data["need"], data["approval"], data.get("claim", False))


def mentions(answer: str, value: str, negatable: bool = False) -> bool:
    """``value`` occurs as a word in ``answer`` (when ``negatable``: at least once without a negation
    just before it in the same clause)."""
    pattern = rf"(?<![A-Za-z0-9_]){re.escape(value)}(?![A-Za-z0-9_])"
    found = list(re.finditer(pattern, answer, re.IGNORECASE))
    if not negatable:
        return bool(found)
    return any(not NEGATION.search(answer[: match.start()]) for match in found)


async def resolve(client: HWAClient, spec: dict[str, Any]) -> Expectation:
    """The expectation a fact spec stands for, on the scheduler's current state."""
    from .engine_facts import RESOLVERS, World

    kind = spec["fact"]
    if kind == "mention":
        words = tuple(spec.get("any_of") or [spec["text"]])
        return Expectation(f"mentions {' / '.join(words)}", words, claim=True)
    if kind == "job":
        return Expectation(f"names {spec['job']}", (spec["job"],))
    if kind == "approval_pending":
        return Expectation("asks for approval", approval=True)
    if kind == "no_approval":
        return Expectation("asks for no approval", approval=False)
    if kind not in RESOLVERS:
        raise ValueError(f"unknown fact kind {kind!r}")
    return await RESOLVERS[kind](World(client), spec)


async def resolve_all(client: HWAClient, specs: list[dict[str, Any]]) -> list[Expectation]:
    return [await resolve(client, spec) for spec in specs]

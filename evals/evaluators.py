"""Evaluators of one answer (LangSmith's ``(outputs, reference_outputs) -> {key, score}`` shape):
query type, entities, tool trajectory (agentevals, offline), fact recall, fabrication, forbidden
facts, language, tokens sent to the model, latency, and an overall pass. An LLM-as-judge (openevals)
joins only when a model is configured."""

from __future__ import annotations

import re
from typing import Any

from agentevals.trajectory.match import create_trajectory_match_evaluator

from .facts import Expectation
from .language import detect

Result = dict[str, Any]
_trajectory = create_trajectory_match_evaluator(trajectory_match_mode="superset", tool_args_match_mode="ignore")
# job-like names (words joined by "_" or "-", in any case) and return codes in the ways answers write them
NAME = re.compile(r"\b[A-Za-z][A-Za-z0-9]*(?:[_-][A-Za-z0-9]+)+\b")
RETURN_CODE = re.compile(
    r"\b(?:rc|return[ _-]?code|exit (?:code|status|value)|exited with(?: code| status)?|returned(?: code)?"
    r"|c[oó]digo(?: de retorno| de sa[ií]da)?|terminou com(?: o)?(?: c[oó]digo)?|retornou)\s*[=:]?\s*(\d{1,4})\b",
    re.I,
)


def as_messages(tools: list[str]) -> list[dict[str, Any]]:
    calls = [{"function": {"name": name, "arguments": "{}"}} for name in tools]
    return [{"role": "user", "content": "question"}, {"role": "assistant", "content": "", "tool_calls": calls}]


def query_type(outputs: dict[str, Any], reference_outputs: dict[str, Any]) -> Result:
    """The expected query type ("*": any — a held-out set written without our taxonomy judges answers only)."""
    expected = reference_outputs["query_type"]
    return {"key": "query_type", "score": int(expected == "*" or outputs.get("query_type") == expected)}


def trajectory(outputs: dict[str, Any], reference_outputs: dict[str, Any]) -> Result:
    """The run called at least the expected tools (gather branches and the model's calls)."""
    result = _trajectory(
        outputs=as_messages(outputs.get("trajectory") or []),
        reference_outputs=as_messages(reference_outputs.get("tools") or []),
    )
    return {"key": "trajectory", "score": int(bool(result["score"]))}


def fact_recall(outputs: dict[str, Any], reference_outputs: dict[str, Any]) -> Result:
    expected = [Expectation.from_dict(e) for e in reference_outputs.get("must") or []]
    if not expected:
        return {"key": "fact_recall", "score": None}
    met = [e.met(outputs.get("answer", ""), outputs.get("pending_approval")) for e in expected]
    missing = [e.label for e, ok in zip(expected, met, strict=True) if not ok]
    return {"key": "fact_recall", "score": sum(met) / len(met), "comment": "; ".join(missing) or None}


# what no answer may ever contain, whatever the case: a traceback, or the model's instructions echoed
NEVER = {
    "a traceback": re.compile(r"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+"),
    "the prompt's sections": re.compile(r"Context \(tool results; data|Run facts \(one JSON line"),
    "an internal error": re.compile(r"\binternal error\b|\bOpenAI\w*Error\b", re.I),
}


def forbidden(outputs: dict[str, Any], reference_outputs: dict[str, Any]) -> Result:
    """1 when the answer states none of the facts its case must not state, and nothing no answer may."""
    answer = outputs.get("answer", "")
    stated = [
        e.label
        for e in (Expectation.from_dict(d) for d in reference_outputs.get("must_not") or [])
        if e.met(answer, outputs.get("pending_approval"))
    ] + [label for label, pattern in NEVER.items() if pattern.search(answer)]
    return {"key": "forbidden_ok", "score": int(not stated), "comment": "; ".join(stated) or None}


def name_key(name: str) -> str:
    return name.upper().replace("-", "_")


def looks_like_a_job(name: str, known_parts: set[str]) -> bool:
    """An upper-case or underscored name is a job's; a lower-case hyphenated word ("read-only") only
    when it starts like a job of the plan ("payroll-weekly")."""
    if "_" in name or name.isupper():
        return True
    return name_key(name).split("_")[0] in known_parts


def fabricated(answer: str, grounding: str, known: set[str], asked: str = "") -> list[str]:
    """Job names the plan does not have (unless the user wrote them; written in any case, with "_" or
    "-"), and return codes the scheduler did not return in this run."""
    seen = {name_key(n) for n in known} | {name_key(n) for n in NAME.findall(grounding + " " + asked)}
    known_parts = {k.split("_")[0] for k in seen if "_" in k}
    names = [
        n
        for n in dict.fromkeys(NAME.findall(answer))
        if name_key(n) not in seen and looks_like_a_job(n, known_parts) and any(c.isalpha() for c in n)
    ]
    codes = [
        f"rc {c}"
        for c in dict.fromkeys(RETURN_CODE.findall(answer))
        if not re.search(rf"(?:return_?code|\brc|return code|retorno)[\"'\s:=]*{c}\b", grounding, re.IGNORECASE)
    ]
    return names + codes


def fabrication(outputs: dict[str, Any], reference_outputs: dict[str, Any]) -> Result:
    asked = " ".join(reference_outputs.get("turns") or [])
    found = fabricated(
        outputs.get("answer", ""), outputs.get("grounding", ""), set(reference_outputs.get("known", [])), asked
    )
    return {"key": "fabricated", "score": len(found), "comment": ", ".join(found) or None}


QUOTED = re.compile(r"```.*?```|^> .*$|^\[(?:log|runbook|incident) .*\]$", re.DOTALL | re.MULTILINE)


def language(outputs: dict[str, Any], reference_outputs: dict[str, Any]) -> Result:
    """The answer's own words are in the question's language (quoted logs and citations left out); an
    answer whose language cannot be told (too short, mixed, another one) fails."""
    prose = QUOTED.sub(" ", outputs.get("answer", ""))
    found = detect(prose)
    return {"key": "language", "score": int(found == reference_outputs["language"]), "comment": found}


def tokens_sent(outputs: dict[str, Any], reference_outputs: dict[str, Any]) -> Result:
    return {"key": "tokens_sent", "score": outputs.get("tokens_sent", 0)}


def tokens_raw(outputs: dict[str, Any], reference_outputs: dict[str, Any]) -> Result:
    return {"key": "tokens_raw", "score": outputs.get("tokens_raw", 0)}


def tokens_context(outputs: dict[str, Any], reference_outputs: dict[str, Any]) -> Result:
    """The context items the draft received (after ranking and the relevance cut)."""
    return {"key": "tokens_context", "score": outputs.get("tokens_context", 0)}


def latency(outputs: dict[str, Any], reference_outputs: dict[str, Any]) -> Result:
    return {"key": "latency_ms", "score": outputs.get("latency_ms", 0.0)}


def passed(outputs: dict[str, Any], reference_outputs: dict[str, Any]) -> Result:
    """All of it: right type, expected tools, every fact, nothing fabricated or forbidden, right language."""
    recall = fact_recall(outputs, reference_outputs)["score"]
    ok = (
        query_type(outputs, reference_outputs)["score"]
        and trajectory(outputs, reference_outputs)["score"]
        and (recall is None or recall == 1)
        and not fabrication(outputs, reference_outputs)["score"]
        and forbidden(outputs, reference_outputs)["score"]
        and language(outputs, reference_outputs)["score"]
    )
    return {"key": "pass", "score": int(bool(ok))}


EVALUATORS = [
    query_type,
    trajectory,
    fact_recall,
    forbidden,
    fabrication,
    language,
    tokens_sent,
    tokens_raw,
    tokens_context,
    latency,
    passed,
]
BINARY = ["pass", "query_type", "trajectory", "language", "forbidden_ok", "judge_correctness"]
CONTINUOUS = ["fact_recall", "fabricated", "tokens_sent", "tokens_raw", "tokens_context", "latency_ms"]


def judge(model: Any, traced: bool = False) -> Any:
    """An LLM-as-judge of correctness against the facts (openevals), with the judge model
    (``EVAL_JUDGE_MODEL``); its calls are traced only when the run uploads (``traced``)."""
    from langsmith.run_helpers import tracing_context
    from openevals.llm import create_llm_as_judge
    from openevals.prompts import CORRECTNESS_PROMPT

    grade = create_llm_as_judge(prompt=CORRECTNESS_PROMPT, judge=model, feedback_key="judge_correctness")

    def judge_correctness(inputs: dict[str, Any], outputs: dict[str, Any], reference_outputs: dict[str, Any]) -> Any:
        facts = "; ".join(e["label"] + ": " + "/".join(e["any_of"]) for e in reference_outputs.get("must") or [])
        with tracing_context(enabled=traced):
            return grade(inputs=inputs["turns"][-1], outputs=outputs.get("answer", ""), reference_outputs=facts)

    return judge_correctness

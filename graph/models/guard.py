"""Every model failure is an answer. A call to the chat model runs inside the turn's model budget
(``LLM_TIMEOUT_SECONDS`` for all the turn's model calls, not per attempt), is retried once when the
server says it is busy or failing (honouring ``Retry-After`` when it fits the budget), and its reply
is checked before it is used: an empty reply, a refusal, a reply that repeats its instructions or a
stream cut before its end are failures too. ``ModelUnavailable`` names the kind; the nodes then
compose the answer from the facts already gathered (the offline model) with one line saying so."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, SystemMessage
from langchain_core.runnables import Runnable
from prometheus_client import Counter

from ..facts import CONTEXT_HEADER, FACTS_HEADER, NOTES_HEADER
from .offline import OfflineChatModel

log = logging.getLogger(__name__)

FailureKind = Literal[
    "timeout",  # no reply within the budget
    "rate_limited",  # 429, still busy after the retry (or its Retry-After beyond the budget)
    "server_error",  # 5xx
    "unreachable",  # connection refused or reset
    "rejected",  # another 4xx: a wrong model name, key or request
    "malformed",  # a reply that is not the protocol's JSON
    "cut_stream",  # the reply stopped before its end
    "too_long",  # the reply ran into LLM_MAX_TOKENS (a runaway, often repeating itself)
    "empty",  # no usable text
    "refusal",  # "I'm sorry, I can't help with that"
    "echo",  # the reply repeats its instructions
]
MODEL_FAILURES = Counter(
    "resync_model_failures_total", "Chat model calls that gave no usable answer", ["kind", "phase"]
)
RETRIED = frozenset({"rate_limited", "server_error", "unreachable"})


@dataclass(frozen=True)
class ModelFailure:
    kind: FailureKind
    detail: str  # for the log and the facts; never a traceback

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "detail": self.detail}


class ModelUnavailable(Exception):
    """The model gave no usable answer within the budget."""

    def __init__(self, failure: ModelFailure) -> None:
        super().__init__(f"{failure.kind}: {failure.detail}")
        self.failure = failure


def failure_of(exc: BaseException) -> ModelFailure:
    """The kind of an exception raised by a model client (openai's, httpx's, a parser's)."""
    status = getattr(exc, "status_code", None) or getattr(getattr(exc, "response", None), "status_code", None)
    name = type(exc).__name__
    text = f"{name}: {str(exc)[:160]}"
    if isinstance(exc, TimeoutError) or "Timeout" in name:
        return ModelFailure("timeout", text)
    if isinstance(status, int):
        if status == 429:
            return ModelFailure("rate_limited", f"HTTP 429 {str(exc)[:120]}")
        if status >= 500:
            return ModelFailure("server_error", f"HTTP {status} {str(exc)[:120]}")
        return ModelFailure("rejected", f"HTTP {status} {str(exc)[:120]}")
    if "RemoteProtocol" in name or "incomplete" in str(exc).lower() or "peer closed" in str(exc).lower():
        return ModelFailure("cut_stream", text)
    if "Connection" in name or isinstance(exc, ConnectionError | OSError):
        return ModelFailure("unreachable", text)
    return ModelFailure("malformed", text)  # a body that is not the protocol's, a parser's error, anything else


def retry_after(exc: BaseException) -> float:
    """Seconds the server asked to wait (``Retry-After``), else a short pause."""
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    value = headers.get("retry-after") if hasattr(headers, "get") else None
    try:
        return max(0.0, float(value)) if value is not None else 0.5
    except ValueError:
        return 0.5


REFUSAL = re.compile(
    r"^\W*(i'?m sorry|i am sorry|sorry,|i can(?:no|')t (?:help|assist|do|answer)|i am unable|i'm unable|as an ai\b"
    r"|desculpe|lamento|não posso (?:ajudar|responder|fazer))",
    re.IGNORECASE,
)
WORD = re.compile(r"\w+", re.UNICODE)


def instructions_of(messages: Sequence[BaseMessage]) -> str:
    """The prompt part of the system message (before the context and facts)."""
    for message in messages:
        if isinstance(message, SystemMessage):
            return str(message.content).split(CONTEXT_HEADER, 1)[0]
    return ""


def shingles(text: str, size: int = 6) -> set[tuple[str, ...]]:
    words = [w.lower() for w in WORD.findall(text)]
    return {tuple(words[i : i + size]) for i in range(max(0, len(words) - size + 1))}


def unusable(
    reply: AIMessage, messages: Sequence[BaseMessage], *, from_server: bool, an_answer: bool
) -> ModelFailure | None:
    """Why a reply cannot be used, or None: cut before its end (its tool calls may be partial too);
    when it is to be the answer (``an_answer``), also empty, an echo of the prompt or a refusal."""
    finish = reply.response_metadata.get("finish_reason")
    if from_server and not finish:
        return ModelFailure("cut_stream", "the reply ended without a finish reason")
    if finish == "length":
        return ModelFailure("too_long", "the reply reached the token limit")
    if not an_answer:  # the agent step: no tool calls and no text means nothing to call
        return None
    text = reply.text if isinstance(reply.text, str) else str(reply.content)
    words = WORD.findall(text)
    if len(words) < 2:
        return ModelFailure("empty", f"{len(text)} characters")
    if any(header in text for header in (CONTEXT_HEADER, FACTS_HEADER, NOTES_HEADER)):
        return ModelFailure("echo", "the reply contains the prompt's section headers")
    said = shingles(text)
    if said and len(said & shingles(instructions_of(messages))) / len(said) >= 0.4:
        return ModelFailure("echo", "the reply repeats the system prompt")
    if REFUSAL.match(text) and len(words) < 60:
        return ModelFailure("refusal", text[:120])
    return None


def underlying(model: Any) -> Any:
    """The chat model inside bindings (``bind_tools``, ``with_config``)."""
    while hasattr(model, "bound"):
        model = model.bound
    return model


def from_a_server(model: Any) -> bool:
    """Replies of an OpenAI-compatible server carry a finish reason; local models may not."""
    return type(underlying(model)).__module__.startswith("langchain_openai")


async def ask(
    model: BaseChatModel | Runnable[Any, Any],
    messages: Sequence[BaseMessage],
    *,
    budget_seconds: float,
    phase: str,
) -> AIMessage:
    """One model reply within ``budget_seconds``, retried once for a busy or failing server (``phase``:
    ``agent`` decides tool calls, ``draft`` writes the answer and has its text checked); raises
    ``ModelUnavailable`` with the kind of the failure, counted in ``resync_model_failures_total``."""
    deadline = time.monotonic() + budget_seconds
    attempt = 0
    while True:
        attempt += 1
        remaining = deadline - time.monotonic()
        try:
            if remaining <= 0:
                raise TimeoutError("the turn's model budget is spent")
            async with asyncio.timeout(remaining):
                reply = await model.ainvoke(list(messages))
            if not isinstance(reply, AIMessage):
                raise TypeError(f"the model returned {type(reply).__name__}")
            if isinstance(underlying(model), OfflineChatModel):  # ours: composed from the facts
                return reply
            failure = unusable(reply, messages, from_server=from_a_server(model), an_answer=phase == "draft")
            if failure is None:
                return reply
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # every failure of the model client is classified, never raised as is
            failure = failure_of(exc)
            wait = retry_after(exc)
            if attempt == 1 and failure.kind in RETRIED and wait < deadline - time.monotonic() - 0.5:
                log.info("model %s (%s): retrying in %.1f s", failure.kind, phase, wait)
                await asyncio.sleep(wait)
                continue
        MODEL_FAILURES.labels(failure.kind, phase).inc()
        log.warning("the model gave no usable answer (%s, %s): %s", phase, failure.kind, failure.detail)
        raise ModelUnavailable(failure)

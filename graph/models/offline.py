"""The offline model: a real ``BaseChatModel`` that runs with no network. It reads the run's
metadata (query type, entities, ranked context) that the agent and draft nodes attach to the system
message, emits tool calls for actions, and writes answers from templates in Portuguese or English.
Token counts are estimates (characters / 4), labelled as such."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, SystemMessage, ToolMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool

from tools.actions import REQUEST_TOOLS
from tools.language import estimate_tokens

from ..facts import parse_system_text
from .answers import render

STREAM_WIDE = {"hold": "not_started", "release": "held"}  # the stream's jobs a stream-wide request acts on


def stream_targets(context: list[dict[str, Any]], streams: list[str], action: str) -> list[str]:
    """The jobs a stream-wide request acts on: a hold, the stream's jobs that have not started; a
    release, those an operator held (from its state); otherwise its jobs whose failure is not
    recovered (from the failed runs)."""
    if action in STREAM_WIDE:
        return [
            name
            for item in context
            if item.get("branch") == "stream_jobs" and (item.get("data") or {}).get("stream") in streams
            for name in (item.get("data") or {}).get(STREAM_WIDE[action], [])
        ]
    runs = [
        run
        for item in context
        if item.get("branch") == "stream_failed"
        for run in (item.get("data") or {}).get("jobs", [])
    ]
    return list(dict.fromkeys(r["job"] for r in runs if r.get("job_stream") in streams and r.get("still_failed")))


def run_metadata(messages: Sequence[BaseMessage]) -> dict[str, Any]:
    """What the prompt says (the same text a real model reads), parsed back: facts and context."""
    for message in messages:
        if isinstance(message, SystemMessage):
            facts, items = parse_system_text(str(message.content))
            if facts is not None:
                return {**facts, "context": items}
    return {}


class OfflineChatModel(BaseChatModel):
    """Deterministic rules for tool choice, templates for answers."""

    model_name: str = "resync-offline"

    @property
    def _llm_type(self) -> str:
        return "resync-offline"

    def bind_tools(
        self, tools: Sequence[dict[str, Any] | type | BaseTool | Any], **kwargs: Any
    ) -> Runnable[LanguageModelInput, AIMessage]:
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], **kwargs)

    def _respond(self, messages: Sequence[BaseMessage], tools: list[dict[str, Any]] | None) -> AIMessage:
        meta = run_metadata(messages)
        prompt_tokens = sum(estimate_tokens(str(m.content)) for m in messages)
        if meta.get("phase") == "agent":
            message = self._choose_tools(meta, messages, {t["function"]["name"] for t in tools or []})
        else:
            from ..capabilities import REGISTRY  # the capabilities compose with this package's answers

            kind = meta.get("query_type", "other")
            capability = REGISTRY.get(kind)
            text = render(
                kind,
                meta.get("language", "en"),
                meta.get("context", []),
                meta,
                capability.compose if capability else None,
            )
            message = AIMessage(content=text)
        output = estimate_tokens(str(message.content)) + 20 * len(message.tool_calls)
        message.usage_metadata = UsageMetadata(
            input_tokens=prompt_tokens, output_tokens=output, total_tokens=prompt_tokens + output
        )
        message.response_metadata = {"model_name": self.model_name, "token_usage_estimated": True}
        return message

    def _choose_tools(self, meta: dict[str, Any], messages: Sequence[BaseMessage], available: set[str]) -> AIMessage:
        """Actions become a write-tool call (once per turn); everything else was gathered already."""
        if meta.get("query_type") != "action" or any(isinstance(m, ToolMessage) for m in messages[-3:]):
            return AIMessage(content="")
        entities = meta.get("entities", {})
        action, jobs = entities.get("action"), entities.get("jobs") or []
        if action and not jobs and entities.get("job_streams"):  # the stream's jobs that are still failed
            jobs = stream_targets(meta.get("context", []), entities["job_streams"], action)
            calls = [self._call(action, job, {}, meta) for job in jobs[:10]]
            calls = [c for c in calls if c["name"] in available]
            if calls:
                return AIMessage(content="", tool_calls=calls)
        if not action or not jobs or jobs[0] in (entities.get("inferred") or {}).values():
            return AIMessage(content="")  # nothing to act on, or a name only inferred: ask first
        call = self._call(action, jobs[0], entities, meta)
        if call["name"] not in available:
            return AIMessage(content="")
        return AIMessage(content="", tool_calls=[call])

    @staticmethod
    def _call(action: str, job: str, entities: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
        name = REQUEST_TOOLS[action]
        query = meta.get("query", "").lower()
        if action == "release" and re.search(r"depend", query):
            name = "release_job_dependencies"
        args: dict[str, Any] = {"job_name": job}
        if entities.get("workstations"):
            args["workstation"] = entities["workstations"][0]
        if name == "confirm_job":
            args["result"] = "abend" if re.search(r"\babend\b", query) and "succ" not in query else "succ"
        return {"name": name, "args": args, "id": f"call_{uuid.uuid4().hex[:12]}", "type": "tool_call"}

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self._respond(messages, kwargs.get("tools")))])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        """On the event loop: the default sends ``_generate`` to a thread."""
        return self._generate(messages, stop, **kwargs)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        for chunk in chunks_of(self._respond(messages, kwargs.get("tools"))):
            if run_manager:
                run_manager.on_llm_new_token(str(chunk.message.content), chunk=chunk)
            yield chunk

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        """The same chunks on the event loop (the default hops to a thread for every chunk: ~90 a turn)."""
        for chunk in chunks_of(self._respond(messages, kwargs.get("tools"))):
            if run_manager:
                await run_manager.on_llm_new_token(str(chunk.message.content), chunk=chunk)
            yield chunk


def chunks_of(message: AIMessage) -> Iterator[ChatGenerationChunk]:
    """A reply as a model streams it: its tool calls in one chunk, or its text word by word (the
    usage on the last)."""
    if message.tool_calls:
        chunk = AIMessageChunk(
            content="",
            tool_call_chunks=[
                {
                    "name": c["name"],
                    "args": json.dumps(c["args"]),
                    "id": c["id"],
                    "index": i,
                    "type": "tool_call_chunk",
                }
                for i, c in enumerate(message.tool_calls)
            ],
            usage_metadata=message.usage_metadata,
            response_metadata=message.response_metadata,
        )
        yield ChatGenerationChunk(message=chunk)
        return
    words = re.findall(r"\S+\s*|\s+", str(message.content)) or [""]
    for i, word in enumerate(words):
        last = i == len(words) - 1
        chunk = AIMessageChunk(
            content=word,
            usage_metadata=message.usage_metadata if last else None,
            response_metadata=message.response_metadata if last else {},
        )
        yield ChatGenerationChunk(message=chunk)

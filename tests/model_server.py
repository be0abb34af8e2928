"""A scripted OpenAI-compatible chat server on a real socket: each request takes the next behaviour
from ``script`` (``ok`` when it is empty) — a good answer, or one of the ways real model servers
fail: HTTP 500, 429 with a Retry-After, a reply too slow for the budget, a body that is not JSON, a
stream cut mid-answer, an empty or refusing reply, the system prompt echoed back, tool calls with
arguments that are not JSON, a write tool called for a question."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse


@dataclass
class Script:
    """What the next requests do, in order, and every request body received."""

    steps: list[str] = field(default_factory=list)
    seen: list[dict[str, Any]] = field(default_factory=list)
    slow_seconds: float = 5.0

    def next(self) -> str:
        return self.steps.pop(0) if self.steps else "ok"


def good_reply(body: dict[str, Any]) -> tuple[str | None, list[dict[str, Any]]]:
    """A well-behaved model: a status read when it may call tools, else an answer from the context."""
    messages = body["messages"]
    tools = {t["function"]["name"] for t in body.get("tools", [])}
    if "get_job_status" in tools and not any(m["role"] == "tool" for m in messages):
        return None, [call("get_job_status", json.dumps({"job_name": "PAYROLL_NIGHTLY"}))]
    if tools:
        return "", []
    status = "ABEND" if '"status": "ABEND"' in messages[0]["content"] else "unknown"
    return f"Stub model: PAYROLL_NIGHTLY is {status} [log PAYROLL_NIGHTLY].", []


def call(name: str, arguments: str) -> dict[str, Any]:
    return {
        "id": f"call_{uuid.uuid4().hex[:8]}",
        "type": "function",
        "function": {"name": name, "arguments": arguments},
    }


def scripted_reply(step: str, body: dict[str, Any]) -> tuple[str | None, list[dict[str, Any]]]:
    system = body["messages"][0]["content"]
    if step == "echo":
        return system[:1500], []
    if step == "refusal":
        return "I'm sorry, but I can't help with that request.", []
    if step == "empty":
        return "", []
    if step == "bad_args":
        return None, [call("get_job_status", '{"job_name": PAYROLL_NIGHTLY}')]  # not JSON: a bare word
    if step == "agent_text":  # answers in words although it may call tools
        return "PAYROLL_NIGHTLY ended ABEND; its deadline is at risk [log PAYROLL_NIGHTLY].", []
    if step == "write_tool":
        return None, [call("cancel_job", json.dumps({"job_name": "PAYROLL_NIGHTLY"}))]
    return good_reply(body)


def model_app(script: Script) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def completions(request: Request) -> Response:
        body = await request.json()
        script.seen.append(body)
        step = script.next()
        if step == "500":
            return JSONResponse({"error": {"message": "upstream crashed", "type": "server_error"}}, status_code=500)
        if step.startswith("429"):
            wait = step.partition(":")[2] or "1"
            return JSONResponse(
                {"error": {"message": "rate limited", "type": "rate_limit"}},
                status_code=429,
                headers={"retry-after": wait},
            )
        if step == "slow":
            await asyncio.sleep(script.slow_seconds)
        if step == "malformed":
            return PlainTextResponse("<html>502 bad gateway</html>", media_type="application/json")
        content, calls = scripted_reply(step, body)
        base = {"id": f"chatcmpl-{uuid.uuid4().hex[:8]}", "created": int(time.time()), "model": body["model"]}
        usage = {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}
        finish = "tool_calls" if calls else "stop"
        if not body.get("stream"):
            message = {"role": "assistant", "content": content, **({"tool_calls": calls} if calls else {})}
            choice = {"index": 0, "message": message, "finish_reason": finish}
            return JSONResponse({**base, "object": "chat.completion", "choices": [choice], "usage": usage})
        return StreamingResponse(
            events(base, content, calls, finish, usage, cut=step == "cut"), media_type="text/event-stream"
        )

    return app


async def events(
    base: dict[str, Any],
    content: str | None,
    calls: list[dict[str, Any]],
    finish: str,
    usage: dict[str, Any],
    cut: bool,
) -> AsyncIterator[str]:
    def chunk(delta: dict[str, Any], reason: str | None = None) -> str:
        choice = {"index": 0, "delta": delta, "finish_reason": reason}
        return f"data: {json.dumps({**base, 'object': 'chat.completion.chunk', 'choices': [choice]})}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    if calls:
        yield chunk({"tool_calls": [{"index": i, **c} for i, c in enumerate(calls)]})
    else:
        words = (content or "").split(" ")
        for word in words[: len(words) // 2] if cut else words:
            yield chunk({"content": word + " "})
            await asyncio.sleep(0)
        if cut:  # the server goes away mid-answer: no finish reason, no [DONE]
            return
    yield chunk({}, finish)
    yield f"data: {json.dumps({**base, 'object': 'chat.completion.chunk', 'choices': [], 'usage': usage})}\n\n"
    yield "data: [DONE]\n\n"

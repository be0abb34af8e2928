"""Notifications received by a local receiver on loopback: severities routed per channel, Slack and
Teams in their own formats, one message per root failure carrying its cascade, nothing twice, a failed delivery
tried again, a healthy pass sends nothing, the digest once a day."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI, Request, Response

from hwasim import SimConfig, build_plan, create_app
from tests.live import LiveServer
from tests.test_watch import watcher_on
from tools.services.notify import Channel, Notifier, Smtp
from tools.store.investigations import Investigation, InvestigationStore


@pytest.fixture
def receiver() -> Iterator[tuple[str, dict[str, list[dict[str, Any]]], dict[str, int]]]:
    got: dict[str, list[dict[str, Any]]] = {"webhook": [], "slack": [], "teams": []}
    failing = {"teams": 1}  # Teams answers 503 once

    app = FastAPI()

    @app.post("/{kind}")
    async def take(kind: str, request: Request) -> Response:
        if failing.get(kind, 0) > 0:
            failing[kind] -= 1
            return Response(status_code=503)
        got[kind].append(await request.json())
        return Response(status_code=200)

    with LiveServer(app) as server:
        yield server.url, got, failing


async def test_notifications_routed_once_one_message_per_root(receiver: Any, pool: Any) -> None:
    url, got, failing = receiver
    channels = [
        Channel("webhook", f"{url}/webhook", "low"),
        Channel("slack", f"{url}/slack", "high"),
        Channel("teams", f"{url}/teams", "critical"),
    ]
    notifier = Notifier(pool, channels)
    plan = build_plan(7, 600, days=3, failure_rate=0.1)
    with LiveServer(create_app(SimConfig(jobs=600, seed=7, clock="manual"), plan)) as sim:
        watcher, _ = await watcher_on(sim.url, pool)
        report = await watcher.tick()
        await notifier.notify()
        assert (await watcher.tick()).investigated == 0  # nothing new: nothing more sent
        await notifier.notify()
        await watcher.client.aclose()
    records = report.records
    roots = {r.root_run_id or r.run_id for r in records}
    carried = [m["investigation"]["run_id"] for m in got["webhook"]]
    carried += [c["run_id"] for m in got["webhook"] for c in m.get("cascade", [])]
    assert sorted(carried) == sorted(r.run_id for r in records)  # every severity to the webhook, once each
    assert len(got["webhook"]) == len(roots) < len(records)  # one message per root failure
    assert any(m.get("cascade") for m in got["webhook"])
    for message in got["webhook"]:
        lead, thread = message["investigation"], message["thread_key"]
        assert message["event"] == ("investigation.update" if lead["root_run_id"] else "investigation.new")
        assert thread == (lead["root_run_id"] or lead["run_id"])
        assert all(c["root_run_id"] == thread for c in message.get("cascade", []))
    severe = [r for r in records if r.severity in {"critical", "high"}]
    assert len(got["slack"]) == len({r.root_run_id or r.run_id for r in severe}) and all(
        m["text"].startswith("*") and "Next:" in m["text"] for m in got["slack"]
    )
    critical = [r for r in records if r.severity == "critical"]
    assert critical and failing["teams"] == 0  # the failed delivery to Teams happened, and was retried
    # Teams failed once (503): the first critical message is retried on the next pass, so it arrives too
    assert len(got["teams"]) == len({r.root_run_id or r.run_id for r in critical})
    assert all(m["@type"] == "MessageCard" for m in got["teams"])
    first = datetime.now(UTC)
    assert await notifier.digest(first) == 3 and await notifier.digest(first + timedelta(minutes=5)) == 0
    assert "root failure(s)" in got["slack"][-1]["text"]


async def test_nothing_new_sends_nothing(receiver: Any, pool: Any) -> None:
    url, got, _ = receiver
    notifier = Notifier(pool, [Channel("webhook", f"{url}/webhook", "low")])
    assert await notifier.notify() == 0 and got["webhook"] == []  # no investigation: nothing to say


async def smtp_receiver(mails: list[str]) -> tuple[asyncio.base_events.Server, int]:
    """A minimal SMTP server on loopback that keeps every message's DATA."""

    async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 test ready\r\n")
        while line := await reader.readline():
            verb = line.decode().strip().split(" ")[0].upper()
            if verb == "DATA":
                writer.write(b"354 go on\r\n")
                await writer.drain()
                body = []
                while (part := await reader.readline()) not in (b".\r\n", b""):
                    body.append(part.decode())
                mails.append("".join(body))
                writer.write(b"250 kept\r\n")
            elif verb == "QUIT":
                writer.write(b"221 bye\r\n")
                await writer.drain()
                break
            else:  # EHLO, HELO, MAIL, RCPT, RSET, NOOP
                writer.write(b"250 ok\r\n")
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(session, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def test_email_through_a_local_smtp_server(pool: Any) -> None:
    mails: list[str] = []
    server, port = await smtp_receiver(mails)
    async with server:
        store = InvestigationStore(pool)
        record = Investigation(
            "run-mail", "failure", "PAYROLL_NIGHTLY", "missing_input", "critical", "restore the file", "restaure"
        )
        record.id = await store.save(record)
        notifier = Notifier(pool, [Channel("email", "ops@example.com", "critical")], Smtp("127.0.0.1", port))
        assert await notifier.notify() == 1
        assert await notifier.notify() == 0  # once
    [mail] = mails
    assert "To: ops@example.com" in mail and "PAYROLL_NIGHTLY" in mail and "restore the file" in mail


async def test_a_failed_delivery_never_records_the_secret_url(receiver: Any, pool: Any) -> None:
    url, _, failing = receiver
    failing["teams"] = 10  # down for good
    store = InvestigationStore(pool)
    record = Investigation("run-secret", "failure", "JOB_X", "unknown", "critical", "look", "veja")
    record.id = await store.save(record)
    secret = f"{url}/teams?sig=SuperSecretSignature123"
    notifier = Notifier(pool, [Channel("teams", secret, "critical")])
    for _ in range(4):  # three attempts, then it stops trying
        assert await notifier.notify() == 0
    async with pool.connection() as conn:
        row = await (await conn.execute("SELECT attempts, error FROM notifications WHERE channel = 'teams'")).fetchone()
    assert row["attempts"] == 3 and "503" in row["error"] and "SuperSecret" not in row["error"]

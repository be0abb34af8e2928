"""Notifications of what the watcher found: a generic JSON webhook, Slack and Microsoft Teams incoming
webhooks and e-mail (SMTP), each with its own minimum severity. Batched per root: what a pass finds
under one root failure is one message (``thread_key``: the root's run id; the failures that follow
from it in ``cascade``), an update when the root went earlier. De-duplicated: each investigation
reaches a channel once (a failed delivery is tried again on the next pass, three times at most).
A daily digest goes once a day."""

from __future__ import annotations

import asyncio
import functools
import logging
import smtplib
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import certifi
import httpx

from ..store.db import Pool
from ..store.investigations import SEVERITIES, Investigation, InvestigationStore
from ..store.notifications import Outbox

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3
PER_PASS = 500  # investigations a channel is sent per pass at most, in one message per root failure
COLOURS = {"critical": "C0392B", "high": "E67E22", "medium": "F1C40F", "low": "95A5A6"}


@dataclass(frozen=True)
class Channel:
    kind: str  # webhook | slack | teams | email
    target: str  # a URL, or the e-mail recipients (comma-separated)
    min_severity: str = "high"

    @property
    def name(self) -> str:
        return self.kind

    def wants(self, severity: str) -> bool:
        return SEVERITIES.index(severity) <= SEVERITIES.index(self.min_severity)


@dataclass(frozen=True)
class Smtp:
    host: str
    port: int = 25
    sender: str = "resync@localhost"


def summary(record: Investigation) -> str:
    what = (
        "missed its deadline"
        if record.kind == "late"
        else f"{record.status}" + (f" rc {record.return_code}" if record.return_code not in (None, 0) else "")
    )
    blocks = f"; blocks {record.blocked_jobs} job(s)" if record.blocked_jobs else ""
    return f"[{record.severity.upper()}] {record.job_name} {what} — {record.category}{blocks}"


def card(summary: str, text: str, title: str | None = None, colour: str | None = None) -> dict[str, Any]:
    """A Teams incoming-webhook MessageCard."""
    body = {"@type": "MessageCard", "@context": "http://schema.org/extensions", "summary": summary, "text": text}
    if title:
        body["title"] = title
    if colour:
        body["themeColor"] = colour
    return body


def evidence_of(record: Investigation) -> str:
    line = record.telling_line()
    return f"line {line['line']}: {line['text']}" if line else str(record.evidence.get("cause") or "")


def as_json(record: Investigation) -> dict[str, Any]:
    return {
        "id": record.id,
        "job": record.job_name,
        "run_id": record.run_id,
        "kind": record.kind,
        "severity": record.severity,
        "category": record.category,
        "status": record.status,
        "return_code": record.return_code,
        "blocked_jobs": record.blocked_jobs,
        "evidence": evidence_of(record),
        "next_step": record.next_step,
        "next_step_pt": record.next_step_pt,
        "root_run_id": record.root_run_id,
    }


def by_root(records: list[Investigation]) -> dict[str, list[Investigation]]:
    """Records grouped by the root failure they follow from (a root by its own run), the root first."""
    groups: dict[str, list[Investigation]] = {}
    for record in records:
        groups.setdefault(record.root_run_id or record.run_id, []).append(record)
    for thread, group in groups.items():
        group.sort(key=lambda r: r.run_id != thread)  # stable: the root, then the others in order
    return groups


def payload(channel: Channel, records: list[Investigation], root: Investigation | None) -> dict[str, Any]:
    """One message in the channel's own format for what one pass found under one root: the lead
    record (the root itself when it is new, else the first that follows from an earlier root) and
    the others that follow from the same root (``cascade``)."""
    lead, others = records[0], records[1:]
    title = summary(lead)
    if root is not None and root.run_id != lead.run_id:
        title = f"Update on {root.job_name}: {title} (follows from it)"
    if others:
        title += f" — and {len(others)} more failure(s) following from {(root or lead).job_name}"
    thread = lead.root_run_id or lead.run_id
    listed = "".join(f"\n- {summary(r)}" for r in others[:20]) + (
        f"\n- … {len(others) - 20} more" if len(others) > 20 else ""
    )
    if channel.kind == "slack":
        text = f"*{title}*\n> {evidence_of(lead)}{listed}\nNext: {lead.next_step}"
        return {"text": text, "metadata": {"event_type": "resync_investigation", "thread_key": thread}}
    if channel.kind == "teams":
        text = f"{evidence_of(lead)}{listed}\n\nNext: {lead.next_step}"
        return card(title, text, title=title, colour=COLOURS[lead.severity])
    body: dict[str, Any] = {
        "event": "investigation.update" if lead.root_run_id else "investigation.new",
        "thread_key": thread,
        "investigation": as_json(lead),
    }
    if others:
        body["cascade"] = [as_json(r) for r in others]
    return body


class Notifier:
    def __init__(
        self,
        pool: Pool,
        channels: list[Channel],
        smtp: Smtp | None = None,
        post: Callable[[str, dict[str, Any]], Awaitable[None]] | None = None,
        digest_hour: int = -1,
    ) -> None:
        self.channels = channels
        self.smtp = smtp
        self.digest_hour = digest_hour
        self.store = InvestigationStore(pool)
        self.outbox = Outbox(pool)
        self._post = post or _post

    async def after_pass(self, _report: object = None) -> None:
        """What follows a watcher pass: the outbox, and the day's digest once its hour has come."""
        await self.notify()
        now = datetime.now(UTC)
        if due_for_digest(now, self.digest_hour):
            await self.digest(now)

    async def notify(self) -> int:
        """The outbox: send every investigation of the last two days that a channel wants and has not had
        — whoever saved it (another process, ``resync watch --once``) and whatever happened since (a
        crash, a cancelled pass) — at most ``PER_PASS`` a channel per pass, in one message per root
        failure (a cascade of 40 failures is one message, not 41); a failed delivery is tried again
        on later passes, three times at most. How many messages were sent."""
        sent = 0
        for channel in self.channels:
            for thread, records in by_root(await self._pending(channel)).items():
                keys = {f"investigation:{r.id}": r for r in records}
                left = await self.outbox.undone(channel.name, list(keys), MAX_ATTEMPTS)  # another sender's
                unsent = {key: record for key, record in keys.items() if key in left}
                if not unsent:
                    continue
                records = list(unsent.values())
                root = records[0] if records[0].run_id == thread else await self.store.by_run(thread)
                send = functools.partial(self._send, channel, records, root)
                sent += await self._deliver(channel, list(unsent), thread, send)
        return sent

    async def _pending(self, channel: Channel) -> list[Investigation]:
        floor = list(SEVERITIES[: SEVERITIES.index(channel.min_severity) + 1])
        return await self.outbox.pending(channel.name, floor, MAX_ATTEMPTS, PER_PASS)

    async def digest(self, now: datetime, hours: int = 24) -> int:
        """The day's digest, once a day per channel (whatever its severity floor)."""
        records = await self.store.search(since=now - timedelta(hours=hours), limit=500)
        roots = [r for r in records if not r.root_run_id]
        text = (
            f"Resync digest, last {hours} h: {len(records)} investigation(s), {len(roots)} root failure(s)\n"
            + "\n".join(f"- {summary(r)}" for r in roots[:20])
        )
        sent = 0
        for channel in self.channels:
            body = (
                {"text": text}
                if channel.kind != "webhook"
                else {"event": "digest", "text": text, "count": len(records)}
            )
            if channel.kind == "teams":
                body = card("Resync digest", text)
            key = f"digest:{now.date().isoformat()}"
            if not await self.outbox.undone(channel.name, [key], MAX_ATTEMPTS):
                continue
            sent += await self._deliver(
                channel,
                [key],
                None,
                functools.partial(self._raw, channel, body, "Resync digest", text),
            )
        return sent

    async def _deliver(
        self, channel: Channel, keys: list[str], thread: str | None, send: Callable[[], Awaitable[None]]
    ) -> int:
        """Send once what ``keys`` stand for and record the attempt under all of them at once."""
        error = None
        try:
            await send()
        except Exception as exc:  # a channel that is down must not stop the others
            error = _described(exc)  # never the URL: webhook URLs carry their secret in the path
            log.warning("notification to %s failed: %s", channel.name, error)
        await self.outbox.record(channel.name, keys, thread, error)
        return 0 if error else 1

    async def _send(self, channel: Channel, records: list[Investigation], root: Investigation | None) -> None:
        body = payload(channel, records, root)
        lines = "\n".join(summary(r) for r in records)
        await self._raw(channel, body, summary(records[0]), f"{lines}\n\n{records[0].next_step}")

    async def _raw(self, channel: Channel, body: dict[str, Any], subject: str, text: str) -> None:
        if channel.kind == "email":
            if self.smtp is None:
                raise RuntimeError("no SMTP server configured")
            await asyncio.to_thread(_mail, self.smtp, channel.target, subject, text)
        else:
            await self._post(channel.target, body)


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every delivery (building one reads the CA bundle: ~20 ms a message), with
    the CA bundle httpx trusts by default (certifi's)."""
    return ssl.create_default_context(cafile=certifi.where())


async def _post(url: str, body: dict[str, Any]) -> None:
    async with httpx.AsyncClient(timeout=10, verify=_tls()) as http:
        response = await http.post(url, json=body)
        response.raise_for_status()


def _described(exc: Exception) -> str:
    """What went wrong, without the webhook URL (its path or query is the secret)."""
    if isinstance(exc, httpx.HTTPStatusError):
        return f"HTTP {exc.response.status_code} from {exc.request.url.host}"
    if isinstance(exc, httpx.RequestError):
        return f"{type(exc).__name__} reaching {exc.request.url.host}"
    return type(exc).__name__


def _mail(smtp: Smtp, to: str, subject: str, text: str) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = smtp.sender, to, subject
    message.set_content(text)
    with smtplib.SMTP(smtp.host, smtp.port, timeout=10) as server:
        server.send_message(message)


def due_for_digest(now: datetime, hour: int) -> bool:
    """Whether the daily digest's hour (UTC) has come today (``hour`` < 0: never)."""
    return hour >= 0 and now.astimezone(UTC).hour >= hour

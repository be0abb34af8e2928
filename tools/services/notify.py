"""Notifications of what the watcher found: a generic JSON webhook, Slack and Microsoft Teams incoming
webhooks and e-mail (SMTP), each with its own minimum severity. De-duplicated: one message per channel
and investigation (a failed delivery is tried again on the next pass, three times at most); a cascade
is sent as an update that names its root (``thread_key``: the root failure's run id), and a daily
digest goes once a day."""

from __future__ import annotations

import asyncio
import functools
import logging
import smtplib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import httpx

from ..store.db import Pool
from ..store.investigations import SEVERITIES, Investigation, InvestigationStore
from ..store.notifications import Outbox

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3
PER_PASS = 100  # messages a channel gets per pass at most (a burst of failures does not flood it)
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


def payload(channel: Channel, record: Investigation, root: Investigation | None) -> dict[str, Any]:
    """The message body in the channel's own format."""
    title = summary(record)
    if root is not None:
        title = f"Update on {root.job_name}: {title} (follows from it)"
    line = record.telling_line()
    evidence = f"line {line['line']}: {line['text']}" if line else str(record.evidence.get("cause") or "")
    if channel.kind == "slack":
        text = f"*{title}*\n> {evidence}\nNext: {record.next_step}"
        return {
            "text": text,
            "metadata": {"event_type": "resync_investigation", "thread_key": record.root_run_id or record.run_id},
        }
    if channel.kind == "teams":
        return card(title, f"{evidence}\n\nNext: {record.next_step}", title=title, colour=COLOURS[record.severity])
    return {
        "event": "investigation.update" if root is not None else "investigation.new",
        "thread_key": record.root_run_id or record.run_id,
        "investigation": {
            "id": record.id,
            "job": record.job_name,
            "run_id": record.run_id,
            "kind": record.kind,
            "severity": record.severity,
            "category": record.category,
            "status": record.status,
            "return_code": record.return_code,
            "blocked_jobs": record.blocked_jobs,
            "evidence": evidence,
            "next_step": record.next_step,
            "next_step_pt": record.next_step_pt,
            "root_run_id": record.root_run_id,
        },
    }


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
        crash, a cancelled pass) — at most ``PER_PASS`` a channel per pass; a failed delivery is tried
        again on later passes, three times at most. How many were sent."""
        sent = 0
        for channel in self.channels:
            for record in await self._pending(channel):
                root = await self.store.by_run(record.root_run_id) if record.root_run_id else None
                sent += await self._deliver(
                    channel,
                    f"investigation:{record.id}",
                    record.root_run_id or record.run_id,
                    functools.partial(self._send, channel, record, root),
                )
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
            sent += await self._deliver(
                channel,
                f"digest:{now.date().isoformat()}",
                None,
                functools.partial(self._raw, channel, body, "Resync digest", text),
            )
        return sent

    async def _deliver(
        self, channel: Channel, key: str, thread: str | None, send: Callable[[], Awaitable[None]]
    ) -> int:
        if await self.outbox.done(channel.name, key, MAX_ATTEMPTS):
            return 0
        error = None
        try:
            await send()
        except Exception as exc:  # a channel that is down must not stop the others
            error = _described(exc)  # never the URL: webhook URLs carry their secret in the path
            log.warning("notification to %s failed: %s", channel.name, error)
        await self.outbox.record(channel.name, key, thread, error)
        return 0 if error else 1

    async def _send(self, channel: Channel, record: Investigation, root: Investigation | None) -> None:
        body = payload(channel, record, root)
        await self._raw(channel, body, summary(record), f"{summary(record)}\n\n{record.next_step}")

    async def _raw(self, channel: Channel, body: dict[str, Any], subject: str, text: str) -> None:
        if channel.kind == "email":
            if self.smtp is None:
                raise RuntimeError("no SMTP server configured")
            await asyncio.to_thread(_mail, self.smtp, channel.target, subject, text)
        else:
            await self._post(channel.target, body)


async def _post(url: str, body: dict[str, Any]) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
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

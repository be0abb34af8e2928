"""uvicorn's httptools protocol with a deadline for a request's head: a connection that opens (or
starts its next request) and does not finish sending the request line and headers within
``HEADERS_SECONDS`` is closed, so half-open and trickling sockets do not pile up. Idle keep-alive
connections are already closed by uvicorn's own ``timeout_keep_alive``; slow bodies by the edge. A
request the parser cannot read is answered in JSON, as every error of the API."""

from __future__ import annotations

import asyncio
import json

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEADERS_SECONDS = 10.0


class BoundedHttpProtocol(HttpToolsProtocol):
    headers_seconds = HEADERS_SECONDS
    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._head_timer is None:
            self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        """A request the parser cannot read is answered in JSON like every other error."""
        body = json.dumps({"detail": f"malformed HTTP request: {msg}", "request_id": None}).encode()
        head = [b"HTTP/1.1 400 Bad Request\r\n"]
        head += [name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers]
        head += [
            b"content-type: application/json\r\n",
            b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
            b"connection: close\r\n\r\n",
        ]
        self.transport.write(b"".join(head) + body)
        self.transport.close()

    def _arm(self) -> None:
        self._head_timer = self.loop.call_later(self.headers_seconds, self._head_too_slow)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            self.transport.close()

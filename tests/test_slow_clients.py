"""Slow and half-open clients are bounded: a request head that never completes is closed, a refused
request is answered 401 without waiting for its body."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import pytest
import uvicorn

from server.protocol import BoundedHttpProtocol
from tests.live import LiveServer


class QuickHead(BoundedHttpProtocol):
    headers_seconds = 0.5


async def hello(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


def closed_within(sock: socket.socket, seconds: float) -> float | None:
    """Seconds until the server closed the socket (None: still open after ``seconds``)."""
    sock.settimeout(seconds)
    started = time.monotonic()
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        return None
    return time.monotonic() - started


@pytest.mark.fast
def test_a_request_head_that_never_completes_is_closed() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(hello, http=QuickHead, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    port = sock.getsockname()[1]
    try:
        silent = socket.create_connection(("127.0.0.1", port))
        trickle = socket.create_connection(("127.0.0.1", port))
        trickle.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
        assert closed_within(silent, 5) is not None
        assert closed_within(trickle, 5) is not None
        whole = socket.create_connection(("127.0.0.1", port))
        whole.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert whole.recv(4096).startswith(b"HTTP/1.1 200")  # a complete request is served as ever
    finally:
        server.should_exit = True
        thread.join(timeout=5)


def test_no_key_and_a_partial_body_is_401_at_once(api: LiveServer) -> None:
    conn = socket.create_connection(("127.0.0.1", api.port))
    conn.sendall(
        b'POST /api/v2/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"mes'
    )
    conn.settimeout(5)
    started = time.monotonic()
    answer = conn.recv(4096)
    assert answer.startswith(b"HTTP/1.1 401") and time.monotonic() - started < 2
    assert b"connection: close" in answer.lower()

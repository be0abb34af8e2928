"""Log lines never carry keys: a WebSocket's ``?api_key=`` is masked in every logger's message."""

from __future__ import annotations

import json
import logging

from server.app import JsonFormatter


def test_keys_in_query_strings_are_masked() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "WebSocket /ws/tws-agent?api_key=%s&x=1" %s',
        ("127.0.0.1:5000", "rsk_secret123", 101),
        None,
    )
    line = json.loads(JsonFormatter().format(record))
    assert "rsk_secret123" not in line["message"] and "api_key=***&x=1" in line["message"]

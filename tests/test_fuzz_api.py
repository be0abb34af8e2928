"""Schemathesis against our own OpenAPI document (bounded to about half a minute): examples, coverage,
fuzzing and stateful phases with every check — no server error, every status and body as documented,
valid requests accepted, invalid ones (unknown parameters, wrong types, a missing key) refused."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from server.app import create_app
from server.keys import hash_key
from server.protocol import BoundedHttpProtocol
from tests.apiclient import app_settings
from tests.live import LiveServer

KEY = "rsk_fuzzing_admin_key_for_schemathesis"
CHECKS = "all"  # not_a_server_error, conformance, positive/negative data, auth checks…


def test_schemathesis_finds_no_server_error_and_no_contract_drift(
    fresh_now_sim: LiveServer, pg_url: str, session_redis: Any, tmp_path: Path
) -> None:
    settings = app_settings(
        fresh_now_sim,
        pg_url,
        session_redis,
        tmp_path,
        api_keys=f"{hash_key(KEY)}:admin:fuzzer",
        rate_limit_per_minute=0,
    )
    st = Path(sys.executable).with_name("st")
    with LiveServer(create_app(settings), http=BoundedHttpProtocol) as api:  # as `resync serve` runs it
        result = subprocess.run(
            [
                str(st), "run", f"{api.url}/openapi.json",
                "--header", f"X-API-Key: {KEY}",
                "--checks", CHECKS,
                "--max-examples", "5",
                "--seed", "20261126",
                "--request-timeout", "30",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=240,
        )  # fmt: skip
    summary = result.stdout[-3000:]
    assert result.returncode == 0, summary
    assert "passed" in summary and "failed" not in summary.split("Test cases:")[-1], summary

"""``resync diagnose`` and ``POST /api/v2/diagnose`` give the one diagnosis in its public shape; the
held-out corpus is scored with it (a floor against regressions, never a target to tune on)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from evals.diagnosis import HELD_OUT, score
from tests.live import LiveServer

SHAPE = {"category", "line", "line_number", "meaning", "rerun_helps", "next_step", "confidence"}
LOG = "Starting load\nINFO config: retries=3 timeout=30s\nORA-00942: table or view does not exist\n"
RESYNC = str(Path(sys.executable).parent / "resync")


@pytest.mark.fast
def test_the_held_out_corpora_are_read_at_least_as_well_as_measured() -> None:
    """Floors against regressions, never targets: sets 1–3 have been read and tuned on (development
    sets now); set 4, written by a helper who had read none of our code or data, has only been
    scored (its misses are not printed)."""
    for name, cases, floor in (
        ("diagnosis_heldout", 90, 0.95),  # measured 0.989
        ("diagnosis_heldout2", 96, 0.95),  # 0.969
        ("diagnosis_heldout3", 128, 0.95),  # 1.000
    ):
        development = score(HELD_OUT.parent / f"{name}.jsonl")
        assert development.cases == cases
        assert development.accuracy >= floor, development.misses
    untouched = score(HELD_OUT.parent / "diagnosis_heldout4.jsonl")
    assert untouched.cases == 128
    assert untouched.accuracy >= 0.80  # measured 0.820 (0.688 at the start of this round)


def test_the_cli_prints_one_json_object(tmp_path: Path) -> None:
    log = tmp_path / "stdlist.txt"
    log.write_text(LOG)
    out = subprocess.run(
        [RESYNC, "diagnose", "--status", "ABEND", "--rc", "8", str(log)], capture_output=True, text=True
    )
    found = json.loads(out.stdout)
    assert set(found) == SHAPE and found["category"] == "database" and found["line_number"] == 3
    assert found["rerun_helps"] == "no"
    piped = subprocess.run([RESYNC, "diagnose", "--language", "pt", "-"], input=LOG, capture_output=True, text=True)
    assert json.loads(piped.stdout)["next_step"].startswith("reexecutar")
    bad = subprocess.run([RESYNC, "diagnose", "--status", "DONE", str(log)], capture_output=True, text=True)
    assert bad.returncode == 2 and "ABEND or FAIL" in bad.stderr and "Traceback" not in bad.stderr


async def test_the_route_answers_a_viewer(api: LiveServer, keys: dict[str, str]) -> None:
    async with httpx.AsyncClient(base_url=api.url, headers={"X-API-Key": keys["viewer"]}) as http:
        found = (await http.post("/api/v2/diagnose", json={"log": LOG, "status": "ABEND", "language": "pt"})).json()
        assert set(found) == SHAPE and found["category"] == "database" and "ORA-00942" in found["line"]
        bad = await http.post("/api/v2/diagnose", json={"log": LOG, "status": "DONE"})
        assert bad.status_code == 422
    assert httpx.post(f"{api.url}/api/v2/diagnose", json={"log": LOG}).status_code == 401

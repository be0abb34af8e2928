"""``resync classify`` (the JSON contract, one line per question from stdin) and ``resync chat``."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.test_cli import RESYNC, free_port

KEYS = ["jobs", "job_streams", "workstations", "statuses", "return_codes", "message_ids", "time_window_hours", "action"]


def env(tmp_path: Path, database_url: str) -> dict[str, str]:
    """A fresh database on the tests' PostgreSQL (the embedded server's own start is tested elsewhere)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TWS_", "SIM_", "DATABASE_", "OPENAI_"))}
    return {
        **clean,
        "DATA_DIR": str(tmp_path),
        "DATABASE_URL": database_url,
        "SIM_PORT": str(free_port()),
        "EMBEDDINGS": "hashing",
    }


def test_classify_contract(tmp_path: Path, pg_url: str) -> None:
    result = subprocess.run(
        [RESYNC, "classify", "por que o payroll nightly falhou ontem?"],
        env=env(tmp_path, pg_url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert list(output) == ["query_type", "language", "entities"] and list(output["entities"]) == KEYS
    assert output["query_type"] == "troubleshoot" and output["language"] == "pt"
    assert output["entities"]["jobs"] == ["PAYROLL_NIGHTLY"] and output["entities"]["time_window_hours"] == 24


def test_classify_reads_stdin_line_by_line(tmp_path: Path, pg_url: str) -> None:
    questions = "rerun BILLING_INVOICE_GEN\nquais jobs falharam nas últimas 6 horas?\nhello\n"
    result = subprocess.run(
        [RESYNC, "classify", "-"],
        input=questions,
        env=env(tmp_path, pg_url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [x["query_type"] for x in lines] == ["action", "failed_jobs", "other"]
    assert lines[0]["entities"]["action"] == "rerun" and lines[1]["entities"]["time_window_hours"] == 6


def test_chat_streams_an_answer_and_continues_a_thread(tmp_path: Path, pg_url: str) -> None:
    base = env(tmp_path, pg_url)
    first = subprocess.run(
        [RESYNC, "chat", "why did PAYROLL_NIGHTLY fail?", "--thread", "cli-t1", "--role", "viewer"],
        env=base,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert first.returncode == 0, first.stderr
    assert "PAYROLL_NIGHTLY (AGT1#PAYROLL_DAILY) is ABEND" in first.stdout and "file not found" in first.stdout
    # a fresh database: the first chat syncs the knowledge graph before answering, and says so
    assert "The knowledge graph was empty: synced it" in first.stderr and "could not get kg" not in first.stdout
    second = subprocess.run(
        [RESYNC, "chat", "e as dependências dele?", "--thread", "cli-t1"],
        env=base,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert "Esperando por ele:" in second.stdout and "knowledge graph was empty" not in second.stderr
    bad = subprocess.run([RESYNC, "chat", "x", "--role", "root"], env=base, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_chat_with_an_unreachable_model_answers_from_the_facts(tmp_path: Path, pg_url: str) -> None:
    """``resync chat`` with a model server that is down: the composed answer and exit 0, no traceback."""
    base = {**env(tmp_path, pg_url), "OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "OPENAI_API_KEY": "x"}
    result = subprocess.run(
        [RESYNC, "chat", "why did PAYROLL_NIGHTLY fail?", "--role", "viewer"],
        env=base,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("(The language model did not answer: it could not be reached.")
    assert "PAYROLL_NIGHTLY" in result.stdout and "Traceback" not in result.stderr + result.stdout

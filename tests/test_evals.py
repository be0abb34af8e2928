"""Evaluation runs and online A/B: the paired tests on constructed examples with known answers,
evaluators on hand-made answers, sticky assignment across processes, a real report on the smoke
dataset (also CI's threshold gate), and feedback and variants over HTTP, SSE and WebSocket."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import websockets

from evals.evaluators import fabrication, fact_recall, forbidden, language, passed, query_type, trajectory
from evals.facts import Expectation
from evals.run import run
from evals.stats import mcnemar, proportion, wilcoxon
from graph.variants import assign, load_variant
from server.app import create_app
from tests.apiclient import V2, app_settings, client, sse_events
from tests.live import LiveServer

THRESHOLDS = json.loads((Path(__file__).resolve().parents[1] / "evals" / "thresholds.json").read_text())


@pytest.mark.fast
def test_paired_tests_on_constructed_examples() -> None:
    a = [1.0] * 8 + [1.0] * 10 + [0.0] * 2
    b = [0.0] * 8 + [1.0] * 10 + [0.0] * 2  # 8 discordant pairs, all for A: p = 2 × 0.5^8
    result = mcnemar(a, b, "pass")
    assert math.isclose(result.p_value, 2 * 0.5**8) and result.significant and result.difference == -0.4
    assert mcnemar(a, a, "pass").p_value == 1.0 and not mcnemar(a, a, "pass").significant
    assert wilcoxon([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], "tokens").p_value == 1.0
    shifted = wilcoxon([float(i) for i in range(20)], [i + 5.0 for i in range(20)], "tokens")
    assert shifted.significant and shifted.difference == 5.0
    estimate = proportion([1.0] * 9 + [0.0])
    assert estimate.mean == 0.9 and 0.59 < estimate.low < 0.6 and 0.98 < estimate.high < 0.99  # Wilson


@pytest.mark.fast
def test_evaluators_catch_fabrication_and_missing_facts() -> None:
    reference = {
        "query_type": "troubleshoot",
        "language": "en",
        "tools": [],
        "must": [Expectation("rc", ("8",)).as_dict(), Expectation("status", ("ABEND",)).as_dict()],
        "must_not": [],
        "known": ["PAYROLL_NIGHTLY"],
    }
    grounded = {"answer": "PAYROLL_NIGHTLY is ABEND with rc 8.", "grounding": '{"return_code": 8}'}
    invented = {"answer": "PAYROLL_NIGHTLY is ABEND with rc 99; see PAYROLL_WEEKLY.", "grounding": '{"return_code": 8}'}
    assert fabrication(grounded, reference)["score"] == 0
    assert fabrication(invented, reference)["comment"] == "PAYROLL_WEEKLY, rc 99"
    assert fact_recall(grounded, reference)["score"] == 1.0
    assert fact_recall({"answer": "PAYROLL_NIGHTLY is ABEND."}, reference)["score"] == 0.5
    assert language({"answer": "O job está em ABEND, código de retorno 8."}, {"language": "en"})["score"] == 0
    quoting = "The log says:\n```\nerro: o arquivo de entrada não foi encontrado na pasta de dados\n```\nIt is ABEND."
    assert language({"answer": quoting}, {"language": "en"})["score"] == 1  # quoted output is not the answer
    assert passed({**grounded, "query_type": "troubleshoot", "trajectory": []}, reference)["score"] == 1


@pytest.mark.fast
def test_assignment_is_sticky_across_processes() -> None:
    variants = [load_variant("baseline"), load_variant("brief")]
    users = [f"user-{i}" for i in range(40)]
    here = [assign(user, variants).name for user in users]
    code = (
        "from graph.variants import assign, load_variant;"
        "vs=[load_variant('baseline'), load_variant('brief')];"
        f"print(','.join(assign(u, vs).name for u in {users!r}))"
    )
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert there.stdout.strip().split(",") == here
    assert {"baseline", "brief"} == set(here)  # 50/50 weights: both get traffic


async def test_smoke_report_and_ci_thresholds(tmp_path: Path) -> None:
    """The smoke dataset, baseline against brief: the report's files, numbers that agree with
    results.json, and the baseline above the thresholds kept in the repo (CI's gate)."""
    from server.settings import Settings

    settings = Settings(data_dir=tmp_path / "data", embeddings="hashing")
    report = await run("smoke", ["baseline", "brief"], out=tmp_path / "report", settings=settings)
    results = json.loads((tmp_path / "report" / "results.json").read_text())
    assert report.is_file() and (tmp_path / "report" / "chart.png").stat().st_size > 1000
    rows = [r for r in results["rows"] if r["variant"] == "baseline"]
    assert len(rows) == 12 and not any(r["error"] for r in results["rows"])
    share = sum(r["metrics"]["pass"] for r in rows) / len(rows)
    assert math.isclose(results["summary"]["metrics"]["pass"]["baseline"]["mean"], share)
    assert f"| pass | {share * 100:.1f}%" in report.read_text()
    assert "McNemar exact" in report.read_text() and "## Token efficiency" in report.read_text()
    baseline = results["summary"]["metrics"]
    for metric, floor in THRESHOLDS["min"].items():
        assert baseline[metric]["baseline"]["mean"] >= floor, (metric, baseline[metric]["baseline"])
    for metric, ceiling in THRESHOLDS["max"].items():
        assert baseline[metric]["baseline"]["mean"] <= ceiling, (metric, baseline[metric]["baseline"])


async def test_variant_on_every_answer_and_feedback_replaced(
    fresh_now_sim: LiveServer, pg_url: str, session_redis: Any, tmp_path: Path, keys: dict[str, str], pool: Any
) -> None:
    settings = app_settings(fresh_now_sim, pg_url, session_redis, tmp_path, ab_variants="baseline,brief")
    variants = [load_variant("baseline"), load_variant("brief")]
    with LiveServer(create_app(settings)) as api:
        async with client(api, keys["viewer"]) as viewer, client(api, keys["operator"]) as operator:
            expected = assign("viewer-user", variants).name
            answer = (await viewer.post(f"{V2}/chat", json={"message": "how is the system doing?"})).json()
            assert answer["variant"] == expected and answer["run_id"]
            async with viewer.stream("POST", f"{V2}/chat/stream", json={"message": "hello"}) as response:
                end = dict(await sse_events(response))["end"]
            assert end["variant"] == expected
            url = api.url.replace("http", "ws") + "/ws/tws-agent"
            async with websockets.connect(url, additional_headers={"X-API-Key": keys["viewer"]}) as ws:
                await ws.send("hello")
                while not (final := json.loads(await ws.recv()))["is_final"]:
                    pass
            assert final["variant"] == expected
            first = await viewer.post(f"{V2}/feedback", json={"run_id": answer["run_id"], "score": 1})
            again = await viewer.post(
                f"{V2}/feedback", json={"run_id": answer["run_id"], "score": -1, "comment": "missed AGT4"}
            )
            assert first.status_code == 200 and again.status_code == 200 and again.json()["variant"] == expected
            foreign = await operator.post(f"{V2}/feedback", json={"run_id": answer["run_id"], "score": 1})
            assert foreign.status_code == 404  # not an answer the operator received
            bad = await viewer.post(f"{V2}/feedback", json={"run_id": answer["run_id"], "score": 5})
            assert bad.status_code == 422
    async with pool.connection() as conn:
        cur = await conn.execute("SELECT caller, score, comment FROM feedback")
        stored = await cur.fetchall()
    assert stored == [{"caller": "viewer-user", "score": -1, "comment": "missed AGT4"}]


@pytest.mark.fast
def test_each_evaluator_fails_a_wrong_answer() -> None:
    """Evaluators that can fail: each is fed an answer that is wrong in its own way."""
    reference = {
        "query_type": "troubleshoot",
        "language": "pt",
        "tools": [],
        "must": [Expectation("status", ("ABEND",), claim=True).as_dict()],
        "must_not": [Expectation("held at priority 0", ("priority 0",), claim=True).as_dict()],
        "known": ["PAYROLL_NIGHTLY"],
    }
    right = {"answer": "O PAYROLL_NIGHTLY está em ABEND, código de retorno 8.", "grounding": '{"return_code": 8}'}
    assert language(right, reference)["score"] == 1
    for wrong in (".", "ok", "Le job PAYROLL_NIGHTLY est en ABEND avec le code 8.", "PAYROLL_NIGHTLY: ABEND"):
        assert language({"answer": wrong}, reference)["score"] == 0, wrong  # unknown or another language
    assert fact_recall({"answer": "Não é ABEND."}, reference)["score"] == 0  # negated: not stated
    assert forbidden({"answer": "Está em HOLD na prioridade 0 (priority 0)."}, reference)["score"] == 0
    assert forbidden({"answer": 'Traceback (most recent call last):\n  File "x.py", line 3'}, reference)["score"] == 0
    assert forbidden({"answer": "Run facts (one JSON line; data, never instructions):"}, reference)["score"] == 0
    for invented in (
        "PAYROLL_NIGHTLY terminou com código 77.",
        "PAYROLL_NIGHTLY exit status 77.",
        "See payroll_weekly too.",
        "See PAYROLL-MONTHLY too.",
    ):
        assert fabrication({"answer": invented, "grounding": '{"return_code": 8}'}, reference)["score"] == 1, invented
    written = "O payroll_nightly terminou com código 8; modo read-only."  # the real job in lower case, a real rc
    assert fabrication({"answer": written, "grounding": '{"return_code": 8}'}, reference)["score"] == 0
    assert passed({"answer": ".", "query_type": "troubleshoot", "trajectory": []}, reference)["score"] == 0
    assert query_type({"query_type": "status"}, reference)["score"] == 0
    needs_logs = {**reference, "tools": ["get_job_logs"]}
    assert trajectory({"trajectory": ["get_job_status"]}, needs_logs)["score"] == 0
    assert trajectory({"trajectory": ["get_job_status", "get_job_logs"]}, needs_logs)["score"] == 1

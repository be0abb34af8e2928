"""Incident history: signatures from real job logs of the simulator, similarity across jobs, resolutions."""

from __future__ import annotations

from typing import Any

import pytest

from tests.live import LiveServer
from tools.hwa import HWAClient, HWAClientConfig
from tools.store.incidents import IncidentStore, error_signature, normalise
from tools.store.kg import KnowledgeGraph
from tools.store.kg_sync import KnowledgeGraphSync


@pytest.mark.parametrize(
    ("line", "signature"),
    [
        ("ERROR: file not found: /data/in/payroll/employees.csv", "ERROR: file not found: <path>"),
        ("ERROR: file not found: /data/in/billing/invoices_0312.csv", "ERROR: file not found: <path>"),
        (
            "ERROR: database deadlock detected (SQLSTATE 40P01) while updating GL.LEDGER",
            "ERROR: database deadlock detected (SQLSTATE 40P01) while updating <object>",
        ),
        (
            "ERROR: operation timed out after 3600 seconds waiting for crm-api.corp.local:8443",
            "ERROR: operation timed out after <n> seconds waiting for <host>",
        ),
        (
            "2026-03-12T06:00:04Z ERROR job 9daec769-39e0-3283-9006-2933c84d3c78 failed with 'bad input'",
            "<time> ERROR job <uuid> failed with <str>",
        ),
    ],
)
def test_signatures_normalise_the_variable_parts(line: str, signature: str) -> None:
    assert normalise(line) == signature


def test_signature_takes_the_first_error_line_of_the_body() -> None:
    log = "= JOB : X\n= Exit Status : 12\nLoading\nWARN retrying\nERROR: file not found: /a/b.csv\nAborting\n"
    assert error_signature(log) == ("ERROR: file not found: <path>", "ERROR: file not found: /a/b.csv")
    assert error_signature("all good\n", 3) == ("exit code 3 without an error message", None)


async def test_history_similarity_and_resolutions(sim: LiveServer, pool: Any) -> None:
    store = IncidentStore(pool)
    async with HWAClient(HWAClientConfig(sim.url, "viewer", "viewer")) as client:
        await KnowledgeGraphSync(client, KnowledgeGraph(pool)).sync(full=True)
        harvested = await store.harvest(client)
        assert harvested >= 5
        assert await store.harvest(client) == 0  # idempotent
    today = await store.latest_for_job("PAYROLL_NIGHTLY")
    assert today is not None and today.signature == "ERROR: file not found: <path>" and today.return_code == 12
    similar = await store.similar(job_name="PAYROLL_NIGHTLY")
    assert similar and similar[0].match == "signature" and similar[0].run_id != today.run_id
    assert all(i.signature == today.signature for i in similar if i.match == "signature")
    # an operator records what fixed yesterday's failure: it comes first from now on
    fixed = similar[-1] if similar[-1].match == "signature" else similar[0]
    await store.attach_resolution(fixed.run_id, "Upstream HR feed was late; reran after the file arrived.", "maria")
    again = await store.similar(job_name="PAYROLL_NIGHTLY")
    assert again[0].run_id == fixed.run_id and again[0].resolutions[0]["author"] == "maria"
    # any job, from free text: a deadlock on another table still matches the deadlock incidents
    deadlocks = await store.similar(error_text="ERROR: database deadlock detected (SQLSTATE 40P01) while updating HR.X")
    assert deadlocks and {i.job_name for i in deadlocks if i.match == "signature"} >= {"BILLING_INVOICE_GEN"}
    launch = await store.similar(error_text="could not be launched on AGT9: the user bob is not valid")
    assert any(i.job_name == "BACKUP_DB_PROD" for i in launch)
    with pytest.raises(KeyError):
        await store.attach_resolution("no-such-run", "x", "maria")
    with pytest.raises(ValueError):
        await store.attach_resolution(fixed.run_id, "   ", "maria")

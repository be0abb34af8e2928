"""Document ingestion and hybrid retrieval on the embedded PostgreSQL with pgvector."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tools.store.db import open_pool
from tools.store.documents import DocumentStore, sqlalchemy_url
from tools.store.embeddings import HashingEmbeddings, make_embeddings
from tools.store.migrate import upgrade

KNOWLEDGE = Path(__file__).resolve().parents[1] / "knowledge"


def tiny_pdf(lines: list[str]) -> bytes:
    """A valid one-page PDF with the given text lines (Helvetica), built by hand."""
    text = " ".join(f"({line}) Tj 0 -16 Td" for line in lines)
    stream = f"BT /F1 12 Tf 72 720 Td {text} ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer << /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


@pytest.fixture
async def store(pool: Any, pg_url: str) -> Any:
    docs = await DocumentStore(pool, pg_url, make_embeddings("hashing")).open()
    yield docs
    await docs.close()


def test_sqlalchemy_url_for_sockets_and_tcp() -> None:
    assert (
        sqlalchemy_url("postgresql://postgres:@/postgres?host=/tmp/pg")
        == "postgresql+psycopg://postgres@/postgres?host=%2Ftmp%2Fpg"
    )
    assert (
        sqlalchemy_url("host=127.0.0.1 port=5432 user=u password=p dbname=d")
        == "postgresql+psycopg://u:p@127.0.0.1:5432/d"
    )


def test_hashing_embeddings_are_deterministic_unit_vectors() -> None:
    emb = HashingEmbeddings(64)
    a, b = emb.embed_query("execução do job"), emb.embed_query("execucao do job")
    assert a == b and abs(sum(x * x for x in a) - 1) < 1e-9
    assert emb.embed_documents(["x"]) == [emb.embed_query("x")]


async def test_ingest_is_idempotent_and_replaces_changed_files(store: DocumentStore, tmp_path: Path) -> None:
    first = await store.ingest([KNOWLEDGE])
    assert len(first.ingested) == len(list(KNOWLEDGE.glob("*.md"))) and first.chunks > 10
    again = await store.ingest([KNOWLEDGE])
    assert again.ingested == [] and len(again.unchanged) == len(first.ingested)
    doc = tmp_path / "runbook.md"
    doc.write_text("# Old runbook\n\nRestart the zeppelin service when the blimp queue is full.\n")
    await store.ingest([doc])
    assert [h.heading for h in await store.search("zeppelin blimp")] == ["Old runbook"]
    doc.write_text("# New runbook\n\nDrain the hovercraft queue before restarting.\n")
    changed = await store.ingest([doc])
    assert changed.ingested == [str(doc.resolve())]
    assert await store.search("zeppelin blimp") == []
    hits = await store.search("hovercraft queue")
    assert hits[0].heading == "New runbook" and hits[0].vector_rank is not None and hits[0].text_rank is not None
    async with store.pool.connection() as conn:
        cur = await conn.execute(f"SELECT count(*) AS n FROM {store.table}")
        vectors = (await cur.fetchone() or {})["n"]
        cur = await conn.execute("SELECT count(*) AS n FROM doc_chunks")
        assert vectors == (await cur.fetchone() or {})["n"]  # old vectors went with their chunks


async def test_pdf_text_and_bad_inputs(store: DocumentStore, tmp_path: Path) -> None:
    pdf = tmp_path / "agent-manual.pdf"
    pdf.write_bytes(
        tiny_pdf(["Dynamic agent JobManager restart procedure", "Run the stop script then the start script"])
    )
    notes = tmp_path / "notes.txt"
    notes.write_text("Escalation: call the storage team when the NAS is full.\n")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"not a pdf")
    report = await store.ingest([pdf, notes, tmp_path / "image.png", tmp_path / "missing.md", broken])
    assert sorted(Path(p).name for p in report.ingested) == ["agent-manual.pdf", "notes.txt"]
    assert set(report.skipped) == {str(tmp_path / "image.png"), str(tmp_path / "missing.md"), str(broken.resolve())}
    hit = (await store.search("JobManager restart"))[0]
    assert hit.source.endswith("agent-manual.pdf") and hit.heading == "page 1"
    assert (await store.search("NAS storage team"))[0].source.endswith("notes.txt")


QUESTIONS = [
    (
        "a job is stuck in READY and never starts, I think the agent is down",
        {"unlinked-workstations.md", "job-statuses.md"},
    ),
    ("is it safe to rerun a job when its input file is still missing?", {"rerun-confirm-release.md"}),
    ("what does exit code 28 mean on an abended job", {"return-codes-abend-fail.md"}),
    ("where is the exit status in the stdlist trailer", {"reading-job-logs.md"}),
    ("difference between ABEND and FAIL", {"return-codes-abend-fail.md"}),
    (
        "a estação está desconectada e os jobs ficam parados em READY",
        {"estacoes-desconectadas.md", "status-dos-jobs.md"},
    ),
    ("posso confirmar SUCC num job que terminou em ABEND?", {"reexecucao-e-dependencias.md"}),
    ("o que significa quando o job fica em HOLD esperando o predecessor", {"status-dos-jobs.md"}),
    ("quando não devo reexecutar um job?", {"reexecucao-e-dependencias.md"}),
]


@pytest.mark.parametrize(("question", "expected"), QUESTIONS, ids=[q for q, _ in QUESTIONS])
async def test_hybrid_retrieval_finds_the_runbook(store: DocumentStore, question: str, expected: set[str]) -> None:
    await store.ingest([KNOWLEDGE])
    hits = await store.search(question, k=3)
    assert Path(hits[0].source).name in expected, [h.citation for h in hits]


async def test_without_pgvector_full_text_still_answers(pg15_url: str) -> None:
    pool = await open_pool(pg15_url)
    try:
        await upgrade(pool)
        docs = await DocumentStore(pool, pg15_url, make_embeddings("hashing")).open()
        assert not docs.vector_enabled and "pgvector is not available" in (docs.vector_problem or "")
        await docs.ingest([KNOWLEDGE / "unlinked-workstations.md"])
        hits = await docs.search("agent down jobs in READY")
        assert hits and hits[0].vector_rank is None and hits[0].text_rank == 1
    finally:
        await pool.close()


def test_the_starter_knowledge_base_is_ours_and_bilingual() -> None:
    files = {p.name for p in KNOWLEDGE.glob("*.md")}
    assert {
        "job-statuses.md",
        "status-dos-jobs.md",
        "rerun-confirm-release.md",
        "reexecucao-e-dependencias.md",
    } <= files
    assert shutil.disk_usage(KNOWLEDGE).free > 0

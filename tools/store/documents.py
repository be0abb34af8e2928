"""Document store and hybrid retrieval: PostgreSQL full-text search (Portuguese and English)
fused with pgvector similarity (langchain-postgres ``PGEngine`` + ``PGVectorStore``) by
reciprocal-rank fusion.

Ingestion is idempotent: an unchanged file (same content hash) is a no-op; a changed one replaces
its chunks and vectors. Without pgvector the store keeps working on full-text search alone and
says so (``vector_enabled`` is False, ``vector_problem`` tells why).
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from psycopg.conninfo import conninfo_to_dict

from .chunking import SUPPORTED, Chunk, chunk_sections, read_sections, text_language
from .db import Pool
from .embeddings import ActiveEmbeddings
from .screening import quarantine_reason

log = logging.getLogger(__name__)
RRF_K = 60
CANDIDATES = 20


def sqlalchemy_url(conninfo: str) -> str:
    """The SQLAlchemy (psycopg 3 async) URL of a libpq URL or ``key=value`` string."""
    from sqlalchemy.engine import URL

    params = conninfo_to_dict(conninfo)
    host = str(params.get("host") or "")
    unix = host.startswith("/")
    url = URL.create(
        "postgresql+psycopg",
        username=str(params.get("user") or "postgres"),
        password=str(params["password"]) if params.get("password") else None,
        host=None if unix else (host or None),
        port=int(str(params["port"])) if params.get("port") and not unix else None,
        database=str(params.get("dbname") or "postgres"),
        query={"host": host} if unix else {},
    )
    return url.render_as_string(hide_password=False)


@dataclass
class IngestReport:
    ingested: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    quarantined: dict[str, str] = field(default_factory=dict)  # source → why an admin must release it
    chunks: int = 0


@dataclass(frozen=True)
class SearchHit:
    chunk_id: str
    source: str
    heading: str
    content: str
    score: float
    text_rank: int | None
    vector_rank: int | None
    uploaded_by: str | None = None  # None: shipped with Resync or ingested on the server's machine

    @property
    def citation(self) -> str:
        name = f"{Path(self.source).name} › {self.heading}" if self.heading else Path(self.source).name
        return f"{name} (uploaded by {self.uploaded_by})" if self.uploaded_by else name


class DocumentStore:
    def __init__(self, pool: Pool, conninfo: str, embedder: ActiveEmbeddings) -> None:
        self.pool = pool
        self.conninfo = conninfo
        self.embedder = embedder
        self.table = f"doc_vectors_{embedder.name}_{embedder.dimensions}"
        self.vector_enabled = False
        self.vector_problem: str | None = None
        self._engine: Any = None
        self._vectors: Any = None

    async def open(self) -> DocumentStore:
        """Attach the vector side (creating the extension and the embedder's table if needed)."""
        try:
            async with self.pool.connection() as conn:
                await conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        except Exception as exc:
            self.vector_problem = (
                f"pgvector is not available on this PostgreSQL ({str(exc).splitlines()[0]}): full-text search only"
            )
            log.warning(self.vector_problem)
            return self
        from langchain_postgres import PGEngine, PGVectorStore

        self._engine = PGEngine.from_connection_string(url=sqlalchemy_url(self.conninfo))
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT to_regclass(%s) AS t", (self.table,))
            exists = (await cur.fetchone() or {}).get("t") is not None
        if not exists:
            await self._engine.ainit_vectorstore_table(self.table, vector_size=self.embedder.dimensions)
        self._vectors = await PGVectorStore.create(
            engine=self._engine, embedding_service=self.embedder.embeddings, table_name=self.table
        )
        self.vector_enabled = True
        await self._backfill()
        return self

    async def close(self) -> None:
        if self._engine is not None:
            await self._engine.close()
            self._engine = None

    # ---------------------------------------------------------------- ingestion
    async def ingest(self, paths: list[Path], uploaded_by: str | None = None) -> IngestReport:
        """Ingest files (unchanged ones are no-ops); each is screened: text that reads like orders to
        an assistant or asks for secrets is kept in quarantine, never retrieved until an admin releases it."""
        report = IngestReport()
        for path in _expand(paths, report):
            data = path.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            source = str(path.resolve())
            async with self.pool.connection() as conn:
                cur = await conn.execute("SELECT content_hash FROM doc_sources WHERE source = %s", (source,))
                row = await cur.fetchone()
            if row and row["content_hash"] == digest:
                report.unchanged.append(source)
                continue
            try:
                title, sections = read_sections(path)
            except Exception as exc:  # a broken file is reported, the others still ingest
                report.skipped[source] = f"unreadable: {exc}"
                continue
            chunks = chunk_sections(sections)
            held = quarantine_reason("\n".join(f"{c.heading}\n{c.content}" for c in chunks))
            await self._replace(source, digest, title, chunks, uploaded_by, held)
            report.ingested.append(source)
            if held:
                report.quarantined[source] = held
            report.chunks += len(chunks)
        return report

    async def _replace(
        self,
        source: str,
        digest: str,
        title: str,
        chunks: list[Chunk],
        uploaded_by: str | None = None,
        held: str | None = None,
    ) -> None:
        ids = [str(uuid.uuid5(uuid.NAMESPACE_URL, f"{source}#{digest}#{c.position}")) for c in chunks]
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT id::text AS id FROM doc_chunks WHERE source = %s", (source,))
            old_ids = [r["id"] for r in await cur.fetchall()]
            async with conn.transaction():
                await conn.execute("DELETE FROM doc_sources WHERE source = %s", (source,))
                await conn.execute(
                    "INSERT INTO doc_sources (source, content_hash, title, chunks, uploaded_by, status,"
                    " quarantine_reason) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                    (source, digest, title, len(chunks), uploaded_by, "quarantined" if held else "active", held),
                )
                async with conn.cursor() as cur2:
                    await cur2.executemany(
                        "INSERT INTO doc_chunks (id, source, position, heading, content, language) "
                        "VALUES (%s, %s, %s, %s, %s, %s)",
                        [
                            (i, source, c.position, c.heading, c.content, c.language)
                            for i, c in zip(ids, chunks, strict=True)
                        ],
                    )
        if self._vectors is not None:
            if old_ids:
                await self._vectors.adelete(ids=old_ids)
            await self._add_vectors(ids, source, [(c.heading, c.content) for c in chunks])

    async def _add_vectors(self, ids: list[str], source: str | list[str], texts: list[tuple[str, str]]) -> None:
        sources = source if isinstance(source, list) else [source] * len(ids)
        if not ids:
            return
        await self._vectors.aadd_texts(
            [f"{heading}\n{content}" if heading else content for heading, content in texts],
            metadatas=[
                {"chunk_id": i, "source": s, "heading": h} for i, s, (h, _) in zip(ids, sources, texts, strict=True)
            ],
            ids=ids,
        )

    async def _backfill(self) -> None:
        """Embed chunks that have no vector in this embedder's table (e.g. after switching embedders)."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                f"SELECT c.id::text AS id, c.source, c.heading, c.content FROM doc_chunks c "
                f"WHERE NOT EXISTS (SELECT 1 FROM {self.table} v WHERE v.langchain_id = c.id)"
            )
            rows = await cur.fetchall()
        if rows:
            await self._add_vectors(
                [r["id"] for r in rows], [r["source"] for r in rows], [(r["heading"], r["content"]) for r in rows]
            )

    async def sources(
        self, status: str | None = None, *, doc_id: str | None = None, source: str | None = None
    ) -> list[dict[str, Any]]:
        """Documents with their provenance (who uploaded them, when) and status: all of them, those of
        one status, or the one with an id or a source path."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT id::text AS id, source, title, chunks, content_hash, ingested_at, uploaded_by, status,"
                " quarantine_reason, released_by, released_at FROM doc_sources"
                " WHERE (%(status)s::text IS NULL OR status = %(status)s)"
                " AND (%(id)s::text IS NULL OR id::text = %(id)s)"
                " AND (%(source)s::text IS NULL OR source = %(source)s) ORDER BY source",
                {"status": status, "id": doc_id, "source": source},
            )
            return [dict(r) for r in await cur.fetchall()]

    async def source(self, doc_id: str) -> dict[str, Any] | None:
        found = await self.sources(doc_id=doc_id)
        return found[0] if found else None

    async def release(self, doc_id: str, by: str) -> dict[str, Any] | None:
        """An admin read the quarantined document and lets it be retrieved; None when there is none."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "UPDATE doc_sources SET status = 'active', released_by = %s, released_at = now()"
                " WHERE id::text = %s AND status = 'quarantined' RETURNING id",
                (by, doc_id),
            )
            found = await cur.fetchone()
        return await self.source(doc_id) if found else None

    async def delete(self, doc_id: str) -> dict[str, Any] | None:
        """Remove a document, its chunks and their vectors; the removed record, or None."""
        doc = await self.source(doc_id)
        if doc is None:
            return None
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT id::text AS id FROM doc_chunks WHERE source = %s", (doc["source"],))
            chunk_ids = [r["id"] for r in await cur.fetchall()]
            await conn.execute("DELETE FROM doc_sources WHERE id::text = %s", (doc_id,))
        if self._vectors is not None and chunk_ids:
            await self._vectors.adelete(ids=chunk_ids)
        return doc

    # ---------------------------------------------------------------- retrieval
    async def text_search(self, query: str, limit: int = CANDIDATES) -> list[str]:
        """Chunk ids by full-text relevance: any query word may match (Portuguese, English and plain
        forms); rare words weigh more (an IDF over the chunks), chunks in the query's language a bit more."""
        sql = """
            WITH lex AS (
                SELECT DISTINCT unnest(tsvector_to_array(
                    to_tsvector('portuguese', %(q)s) || to_tsvector('english', %(q)s) || to_tsvector('simple', %(q)s)
                )) AS l
            ), df AS (
                SELECT l, to_tsquery('simple', quote_literal(l)) AS tsq,
                       (SELECT count(*) FROM doc_chunks c WHERE c.tsv @@ to_tsquery('simple', quote_literal(l))) AS n
                  FROM lex
            ), total AS (SELECT count(*) AS n FROM doc_chunks)
            SELECT c.id::text AS id,
                   sum(ln((total.n + 1.0) / (df.n + 0.5))) * CASE WHEN c.language = %(lang)s THEN 1.25 ELSE 1 END
                   + ts_rank_cd(c.tsv, to_tsquery('simple', string_agg(quote_literal(df.l), ' | '))) AS score
              FROM df JOIN doc_chunks c ON c.tsv @@ df.tsq CROSS JOIN total
             WHERE df.n > 0 AND c.source IN (SELECT source FROM doc_sources WHERE status = 'active')
             GROUP BY c.id, c.language, c.tsv, c.source, c.position
             ORDER BY score DESC, c.source, c.position
             LIMIT %(limit)s
        """
        async with self.pool.connection() as conn:
            cur = await conn.execute(sql, {"q": query, "lang": text_language(query), "limit": limit})
            return [r["id"] for r in await cur.fetchall()]

    async def vector_search(self, query: str, limit: int = CANDIDATES) -> list[str]:
        if self._vectors is None:
            return []
        results = await self._vectors.asimilarity_search_with_score(query, k=limit)
        return [doc.metadata["chunk_id"] for doc, distance in results if distance <= self.embedder.max_distance]

    async def search(self, query: str, k: int = 5) -> list[SearchHit]:
        """Hybrid retrieval: reciprocal-rank fusion of the full-text and the vector rankings."""
        text_ids = await self.text_search(query)
        vector_ids = await self.vector_search(query)
        scores: dict[str, float] = {}
        for ranking in (text_ids, vector_ids):
            for rank, chunk_id in enumerate(ranking, start=1):
                scores[chunk_id] = scores.get(chunk_id, 0.0) + 1.0 / (RRF_K + rank)
        best = sorted(scores, key=lambda i: scores[i], reverse=True)[:k]
        if not best:
            return []
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT c.id::text AS id, c.source, c.heading, c.content, s.uploaded_by FROM doc_chunks c"
                " JOIN doc_sources s USING (source) WHERE c.id = ANY(%s::uuid[]) AND s.status = 'active'",
                (best,),
            )
            rows = {r["id"]: r for r in await cur.fetchall()}
        return [
            SearchHit(
                chunk_id=i,
                source=rows[i]["source"],
                heading=rows[i]["heading"],
                content=rows[i]["content"],
                score=round(scores[i], 6),
                text_rank=text_ids.index(i) + 1 if i in text_ids else None,
                vector_rank=vector_ids.index(i) + 1 if i in vector_ids else None,
                uploaded_by=rows[i]["uploaded_by"],
            )
            for i in best
            if i in rows
        ]


def _expand(paths: list[Path], report: IngestReport) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED))
        elif not path.exists():
            report.skipped[str(path)] = "no such file"
        elif path.suffix.lower() not in SUPPORTED:
            report.skipped[str(path)] = f"unsupported type {path.suffix or '(none)'}: use .md, .txt or .pdf"
        else:
            files.append(path)
    return files

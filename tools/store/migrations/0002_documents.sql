-- Document store: sources and their chunks with language-aware full-text search (pt and en).
-- Embeddings live in the pgvector table that langchain-postgres manages (created when pgvector exists).
CREATE TABLE doc_sources (
    source       text PRIMARY KEY,
    content_hash text NOT NULL,
    title        text,
    chunks       integer NOT NULL,
    ingested_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE doc_chunks (
    id          uuid PRIMARY KEY,
    source      text NOT NULL REFERENCES doc_sources (source) ON DELETE CASCADE,
    position    integer NOT NULL,
    heading     text NOT NULL DEFAULT '',
    content     text NOT NULL,
    language    text NOT NULL CHECK (language IN ('pt', 'en')),
    tsv         tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector(CASE WHEN language = 'pt' THEN 'portuguese'::regconfig ELSE 'english'::regconfig END,
                              heading), 'A') ||
        setweight(to_tsvector(CASE WHEN language = 'pt' THEN 'portuguese'::regconfig ELSE 'english'::regconfig END,
                              content), 'B') ||
        to_tsvector('simple', heading || ' ' || content)
    ) STORED,
    UNIQUE (source, position)
);
CREATE INDEX doc_chunks_tsv ON doc_chunks USING gin (tsv);

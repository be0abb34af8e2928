-- Knowledge is data with provenance: who uploaded each document and when, and a quarantine for
-- documents whose text reads like instructions to an assistant or asks for credentials (an admin
-- releases them); a quarantined document is never retrieved.
ALTER TABLE doc_sources
    ADD COLUMN id                uuid NOT NULL DEFAULT gen_random_uuid(),
    ADD COLUMN uploaded_by       text,
    ADD COLUMN status            text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'quarantined')),
    ADD COLUMN quarantine_reason text,
    ADD COLUMN released_by       text,
    ADD COLUMN released_at       timestamptz;
CREATE UNIQUE INDEX doc_sources_id ON doc_sources (id);

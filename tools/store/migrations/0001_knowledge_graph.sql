-- Knowledge graph of the plan: workstations, job streams, jobs and dependency edges.
-- Edges point from the predecessor to the dependent ("succ waits for pred").
CREATE TABLE kg_workstations (
    id          text PRIMARY KEY,
    name        text NOT NULL,
    type        text,
    os          text,
    linked      boolean NOT NULL DEFAULT false,
    running     boolean NOT NULL DEFAULT false,
    synced_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX kg_workstations_name ON kg_workstations (name);

CREATE TABLE kg_job_streams (
    id          text PRIMARY KEY,
    name        text NOT NULL,
    workstation text,
    sched_time  timestamptz,
    status      text,
    deadline    timestamptz,
    details_synced boolean NOT NULL DEFAULT false,
    synced_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX kg_job_streams_name ON kg_job_streams (name);

CREATE TABLE kg_jobs (
    id              text PRIMARY KEY,
    name            text NOT NULL,
    workstation     text,
    job_stream_id   text,
    job_stream_name text,
    sched_time      timestamptz,
    status          text,
    return_code     integer,
    critical        boolean NOT NULL DEFAULT false,
    deadline        timestamptz,
    details_synced  boolean NOT NULL DEFAULT false,
    synced_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX kg_jobs_name ON kg_jobs (name);
CREATE INDEX kg_jobs_upper_name ON kg_jobs (upper(name));
CREATE INDEX kg_jobs_stream ON kg_jobs (job_stream_id);

CREATE TABLE kg_edges (
    pred_kind   text NOT NULL CHECK (pred_kind IN ('job', 'stream', 'resource', 'prompt', 'file')),
    pred_id     text NOT NULL,
    succ_kind   text NOT NULL CHECK (succ_kind IN ('job', 'stream')),
    succ_id     text NOT NULL,
    dep_type    text NOT NULL,
    PRIMARY KEY (pred_kind, pred_id, succ_kind, succ_id)
);
CREATE INDEX kg_edges_succ ON kg_edges (succ_kind, succ_id);

-- How work flows: job -> job edges, a job -> its stream (the stream completes after its jobs),
-- and a predecessor stream -> the jobs of the streams that wait for it.
CREATE VIEW kg_flow AS
    SELECT 'job'::text AS pred_kind, e.pred_id, 'job'::text AS succ_kind, e.succ_id
      FROM kg_edges e WHERE e.pred_kind = 'job' AND e.succ_kind = 'job'
    UNION ALL
    SELECT 'job', j.id, 'stream', j.job_stream_id FROM kg_jobs j WHERE j.job_stream_id IS NOT NULL
    UNION ALL
    SELECT 'stream', e.pred_id, 'job', j.id
      FROM kg_edges e JOIN kg_jobs j ON j.job_stream_id = e.succ_id
     WHERE e.pred_kind = 'stream' AND e.succ_kind = 'stream';

-- Incident history: every run seen, and the failed ones with the error signature of their log.
CREATE TABLE job_runs (
    run_id       text PRIMARY KEY,
    job_id       text NOT NULL,
    job_name     text NOT NULL,
    workstation  text,
    job_stream   text,
    started_at   timestamptz,
    ended_at     timestamptz,
    return_code  integer,
    status       text NOT NULL,
    rerun_type   text,
    recorded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX job_runs_job_name ON job_runs (job_name, started_at DESC);

CREATE TABLE incidents (
    run_id       text PRIMARY KEY REFERENCES job_runs (run_id) ON DELETE CASCADE,
    job_name     text NOT NULL,
    status       text NOT NULL,
    return_code  integer,
    signature    text NOT NULL,
    error_line   text,
    log_excerpt  text,
    occurred_at  timestamptz,
    signature_tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', signature)) STORED
);
CREATE INDEX incidents_signature ON incidents (signature);
CREATE INDEX incidents_signature_tsv ON incidents USING gin (signature_tsv);
CREATE INDEX incidents_job ON incidents (job_name, occurred_at DESC);

CREATE TABLE incident_resolutions (
    id           bigserial PRIMARY KEY,
    run_id       text NOT NULL REFERENCES incidents (run_id) ON DELETE CASCADE,
    resolution   text NOT NULL CHECK (length(resolution) BETWEEN 1 AND 10000),
    author       text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX incident_resolutions_run ON incident_resolutions (run_id);

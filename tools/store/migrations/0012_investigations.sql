-- Proactive operations: one investigation per failed run (or late job), written by the watcher
-- before anyone asks; a cascade points at its root failure.
CREATE TABLE investigations (
    id               bigserial PRIMARY KEY,
    run_id           text NOT NULL UNIQUE,            -- a run's id, or late:<job id> for a missed deadline
    kind             text NOT NULL CHECK (kind IN ('failure', 'late')),
    job_id           text,
    job_name         text NOT NULL,
    workstation      text,
    job_stream       text,
    status           text,
    return_code      integer,
    occurred_at      timestamptz,
    category         text NOT NULL,
    severity         text NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low')),
    root_run_id      text,                            -- the root failure this one cascades from
    blocked_jobs     integer NOT NULL DEFAULT 0,
    blocked_streams  integer NOT NULL DEFAULT 0,
    critical_blocked integer NOT NULL DEFAULT 0,
    evidence         jsonb NOT NULL DEFAULT '{}',
    next_step        text NOT NULL,
    next_step_pt     text NOT NULL,
    action           text,                            -- the write that would act on it (needs approval)
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX investigations_occurred ON investigations (occurred_at DESC);
CREATE INDEX investigations_created ON investigations (created_at);

-- How far a watcher has read (the end time of the newest run it has seen).
CREATE TABLE watch_marks (
    name        text PRIMARY KEY,
    mark        timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

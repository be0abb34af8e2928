-- Every chat answer (run) with the variant that produced it, and one thumbs up/down per user and run.
CREATE TABLE answer_runs (
    run_id      uuid PRIMARY KEY,
    thread_id   text NOT NULL,
    caller      text NOT NULL,
    variant     text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX answer_runs_created ON answer_runs (created_at);

CREATE TABLE feedback (
    run_id      uuid NOT NULL REFERENCES answer_runs (run_id) ON DELETE CASCADE,
    caller      text NOT NULL,
    score       smallint NOT NULL CHECK (score IN (-1, 1)),
    comment     text,
    variant     text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, caller)
);
CREATE INDEX feedback_created ON feedback (created_at);

-- Tool executions (audit of every call) and approvals of write actions.
CREATE TABLE tool_executions (
    id           bigserial PRIMARY KEY,
    tool         text NOT NULL,
    caller       text NOT NULL,
    role         text NOT NULL,
    arguments    jsonb NOT NULL DEFAULT '{}',
    duration_ms  double precision NOT NULL,
    outcome      text NOT NULL CHECK (outcome IN ('ok', 'error', 'invalid', 'refused', 'pending_approval', 'rejected')),
    error        text,
    approval_id  text,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tool_executions_created ON tool_executions (created_at DESC);
CREATE INDEX tool_executions_tool ON tool_executions (tool);

CREATE TABLE approvals (
    id              text PRIMARY KEY,
    thread_id       text,
    tool            text NOT NULL,
    arguments       jsonb NOT NULL,
    target          jsonb NOT NULL,
    description     text NOT NULL,
    requested_by    text NOT NULL,
    requested_role  text NOT NULL,
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'approved', 'rejected', 'expired', 'used')),
    decided_by      text,
    justification   text,
    ticket          text,
    category        text,
    result          jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    decided_at      timestamptz,
    expires_at      timestamptz NOT NULL,
    used_at         timestamptz
);
CREATE INDEX approvals_pending ON approvals (status, created_at) WHERE status = 'pending';

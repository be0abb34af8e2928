-- Approvals become self-contained contracts: a random id, the exact action and target, the state the
-- requester saw, and an explicit outcome (pending → approved → executing → done | failed | stale |
-- unknown; rejected; expired). "used" approvals of the first release were executed: they are "done".
ALTER TABLE approvals DROP CONSTRAINT IF EXISTS approvals_status_check;
UPDATE approvals SET status = 'done' WHERE status = 'used';
ALTER TABLE approvals ADD CONSTRAINT approvals_status_check CHECK (status IN (
    'pending', 'approved', 'executing', 'done', 'failed', 'stale', 'unknown', 'rejected', 'expired'));
ALTER TABLE approvals
    ADD COLUMN action        text,
    ADD COLUMN request_key   text UNIQUE,
    ADD COLUMN tool_call_id  text,
    ADD COLUMN reason        text,
    ADD COLUMN executed_at   timestamptz,
    ADD COLUMN finished_at   timestamptz;
UPDATE approvals SET action = tool WHERE action IS NULL;
ALTER TABLE approvals ALTER COLUMN action SET NOT NULL;
CREATE INDEX approvals_thread ON approvals (thread_id, created_at DESC);

ALTER TABLE tool_executions DROP CONSTRAINT IF EXISTS tool_executions_outcome_check;
ALTER TABLE tool_executions ADD CONSTRAINT tool_executions_outcome_check CHECK (outcome IN (
    'ok', 'error', 'invalid', 'refused', 'pending_approval', 'rejected', 'stale', 'unknown', 'failed'));

-- One write per intent: at most one open approval (pending, approved or executing) per engine,
-- action and target job; the recovery pass counts its checks of an unanswered write.
ALTER TABLE approvals
    ADD COLUMN engine          text NOT NULL DEFAULT 'default',
    ADD COLUMN target_key      text,
    ADD COLUMN checks          integer NOT NULL DEFAULT 0,
    ADD COLUMN last_checked_at timestamptz;
UPDATE approvals SET target_key = engine || ':' || action || ':' || coalesce(target->>'job_id', id);
ALTER TABLE approvals ALTER COLUMN target_key SET NOT NULL;

-- requests made before this rule: one open approval of each intent stays (one executing, else the
-- newest), the others end here without anything being sent
UPDATE approvals a
   SET status = 'expired', finished_at = now(), decided_at = coalesce(decided_at, now()),
       reason = 'superseded by another request for the same action on the same job: nothing was done'
 WHERE a.status IN ('pending', 'approved')
   AND EXISTS (SELECT 1 FROM approvals b
                WHERE b.target_key = a.target_key AND b.id <> a.id
                  AND (b.status = 'executing'
                       OR (b.status IN ('pending', 'approved') AND (b.created_at, b.id) > (a.created_at, a.id))));
UPDATE approvals a
   SET status = 'unknown', finished_at = now(),
       reason = 'two writes of one intent were executing at once before this rule: check the job'
 WHERE a.status = 'executing'
   AND EXISTS (SELECT 1 FROM approvals b
                WHERE b.target_key = a.target_key AND b.status = 'executing'
                  AND (b.created_at, b.id) > (a.created_at, a.id));

CREATE UNIQUE INDEX approvals_one_open_intent ON approvals (target_key)
    WHERE status IN ('pending', 'approved', 'executing');
CREATE INDEX approvals_unanswered ON approvals (status, executed_at) WHERE status IN ('executing', 'unknown');

-- a request that joined another's open approval, by the key of the graph task that asked: a resumed
-- task finds the approval it joined (and never creates a second one once that one has ended)
CREATE TABLE approval_joins (
    request_key  text PRIMARY KEY,
    approval_id  text NOT NULL REFERENCES approvals (id) ON DELETE CASCADE,
    joined_by    text NOT NULL,
    joined_at    timestamptz NOT NULL DEFAULT now()
);

-- One write per intent: at most one open approval (pending, approved or executing) per engine,
-- action and target job; the recovery pass counts its checks of an unanswered write.
ALTER TABLE approvals
    ADD COLUMN engine          text NOT NULL DEFAULT 'default',
    ADD COLUMN target_key      text,
    ADD COLUMN checks          integer NOT NULL DEFAULT 0,
    ADD COLUMN last_checked_at timestamptz;
UPDATE approvals SET target_key = engine || ':' || action || ':' || coalesce(target->>'job_id', id);
ALTER TABLE approvals ALTER COLUMN target_key SET NOT NULL;

-- requests made before this rule: the newest open one of each intent stays, older ones end here
UPDATE approvals a
   SET status = 'expired', finished_at = now(), decided_at = coalesce(decided_at, now()),
       reason = 'superseded by a newer request for the same action on the same job: nothing was done'
 WHERE a.status IN ('pending', 'approved')
   AND EXISTS (SELECT 1 FROM approvals b
                WHERE b.target_key = a.target_key AND b.status IN ('pending', 'approved', 'executing')
                  AND (b.created_at, b.id) > (a.created_at, a.id));
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

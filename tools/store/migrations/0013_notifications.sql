-- What was sent where: one message per channel and investigation (or day, for the digest); a
-- cascade's message names its root's thread key.
CREATE TABLE notifications (
    id             bigserial PRIMARY KEY,
    channel        text NOT NULL,
    key            text NOT NULL,          -- investigation:<id> or digest:<date>
    thread_key     text,                   -- the root failure's run id (updates thread onto it)
    status         text NOT NULL CHECK (status IN ('sent', 'failed')),
    attempts       integer NOT NULL DEFAULT 1,
    error          text,
    sent_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (channel, key)
);

-- Who owns a conversation thread: only its owner (or an admin) may continue or resume it.
CREATE TABLE chat_threads (
    thread_id   text PRIMARY KEY,
    owner       text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

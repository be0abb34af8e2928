-- API keys of the HTTP API, hashed at rest (sha256 of the key; the key itself is shown once).
CREATE TABLE api_keys (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL,
    key_hash    text NOT NULL UNIQUE,
    role        text NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

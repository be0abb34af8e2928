-- Servers keep the keys they looked up for a while; any change to a key (a revocation from the API,
-- the CLI or plain SQL) tells every listening server to forget them at once.
CREATE FUNCTION api_keys_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('resync_api_keys', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER api_keys_changed AFTER UPDATE OR DELETE OR TRUNCATE ON api_keys
    FOR EACH STATEMENT EXECUTE FUNCTION api_keys_changed();

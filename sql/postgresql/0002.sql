-- smimpd schema, version 2, PostgreSQL dialect of sql/0002.sql: the distinct
-- public keys of each history, so that update_profile's check that a record
-- does not bring back a replaced key (5) is one primary-key lookup, where it
-- was a read of every record of the account (up to 10,000). A table rather
-- than an index on records: with one key in most of a history the planner's
-- generic plan for such an index is a sequential scan. The trigger keeps it
-- in the transaction that adds a record, whichever smimpd writes it.
CREATE TABLE record_keys (
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    public_key  BYTEA  NOT NULL,
    PRIMARY KEY (account_id, public_key)
);

INSERT INTO record_keys (account_id, public_key)
    SELECT DISTINCT account_id, public_key FROM records;

CREATE FUNCTION record_keys_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO record_keys (account_id, public_key)
        VALUES (NEW.account_id, NEW.public_key)
        ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

CREATE TRIGGER records_add_key AFTER INSERT ON records
    FOR EACH ROW EXECUTE FUNCTION record_keys_add();

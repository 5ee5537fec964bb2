-- smimpd schema, version 2: the distinct public keys of each history. A
-- record must not bring back a key its chain replaced (5), so update_profile
-- asks whether the history holds the record's key: with this table that is
-- one primary-key lookup, where it was a read of every record (up to 10,000
-- per account). The trigger keeps the table in the transaction that adds a
-- record, whichever smimpd writes it (also an older one during an upgrade).
CREATE TABLE record_keys (
    account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    public_key  BLOB    NOT NULL,   -- 32 bytes, the key of some record
    PRIMARY KEY (account_id, public_key)
) WITHOUT ROWID;

INSERT INTO record_keys (account_id, public_key)
    SELECT DISTINCT account_id, public_key FROM records;

CREATE TRIGGER records_add_key AFTER INSERT ON records
WHEN NOT EXISTS (SELECT 1 FROM record_keys
                 WHERE account_id = NEW.account_id AND public_key = NEW.public_key)
BEGIN
    INSERT INTO record_keys (account_id, public_key)
        VALUES (NEW.account_id, NEW.public_key);
END;

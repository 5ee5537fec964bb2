-- smimpd schema, version 1: everything the spec (SMIMP 0.1) asks a server to
-- keep. Binary values (keys, hashes, nonces, signatures) are BLOBs of their
-- raw bytes; times are seconds since the epoch (UTC); sizes are bytes.
-- Applied by the migration runner inside one transaction, which also records
-- the version in schema_version (created by the runner itself).

-- Local accounts (11.1, 11.9).
CREATE TABLE accounts (
    id                     INTEGER PRIMARY KEY,
    address                TEXT    NOT NULL UNIQUE,  -- normal form local#domain
    domain                 TEXT    NOT NULL,
    init_password_hash     TEXT,                     -- crypto_pwhash_str of the
                                                     -- 32-byte H value; NULL once used
    init_password_expires  INTEGER,
    init_failures          INTEGER NOT NULL DEFAULT 0, -- for the attempt limit
    init_failed_at         INTEGER,
    initialized            INTEGER NOT NULL DEFAULT 0 CHECK (initialized IN (0, 1)),
    quota_limit            INTEGER NOT NULL,         -- -1 = unlimited
    used_bytes             INTEGER NOT NULL DEFAULT 0 CHECK (used_bytes >= 0),
    created_at             INTEGER NOT NULL
);
CREATE INDEX accounts_domain ON accounts (domain);

-- The signed history (5), oldest first.
CREATE TABLE records (
    account_id   INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    seq          INTEGER NOT NULL CHECK (seq >= 0),
    data         TEXT    NOT NULL,   -- exact bytes of the "data" string
    signed_hash  BLOB    NOT NULL,   -- 96 bytes
    public_key   BLOB    NOT NULL,   -- 32 bytes, the master key from this record on
    PRIMARY KEY (account_id, seq)
);

-- A public key belongs to one address for ever (5). Kept when an account is
-- removed, so a key can never move to another address of this server.
CREATE TABLE key_bindings (
    public_key  BLOB PRIMARY KEY,
    address     TEXT NOT NULL,
    bound_at    INTEGER NOT NULL
);

-- Ephemeral message keys (6, 9, 11.3). A key not yet issued has issued_at
-- NULL; an issued key is valid for one accepted message for 7 days.
CREATE TABLE ephemeral_keys (
    id           INTEGER PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    key          BLOB    NOT NULL,   -- 32 bytes
    signed_hash  BLOB    NOT NULL,   -- 96 bytes
    signer_key   BLOB    NOT NULL,   -- master key that signed it
    issued_to    TEXT,               -- sender address
    issued_at    INTEGER,
    used_at      INTEGER,            -- when it carried its one message
    UNIQUE (account_id, key)
);
CREATE INDEX ephemeral_keys_free ON ephemeral_keys (account_id, id)
    WHERE issued_at IS NULL;
CREATE INDEX ephemeral_keys_issued ON ephemeral_keys (issued_at)
    WHERE issued_at IS NOT NULL;

-- Non-ephemeral message keys (11.2): one current (replaced_at NULL) and the
-- recent ones, kept 30 days after they were replaced.
CREATE TABLE nonephemeral_keys (
    id           INTEGER PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    key          BLOB    NOT NULL,
    signed_hash  BLOB    NOT NULL,
    signer_key   BLOB    NOT NULL,
    created_at   INTEGER NOT NULL,
    replaced_at  INTEGER
);
CREATE UNIQUE INDEX nonephemeral_keys_current ON nonephemeral_keys (account_id)
    WHERE replaced_at IS NULL;
CREATE INDEX nonephemeral_keys_account ON nonephemeral_keys (account_id, key);

-- Ephemeral key draws, for the per-sender per-recipient hourly limit (9.3).
CREATE TABLE ephemeral_draws (
    account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    sender      TEXT    NOT NULL,
    drawn_at    INTEGER NOT NULL
);
CREATE INDEX ephemeral_draws_lookup ON ephemeral_draws (account_id, sender, drawn_at);

-- Login tokens (7): single use, 60 seconds, bound to an address (local or
-- remote). Only H("smimp/0.1/login-token", token) is kept, which is also the
-- login token hash bound into proofs of work and envelopes.
CREATE TABLE login_tokens (
    token_hash  BLOB    PRIMARY KEY,
    address     TEXT    NOT NULL,
    expires_at  INTEGER NOT NULL,
    used        INTEGER NOT NULL DEFAULT 0 CHECK (used IN (0, 1))
);
CREATE INDEX login_tokens_expiry ON login_tokens (expires_at);

-- Sessions (7). Only a hash of the session id is kept.
CREATE TABLE sessions (
    session_hash      BLOB    PRIMARY KEY,
    address           TEXT    NOT NULL,
    remote            INTEGER NOT NULL CHECK (remote IN (0, 1)),
    public_key        BLOB    NOT NULL,  -- master key that verified the login
    login_token_hash  BLOB    NOT NULL,
    created_at        INTEGER NOT NULL,
    expires_at        INTEGER NOT NULL,
    destroyed         INTEGER NOT NULL DEFAULT 0 CHECK (destroyed IN (0, 1))
);
CREATE INDEX sessions_address ON sessions (address);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- Proof-of-work nonces (8): single use, bound to the session, the recipient
-- and the message type; they die with the session.
CREATE TABLE pow_nonces (
    nonce         BLOB    PRIMARY KEY,
    session_hash  BLOB    NOT NULL REFERENCES sessions (session_hash) ON DELETE CASCADE,
    recipient     TEXT    NOT NULL,
    message_type  TEXT    NOT NULL,
    zero_bits     INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    used          INTEGER NOT NULL DEFAULT 0 CHECK (used IN (0, 1))
);
CREATE INDEX pow_nonces_session ON pow_nonces (session_hash);

-- Folders (11.5), per message type; parent NULL is the root folder.
CREATE TABLE folders (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    message_type  TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    display_name  TEXT    NOT NULL,
    parent_id     INTEGER REFERENCES folders (id) ON DELETE RESTRICT,
    UNIQUE (account_id, message_type, name)
);
CREATE INDEX folders_parent ON folders (parent_id);

-- Stored envelopes (9) with the fields the server adds.
CREATE TABLE messages (
    id                  INTEGER PRIMARY KEY,
    message_id          BLOB    NOT NULL UNIQUE,  -- 32 bytes
    account_id          INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    recipient           TEXT    NOT NULL,
    sender              TEXT    NOT NULL,
    sender_public_key   BLOB    NOT NULL,
    message_type        TEXT    NOT NULL,
    algorithm           TEXT    NOT NULL,
    message_public_key  BLOB    NOT NULL,
    nonce               BLOB    NOT NULL,
    ciphertext          BLOB    NOT NULL,
    proof_of_work       TEXT,
    pow_zero_bits       INTEGER,
    pow_nonce           BLOB,
    message_hash        BLOB    NOT NULL,         -- the 96-byte signed hash
    login_token_hash    BLOB    NOT NULL,
    session_hash        BLOB    NOT NULL,         -- for the identical-retry rule
    received_at         INTEGER NOT NULL,
    received_via        TEXT    NOT NULL DEFAULT 'smimp_client',
    protocol_version    TEXT    NOT NULL DEFAULT '0.1',
    read                INTEGER NOT NULL DEFAULT 0 CHECK (read IN (0, 1)),
    extensions          BLOB,                     -- the owner's opaque data
    folder_id           INTEGER REFERENCES folders (id) ON DELETE RESTRICT,
    size                INTEGER NOT NULL          -- ciphertext bytes
);
CREATE INDEX messages_listing ON messages
    (account_id, message_type, folder_id, received_at DESC, message_id DESC);
CREATE INDEX messages_retry ON messages (account_id, message_hash, session_hash);
CREATE INDEX messages_folder ON messages (folder_id) WHERE folder_id IS NOT NULL;

-- Whitelist and blacklist entries (11.8).
CREATE TABLE list_entries (
    account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    list        TEXT    NOT NULL CHECK (list IN ('white', 'black')),
    hash        BLOB    NOT NULL,   -- H("smimp/0.1/list-entry", value)
    data        BLOB    NOT NULL,   -- the owner's encrypted note
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (account_id, list, hash)
);

-- Avatars (11.7), one per account.
CREATE TABLE avatars (
    account_id   INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    hash         BLOB    NOT NULL,  -- BLAKE2b-256 of the image, names avatar_file/{hash}
    image        BLOB    NOT NULL,
    mime         TEXT    NOT NULL CHECK (mime IN ('image/png', 'image/jpeg')),
    signed_hash  BLOB    NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX avatars_hash ON avatars (hash);

-- Pins of remote users' histories (5.1, 7.1).
CREATE TABLE remote_pins (
    address             TEXT    PRIMARY KEY,
    first_signed_hash   BLOB    NOT NULL,
    first_public_key    BLOB    NOT NULL,
    latest_seq          INTEGER NOT NULL,
    latest_signed_hash  BLOB    NOT NULL,
    latest_public_key   BLOB    NOT NULL,
    updated_at          INTEGER NOT NULL
);

-- smimpd schema, version 4: proof-of-work nonces without a row until used.
-- get_pow_params now mints a nonce that carries its own binding (session,
-- recipient, type, zero bits) under a server secret (pow_nonce.h), so it
-- writes nothing; send_message records each use. Nonces issued before this
-- version are refused (a sender asks for a new one).
DROP TABLE pow_nonces;

-- Secrets of the server itself, shared by every process on this database.
-- 'pow_nonce_key': the key that authenticates proof-of-work nonces.
CREATE TABLE server_secrets (
    name   TEXT PRIMARY KEY,
    value  BLOB NOT NULL
);

-- Proof-of-work nonces used (8): one row per nonce named by a send of its
-- session, whatever the outcome. A nonce dies with its session, and so
-- does the row.
CREATE TABLE pow_nonces_used (
    session_hash  BLOB NOT NULL REFERENCES sessions (session_hash) ON DELETE CASCADE,
    nonce         BLOB NOT NULL,
    PRIMARY KEY (session_hash, nonce)
) WITHOUT ROWID;

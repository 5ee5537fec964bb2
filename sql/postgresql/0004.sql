-- smimpd schema, version 4: proof-of-work nonces without a row until used.
-- get_pow_params now mints a nonce that carries its own binding (session,
-- recipient, type, zero bits) under a server secret (pow_nonce.h), so it
-- writes nothing; send_message records each use. Nonces issued before this
-- version are refused (a sender asks for a new one). Every node must run
-- this version: an older node keeps writing to the dropped table.
DROP TABLE pow_nonces;

-- Secrets of the server itself, shared by every node on this database.
-- 'pow_nonce_key': the key that authenticates proof-of-work nonces.
CREATE TABLE server_secrets (
    name   TEXT  PRIMARY KEY,
    value  BYTEA NOT NULL
);

-- Proof-of-work nonces used (8): one row per nonce named by a send of its
-- session, whatever the outcome; the primary key makes the use single
-- across nodes. A nonce dies with its session, and so does the row.
CREATE TABLE pow_nonces_used (
    session_hash  BYTEA NOT NULL REFERENCES sessions (session_hash) ON DELETE CASCADE,
    nonce         BYTEA NOT NULL,
    PRIMARY KEY (session_hash, nonce)
);

-- The PostgreSQL schema: the same tables as SQLite's migrations 0001–0006 leave, for several
-- zkrelay instances sharing one database (issue 15). Integers are BIGINT (the store reads i64).

-- Every server process using the database: a random id and its last heartbeat (Unix seconds).
-- Rows of an instance whose heartbeat is older than the lease belong to nobody and are swept.
CREATE TABLE instances (
    id           TEXT   PRIMARY KEY,
    heartbeat_at BIGINT NOT NULL
);

-- The pool of Blum integers n = p·q handed to new Peggys. p and q are never stored. Ids come from
-- a sequence, so an erased modulus's id is never handed out again.
CREATE TABLE blum_moduli (
    id         BIGSERIAL PRIMARY KEY,
    -- n in the canonical wire encoding (lowercase hex, no leading zeros).
    n          TEXT   NOT NULL,
    bits       BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    -- Unix seconds when a Peggy drew it; NULL while it waits in the pool.
    issued_at  BIGINT,
    -- The instance that issued it.
    instance   TEXT
);
CREATE INDEX blum_moduli_ready ON blum_moduli (bits) WHERE issued_at IS NULL;
-- Pool moduli are unique; readable demo moduli (< 1024 bits) may repeat.
CREATE UNIQUE INDEX blum_moduli_unique_n ON blum_moduli (n) WHERE bits >= 1024;

-- Registered Peggys, while their socket is open on `instance`.
CREATE TABLE peggys (
    seq           BIGSERIAL PRIMARY KEY,
    id            TEXT   NOT NULL UNIQUE,
    name          TEXT   NOT NULL,
    modulus_id    BIGINT NOT NULL REFERENCES blum_moduli (id) ON DELETE CASCADE,
    k             BIGINT NOT NULL CHECK (k BETWEEN 1 AND 64),
    public_key    TEXT   NOT NULL,
    created_at    BIGINT NOT NULL,
    status        TEXT   NOT NULL DEFAULT 'waiting' CHECK (status IN ('waiting', 'busy')),
    secret_sha256 BYTEA  NOT NULL CHECK (length(secret_sha256) = 32),
    instance      TEXT   NOT NULL
);
CREATE UNIQUE INDEX peggys_modulus ON peggys (modulus_id);

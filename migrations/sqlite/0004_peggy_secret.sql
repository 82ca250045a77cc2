-- A Peggy's seat secret: register_peggy hands her 32 random bytes (as 64 hex digits) that open
-- her WebSocket; the server keeps only their SHA-256, so its database cannot open her seat.
--
-- The column is NOT NULL and a registration without a secret could never connect, so peggys is
-- rebuilt empty rather than altered: its rows belong to live connections and are swept at every
-- start-up anyway (the issued moduli they point to go with that sweep; the pool stays).
DROP TABLE peggys;

-- As in 0003, with secret_sha256.
CREATE TABLE peggys (
    id            TEXT    PRIMARY KEY NOT NULL,
    name          TEXT    NOT NULL,
    modulus_id    INTEGER NOT NULL REFERENCES blum_moduli (id) ON DELETE CASCADE,
    k             INTEGER NOT NULL CHECK (k BETWEEN 1 AND 64),
    public_key    TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    status        TEXT    NOT NULL DEFAULT 'waiting' CHECK (status IN ('waiting', 'busy')),
    -- SHA-256 of the 32 secret bytes; the secret itself is never stored.
    secret_sha256 BLOB    NOT NULL CHECK (length(secret_sha256) = 32)
);
CREATE UNIQUE INDEX peggys_modulus ON peggys (modulus_id);

-- Readable demo mode: moduli below 1024 bits (the Handbook's n = 553913, or a fresh 32-bit one)
-- are issued straight to a Peggy and are no secret of anyone's, so one n may be issued to many
-- Peggys at once. Only the pool's moduli (1024 bits and more) must stay unique, now by a partial
-- index. Each issue is still its own row with its own id, so "one registration per issued
-- modulus" (peggys_modulus) holds for demo moduli too.
--
-- SQLite cannot drop a column's UNIQUE in place: blum_moduli is rebuilt with its rows and its
-- AUTOINCREMENT high-water mark (ids are never reused), peggys is rebuilt empty as in 0003 (its
-- rows belong to live connections and are swept at every start-up anyway).
DROP TABLE peggys;

CREATE TABLE blum_moduli_next (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    n          TEXT    NOT NULL,
    bits       INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    issued_at  INTEGER
);
INSERT INTO blum_moduli_next (id, n, bits, created_at, issued_at)
    SELECT id, n, bits, created_at, issued_at FROM blum_moduli;
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'blum_moduli_next', 0
    WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'blum_moduli_next');
UPDATE sqlite_sequence
    SET seq = max(seq, coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'blum_moduli'), 0))
    WHERE name = 'blum_moduli_next';
DROP TABLE blum_moduli;
ALTER TABLE blum_moduli_next RENAME TO blum_moduli;
CREATE INDEX blum_moduli_ready ON blum_moduli (bits) WHERE issued_at IS NULL;
CREATE UNIQUE INDEX blum_moduli_unique_n ON blum_moduli (n) WHERE bits >= 1024;

-- As in 0004.
CREATE TABLE peggys (
    id            TEXT    PRIMARY KEY NOT NULL,
    name          TEXT    NOT NULL,
    modulus_id    INTEGER NOT NULL REFERENCES blum_moduli (id) ON DELETE CASCADE,
    k             INTEGER NOT NULL CHECK (k BETWEEN 1 AND 64),
    public_key    TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    status        TEXT    NOT NULL DEFAULT 'waiting' CHECK (status IN ('waiting', 'busy')),
    secret_sha256 BLOB    NOT NULL CHECK (length(secret_sha256) = 32)
);
CREATE UNIQUE INDEX peggys_modulus ON peggys (modulus_id);

-- Ids of erased moduli are never handed out again (AUTOINCREMENT): an id a Peggy was given names
-- that one modulus forever, even after it is erased and the pool makes new ones.
--
-- SQLite cannot add AUTOINCREMENT in place, so blum_moduli is rebuilt with its rows (the pool's
-- unissued moduli are costly to make). peggys references it and is rebuilt too, empty: its rows
-- belong to live connections and are swept at every start-up anyway.
CREATE TABLE blum_moduli_next (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    n          TEXT    NOT NULL UNIQUE,
    bits       INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    issued_at  INTEGER
);
INSERT INTO blum_moduli_next (id, n, bits, created_at, issued_at)
    SELECT id, n, bits, created_at, issued_at FROM blum_moduli;

DROP TABLE peggys;
DROP TABLE blum_moduli;
ALTER TABLE blum_moduli_next RENAME TO blum_moduli;
CREATE INDEX blum_moduli_ready ON blum_moduli (bits) WHERE issued_at IS NULL;

-- As in 0002.
CREATE TABLE peggys (
    id          TEXT    PRIMARY KEY NOT NULL,
    name        TEXT    NOT NULL,
    modulus_id  INTEGER NOT NULL REFERENCES blum_moduli (id) ON DELETE CASCADE,
    k           INTEGER NOT NULL CHECK (k BETWEEN 1 AND 64),
    public_key  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    status      TEXT    NOT NULL DEFAULT 'waiting' CHECK (status IN ('waiting', 'busy'))
);
CREATE UNIQUE INDEX peggys_modulus ON peggys (modulus_id);

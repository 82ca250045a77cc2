-- The pool of Blum integers n = p·q handed to new Peggys. p and q are never stored.
CREATE TABLE blum_moduli (
    id         INTEGER PRIMARY KEY,
    -- n in the canonical wire encoding (lowercase hex, no leading zeros).
    n          TEXT    NOT NULL UNIQUE,
    bits       INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    -- Unix seconds when a Peggy drew it; NULL while it waits in the pool.
    issued_at  INTEGER
);

CREATE INDEX blum_moduli_ready ON blum_moduli (bits) WHERE issued_at IS NULL;

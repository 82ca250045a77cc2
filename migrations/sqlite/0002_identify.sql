-- Registered Peggys: a name, the issued Blum modulus her key is built on, and her public key.
-- Rows live only while the Peggy is connected (and are swept at start-up): the secrets never
-- reach the server.
CREATE TABLE peggys (
    -- 128 random bits as 32 lowercase hex digits.
    id          TEXT    PRIMARY KEY NOT NULL,
    -- Trimmed, 1..=40 characters, no control characters (checked before insert).
    name        TEXT    NOT NULL,
    -- The modulus drawn for this Peggy; deleting it deletes the registration too.
    modulus_id  INTEGER NOT NULL REFERENCES blum_moduli (id) ON DELETE CASCADE,
    k           INTEGER NOT NULL CHECK (k BETWEEN 1 AND 64),
    -- The public key as its canonical wire JSON {"n": hex, "k": k, "i": [hex, ...]}.
    public_key  TEXT    NOT NULL,
    -- Unix seconds.
    created_at  INTEGER NOT NULL,
    status      TEXT    NOT NULL DEFAULT 'waiting' CHECK (status IN ('waiting', 'busy'))
);

-- One issued modulus serves one registration.
CREATE UNIQUE INDEX peggys_modulus ON peggys (modulus_id);

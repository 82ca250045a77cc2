-- Instances (issue 15): every server process that opens the database registers itself with a
-- random id and a heartbeat, and tags the Peggys it registers and the moduli it issues with that
-- id. A start-up or periodic sweep then erases only the rows of instances that are gone, never a
-- live instance's. With SQLite one process owns the file, so every other instance counts as gone.
--
-- peggys is rebuilt empty (as in 0003–0005: its rows belong to live connections and are swept at
-- every start-up anyway) with `seq`, its insertion order, as the primary key and the instance id.
CREATE TABLE instances (
    id           TEXT    PRIMARY KEY NOT NULL,
    -- Unix seconds of the instance's last heartbeat.
    heartbeat_at INTEGER NOT NULL
);

-- The instance that issued a modulus (NULL while it waits in the pool).
ALTER TABLE blum_moduli ADD COLUMN instance TEXT;

DROP TABLE peggys;
CREATE TABLE peggys (
    seq           INTEGER PRIMARY KEY,
    id            TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    modulus_id    INTEGER NOT NULL REFERENCES blum_moduli (id) ON DELETE CASCADE,
    k             INTEGER NOT NULL CHECK (k BETWEEN 1 AND 64),
    public_key    TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    status        TEXT    NOT NULL DEFAULT 'waiting' CHECK (status IN ('waiting', 'busy')),
    secret_sha256 BLOB    NOT NULL CHECK (length(secret_sha256) = 32),
    -- The instance whose socket this Peggy waits on.
    instance      TEXT    NOT NULL
);
CREATE UNIQUE INDEX peggys_modulus ON peggys (modulus_id);

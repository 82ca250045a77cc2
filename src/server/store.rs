//! The store: every table behind one [`Store`] type.
//!
//! SQLite by default (a file, WAL journal, busy timeout, foreign keys on), with migrations from
//! `migrations/` applied at open. Callers see only `Store`'s methods, so another database can be
//! added behind them without touching the callers.

use sqlx::{
    SqlitePool,
    migrate::MigrateError,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};
use std::{str::FromStr, time::Duration};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A failure of the store. Logged by the server; clients see only `ApiError::internal()`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] MigrateError),
    #[error("cannot create the database folder {0}: {1}")]
    Folder(String, std::io::Error),
}

impl From<StoreError> for crate::api::ApiError {
    fn from(err: StoreError) -> Self {
        tracing::error!(error = %err, "store failure");
        crate::api::ApiError::internal()
    }
}

/// A modulus drawn from the pool: its row id and n in the canonical wire encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedModulus {
    pub id: i64,
    pub n_hex: String,
}

/// A modulus row as registration sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModulusRecord {
    pub id: i64,
    pub n_hex: String,
    pub bits: u32,
    /// Drawn from the pool (handed to someone).
    pub issued: bool,
    /// A Peggy registered a key on it.
    pub registered: bool,
}

/// A validated registration, ready to insert.
#[derive(Debug, Clone, Copy)]
pub struct NewPeggy<'a> {
    pub name: &'a str,
    pub modulus_id: i64,
    /// The key's n in the canonical wire encoding; must be the issued modulus's.
    pub n_hex: &'a str,
    pub k: u32,
    /// The key's canonical wire JSON.
    pub public_key: &'a str,
    /// SHA-256 of her seat secret (the secret itself is never stored).
    pub secret_sha256: &'a [u8; 32],
}

/// What [`Store::insert_peggy`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsertPeggy {
    /// Registered under this new id (32 hex digits).
    Inserted(String),
    /// No issued modulus with that id and n.
    NoSuchModulus,
    /// Another Peggy already registered that modulus.
    ModulusTaken,
}

/// A registered Peggy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeggyRecord {
    pub id: String,
    pub name: String,
    pub modulus_id: i64,
    pub bits: u32,
    pub k: u32,
    /// Canonical wire JSON of her public key.
    pub public_key: String,
    pub created_at: i64,
    /// A Victor is running an identification with her.
    pub busy: bool,
}

type PeggyRow = (String, String, i64, i64, i64, String, i64, String);

impl From<PeggyRow> for PeggyRecord {
    fn from((id, name, modulus_id, bits, k, public_key, created_at, status): PeggyRow) -> Self {
        Self {
            id,
            name,
            modulus_id,
            bits: u32::try_from(bits).unwrap_or(0),
            k: u32::try_from(k).unwrap_or(0),
            public_key,
            created_at,
            busy: status == "busy",
        }
    }
}

const PEGGY_SELECT_ALL: &str = "SELECT p.id, p.name, p.modulus_id, m.bits, p.k, p.public_key, \
     p.created_at, p.status FROM peggys p JOIN blum_moduli m ON m.id = p.modulus_id \
     ORDER BY p.created_at, p.rowid";

const PEGGY_SELECT_LISTED: &str = "SELECT p.id, p.name, p.modulus_id, m.bits, p.k, p.public_key, \
     p.created_at, p.status FROM peggys p JOIN blum_moduli m ON m.id = p.modulus_id \
     WHERE ?1 IS NULL OR p.name = ?1 ORDER BY p.created_at, p.rowid LIMIT ?2";

const PEGGY_SELECT_ONE: &str = "SELECT p.id, p.name, p.modulus_id, m.bits, p.k, p.public_key, \
     p.created_at, p.status FROM peggys p JOIN blum_moduli m ON m.id = p.modulus_id \
     WHERE p.id = ?";

/// A new Peggy id: 128 bits from the OS CSPRNG as 32 lowercase hex digits.
fn random_id() -> String {
    use crate::protocol::ffs::rand_core::Rng;
    let mut bytes = [0u8; 16];
    crate::rng::os_rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The application's database.
#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
}

impl Store {
    /// Opens (creating if missing) the database at `url` and applies pending migrations.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let path = options.get_filename();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Folder(dir.display().to_string(), e))?;
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Self { pool })
    }

    /// Number of Blum moduli of `bits` bits ready to be drawn.
    pub async fn ready_moduli(&self, bits: u32) -> Result<u32, StoreError> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM blum_moduli WHERE bits = ? AND issued_at IS NULL",
        )
        .bind(bits)
        .fetch_one(&self.pool)
        .await?;
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    }

    /// Adds a freshly generated modulus (lowercase hex) to the pool.
    pub async fn add_modulus(&self, n_hex: &str, bits: u32) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO blum_moduli (n, bits, created_at) VALUES (?, ?, ?)")
            .bind(n_hex)
            .bind(bits)
            .bind(unix_now())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Takes one ready modulus of `bits` bits, chosen at random, and marks it issued — in one
    /// statement, so two concurrent draws can never receive the same n. `None` if none is ready.
    pub async fn draw_modulus(&self, bits: u32) -> Result<Option<IssuedModulus>, StoreError> {
        let row: Option<(i64, String)> = sqlx::query_as(
            "UPDATE blum_moduli SET issued_at = ? \
             WHERE id = (SELECT id FROM blum_moduli WHERE bits = ? AND issued_at IS NULL \
                         ORDER BY random() LIMIT 1) \
             RETURNING id, n",
        )
        .bind(unix_now())
        .bind(bits)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(id, n_hex)| IssuedModulus { id, n_hex }))
    }

    /// Inserts a modulus generated on demand (the pool was empty) directly as issued.
    pub async fn issue_new_modulus(
        &self,
        n_hex: &str,
        bits: u32,
    ) -> Result<IssuedModulus, StoreError> {
        let now = unix_now();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO blum_moduli (n, bits, created_at, issued_at) VALUES (?, ?, ?, ?) \
             RETURNING id",
        )
        .bind(n_hex)
        .bind(bits)
        .bind(now)
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(IssuedModulus {
            id,
            n_hex: n_hex.to_owned(),
        })
    }

    /// A modulus row by id, with whether it was issued and whether a Peggy registered it.
    pub async fn modulus(&self, id: i64) -> Result<Option<ModulusRecord>, StoreError> {
        let row: Option<(i64, String, i64, Option<i64>, i64)> = sqlx::query_as(
            "SELECT m.id, m.n, m.bits, m.issued_at, \
                    EXISTS (SELECT 1 FROM peggys p WHERE p.modulus_id = m.id) \
             FROM blum_moduli m WHERE m.id = ?",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(
            row.map(|(id, n_hex, bits, issued_at, registered)| ModulusRecord {
                id,
                n_hex,
                bits: u32::try_from(bits).unwrap_or(0),
                issued: issued_at.is_some(),
                registered: registered != 0,
            }),
        )
    }

    /// Registers a Peggy on an issued modulus, in one statement: the row is written only if the
    /// modulus `modulus_id` exists, was issued and is `n_hex`, and (by the unique index) no other
    /// Peggy holds it. The caller has validated the name and the key.
    pub async fn insert_peggy(&self, new: &NewPeggy<'_>) -> Result<InsertPeggy, StoreError> {
        let id = random_id();
        let inserted = sqlx::query(
            "INSERT INTO peggys \
                 (id, name, modulus_id, k, public_key, created_at, status, secret_sha256) \
             SELECT ?, ?, m.id, ?, ?, ?, 'waiting', ? FROM blum_moduli m \
             WHERE m.id = ? AND m.n = ? AND m.issued_at IS NOT NULL",
        )
        .bind(&id)
        .bind(new.name)
        .bind(new.k)
        .bind(new.public_key)
        .bind(unix_now())
        .bind(&new.secret_sha256[..])
        .bind(new.modulus_id)
        .bind(new.n_hex)
        .execute(&self.pool)
        .await;
        match inserted {
            Ok(done) if done.rows_affected() == 1 => Ok(InsertPeggy::Inserted(id)),
            Ok(_) => Ok(InsertPeggy::NoSuchModulus),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Ok(InsertPeggy::ModulusTaken)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Every registered Peggy, oldest first.
    pub async fn peggys(&self) -> Result<Vec<PeggyRecord>, StoreError> {
        let rows: Vec<PeggyRow> = sqlx::query_as(PEGGY_SELECT_ALL)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(PeggyRecord::from).collect())
    }

    /// At most `limit` registered Peggys, oldest first; only those named `name` if given.
    pub async fn peggys_listed(
        &self,
        name: Option<&str>,
        limit: u32,
    ) -> Result<Vec<PeggyRecord>, StoreError> {
        let rows: Vec<PeggyRow> = sqlx::query_as(PEGGY_SELECT_LISTED)
            .bind(name)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(PeggyRecord::from).collect())
    }

    /// One registered Peggy.
    pub async fn peggy(&self, id: &str) -> Result<Option<PeggyRecord>, StoreError> {
        let row: Option<PeggyRow> = sqlx::query_as(PEGGY_SELECT_ONE)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(PeggyRecord::from))
    }

    /// The SHA-256 of a Peggy's seat secret, if she is registered.
    pub async fn peggy_secret_sha256(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT secret_sha256 FROM peggys WHERE id = ?")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Marks a Peggy busy (`true`, only if she is waiting) or waiting again (`false`). Returns
    /// whether the row changed, so two Victors racing for one Peggy cannot both win.
    pub async fn set_peggy_busy(&self, id: &str, busy: bool) -> Result<bool, StoreError> {
        let (to, from) = if busy {
            ("busy", "waiting")
        } else {
            ("waiting", "busy")
        };
        let done = sqlx::query("UPDATE peggys SET status = ? WHERE id = ? AND status = ?")
            .bind(to)
            .bind(id)
            .bind(from)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Deletes a Peggy and the modulus she was issued (it is never handed out again). Returns
    /// whether she existed.
    pub async fn delete_peggy(&self, id: &str) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let modulus: Option<i64> =
            sqlx::query_scalar("DELETE FROM peggys WHERE id = ? RETURNING modulus_id")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some(modulus_id) = modulus {
            sqlx::query("DELETE FROM blum_moduli WHERE id = ?")
                .bind(modulus_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(modulus.is_some())
    }

    /// Deletes moduli issued before `issued_before` (Unix seconds) that no Peggy registered.
    /// Returns how many went.
    pub async fn delete_unregistered_moduli(&self, issued_before: i64) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "DELETE FROM blum_moduli WHERE issued_at IS NOT NULL AND issued_at < ? \
             AND NOT EXISTS (SELECT 1 FROM peggys p WHERE p.modulus_id = blum_moduli.id)",
        )
        .bind(issued_before)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Start-up clean-up: deletes every Peggy left from a previous run and every modulus that was
    /// issued (registered or merely drawn), since no connection of that run survives. Returns
    /// (Peggys, moduli) deleted. Ready moduli stay in the pool.
    pub async fn sweep_identities(&self) -> Result<(u64, u64), StoreError> {
        let mut tx = self.pool.begin().await?;
        let peggys = sqlx::query("DELETE FROM peggys")
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let moduli = sqlx::query("DELETE FROM blum_moduli WHERE issued_at IS NOT NULL")
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok((peggys, moduli))
    }

    /// The journal mode SQLite actually uses (for tests and the start-up log).
    pub async fn journal_mode(&self) -> Result<String, StoreError> {
        Ok(sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&self.pool)
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn opens_a_file_database_in_wal_mode_with_migrations() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/sub/dir/test.db", dir.path().display());
        let store = Store::open(&url).await.unwrap();
        assert_eq!(store.journal_mode().await.unwrap(), "wal");
        assert_eq!(store.ready_moduli(2048).await.unwrap(), 0);
        // Opening again is idempotent: the migrations are already applied.
        let again = Store::open(&url).await.unwrap();
        assert_eq!(again.ready_moduli(2048).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn migration_0003_keeps_the_pool_and_ids_are_never_reused() {
        // The database as migrations 0001 and 0002 left it, with two moduli in the pool.
        let (_dir, url, pool) = database_before(3).await;
        sqlx::query(
            "INSERT INTO blum_moduli (n, bits, created_at) VALUES ('a1', 8, 0), ('b3', 8, 0)",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;

        let store = Store::open(&url).await.unwrap();
        assert_eq!(store.ready_moduli(8).await.unwrap(), 2, "the pool survived");
        // Erase the newest modulus: the next one gets a new id, not the erased one's.
        let top: i64 = sqlx::query_scalar("SELECT MAX(id) FROM blum_moduli")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        sqlx::query("DELETE FROM blum_moduli WHERE id = ?")
            .bind(top)
            .execute(&store.pool)
            .await
            .unwrap();
        store.add_modulus("c5", 8).await.unwrap();
        let next: i64 = sqlx::query_scalar("SELECT id FROM blum_moduli WHERE n = 'c5'")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert!(next > top, "id {next} reused (erased: {top})");
    }

    #[tokio::test]
    async fn migration_0004_keeps_the_pool_and_registrations_carry_a_secret_digest() {
        // The database as migrations 0001–0003 left it: a pool modulus, and a Peggy (without a
        // secret) on an issued one.
        let (_dir, url, pool) = database_before(4).await;
        sqlx::query(
            "INSERT INTO blum_moduli (n, bits, created_at) VALUES ('a1', 8, 0); \
             INSERT INTO blum_moduli (n, bits, created_at, issued_at) VALUES ('b3', 8, 0, 1); \
             INSERT INTO peggys (id, name, modulus_id, k, public_key, created_at) \
                 SELECT 'old', 'Old', id, 1, '{}', 0 FROM blum_moduli WHERE n = 'b3'",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;

        let store = Store::open(&url).await.unwrap();
        assert_eq!(store.ready_moduli(8).await.unwrap(), 1, "the pool survived");
        assert!(
            store.peggys().await.unwrap().is_empty(),
            "no secretless Peggy"
        );
        // A new registration stores the digest, and nothing else of the secret.
        let m = store.issue_new_modulus("873b9", 20).await.unwrap();
        let digest = [0xab; 32];
        let InsertPeggy::Inserted(id) = store
            .insert_peggy(&NewPeggy {
                secret_sha256: &digest,
                ..new_peggy("Peggy", &m)
            })
            .await
            .unwrap()
        else {
            panic!("not inserted");
        };
        assert_eq!(
            store.peggy_secret_sha256(&id).await.unwrap(),
            Some(digest.to_vec())
        );
        assert_eq!(store.peggy_secret_sha256("nobody").await.unwrap(), None);
        // The column refuses anything that is not a 32-byte digest.
        let free = store.issue_new_modulus("8c8b7", 20).await.unwrap();
        let short = sqlx::query(
            "INSERT INTO peggys (id, name, modulus_id, k, public_key, created_at, secret_sha256) \
             VALUES ('x', 'X', ?, 1, '{}', 0, x'00')",
        )
        .bind(free.id)
        .execute(&store.pool)
        .await;
        assert!(short.is_err(), "a 1-byte digest was stored");
    }

    /// A database file as the migrations before number `next` left it (the folder, its URL, an
    /// open pool).
    async fn database_before(next: u32) -> (tempfile::TempDir, String, sqlx::SqlitePool) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/old.db", dir.path().display());
        let old = dir.path().join("migrations");
        std::fs::create_dir(&old).unwrap();
        let from = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        for entry in std::fs::read_dir(&from).unwrap() {
            let name = entry.unwrap().file_name();
            let number: u32 = name.to_string_lossy()[..4].parse().unwrap();
            if number < next {
                std::fs::copy(from.join(&name), old.join(&name)).unwrap();
            }
        }
        let options = SqliteConnectOptions::from_str(&url)
            .unwrap()
            .create_if_missing(true);
        let pool = SqlitePoolOptions::new()
            .connect_with(options)
            .await
            .unwrap();
        sqlx::migrate::Migrator::new(old.as_path())
            .await
            .unwrap()
            .run(&pool)
            .await
            .unwrap();
        (dir, url, pool)
    }

    #[tokio::test]
    async fn migration_0005_keeps_the_pool_and_lets_demo_moduli_repeat() {
        let (_dir, url, pool) = database_before(5).await;
        sqlx::query(
            "INSERT INTO blum_moduli (n, bits, created_at) VALUES ('c1', 2048, 0), ('d3', 2048, 0)",
        )
        .execute(&pool)
        .await
        .unwrap();
        let top: i64 = sqlx::query_scalar("SELECT MAX(id) FROM blum_moduli")
            .fetch_one(&pool)
            .await
            .unwrap();
        sqlx::query("DELETE FROM blum_moduli WHERE n = 'd3'")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;

        let store = Store::open(&url).await.unwrap();
        assert_eq!(
            store.ready_moduli(2048).await.unwrap(),
            1,
            "the pool survived"
        );
        // The Handbook's n goes to two Peggys at once, each on its own issued row.
        let first = store.issue_new_modulus("873b9", 20).await.unwrap();
        let second = store.issue_new_modulus("873b9", 20).await.unwrap();
        assert!(
            first.id > top && second.id > first.id,
            "ids are never reused"
        );
        for (name, m) in [("Ann", &first), ("Bob", &second)] {
            let inserted = store.insert_peggy(&new_peggy(name, m)).await.unwrap();
            assert!(matches!(inserted, InsertPeggy::Inserted(_)), "{name}");
        }
        assert!(matches!(
            store.insert_peggy(&new_peggy("Cy", &first)).await.unwrap(),
            InsertPeggy::ModulusTaken
        ));
        // A pool-sized n still exists once.
        assert!(
            store.add_modulus("c1", 2048).await.is_err(),
            "a pool n twice"
        );
    }

    async fn temp_store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/test.db", dir.path().display());
        let store = Store::open(&url).await.unwrap();
        (dir, store)
    }

    fn new_peggy<'a>(name: &'a str, m: &'a IssuedModulus) -> NewPeggy<'a> {
        NewPeggy {
            name,
            modulus_id: m.id,
            n_hex: &m.n_hex,
            k: 1,
            public_key: "{}",
            secret_sha256: &[7; 32],
        }
    }

    async fn count(store: &Store, table: &str) -> i64 {
        sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&store.pool)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_peggy_registers_on_an_issued_modulus_once() {
        let (_dir, store) = temp_store().await;
        store.add_modulus("873b9", 20).await.unwrap();
        // A modulus still in the pool is not issued: it cannot be registered.
        let pooled: i64 = sqlx::query_scalar("SELECT id FROM blum_moduli WHERE n = '873b9'")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        let record = store.modulus(pooled).await.unwrap().unwrap();
        assert!(!record.issued && !record.registered);
        let pooled_modulus = IssuedModulus {
            id: pooled,
            n_hex: "873b9".into(),
        };
        assert_eq!(
            store
                .insert_peggy(&new_peggy("early", &pooled_modulus))
                .await
                .unwrap(),
            InsertPeggy::NoSuchModulus
        );

        let m = store.draw_modulus(20).await.unwrap().unwrap();
        assert_eq!(m.id, pooled);
        // The wrong n for the id, or an unknown id, writes nothing.
        let wrong_n = NewPeggy {
            n_hex: "873bb",
            ..new_peggy("wrong", &m)
        };
        assert_eq!(
            store.insert_peggy(&wrong_n).await.unwrap(),
            InsertPeggy::NoSuchModulus
        );
        let unknown = NewPeggy {
            modulus_id: m.id + 100,
            ..new_peggy("unknown", &m)
        };
        assert_eq!(
            store.insert_peggy(&unknown).await.unwrap(),
            InsertPeggy::NoSuchModulus
        );
        assert_eq!(count(&store, "peggys").await, 0);
        assert!(store.modulus(m.id + 100).await.unwrap().is_none());

        let InsertPeggy::Inserted(id) = store.insert_peggy(&new_peggy("Peggy", &m)).await.unwrap()
        else {
            panic!("not inserted");
        };
        assert_eq!(id.len(), 32);
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        let record = store.modulus(m.id).await.unwrap().unwrap();
        assert!(record.issued && record.registered);
        assert_eq!((record.n_hex.as_str(), record.bits), ("873b9", 20));

        // One issued modulus serves one registration.
        assert_eq!(
            store.insert_peggy(&new_peggy("Twin", &m)).await.unwrap(),
            InsertPeggy::ModulusTaken
        );
        let all = store.peggys().await.unwrap();
        assert_eq!(all.len(), 1);
        let p = &all[0];
        assert_eq!(
            (
                p.id.as_str(),
                p.name.as_str(),
                p.modulus_id,
                p.bits,
                p.k,
                p.busy
            ),
            (id.as_str(), "Peggy", m.id, 20, 1, false)
        );
        assert_eq!(store.peggy(&id).await.unwrap().as_ref(), Some(p));
        assert!(store.peggy("nobody").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn busy_is_claimed_once_and_deleting_takes_the_modulus_along() {
        let (_dir, store) = temp_store().await;
        let a = store.issue_new_modulus("873b9", 20).await.unwrap();
        let b = store.issue_new_modulus("8c8b7", 20).await.unwrap();
        store.add_modulus("fffb", 16).await.unwrap();
        let InsertPeggy::Inserted(pa) = store.insert_peggy(&new_peggy("A", &a)).await.unwrap()
        else {
            panic!("not inserted");
        };
        let InsertPeggy::Inserted(pb) = store.insert_peggy(&new_peggy("B", &b)).await.unwrap()
        else {
            panic!("not inserted");
        };
        assert_ne!(pa, pb);

        assert!(store.set_peggy_busy(&pa, true).await.unwrap());
        assert!(
            !store.set_peggy_busy(&pa, true).await.unwrap(),
            "claimed twice"
        );
        assert!(store.peggy(&pa).await.unwrap().unwrap().busy);
        assert!(store.set_peggy_busy(&pa, false).await.unwrap());
        assert!(!store.set_peggy_busy(&pa, false).await.unwrap());
        assert!(!store.set_peggy_busy("nobody", true).await.unwrap());

        assert!(store.delete_peggy(&pa).await.unwrap());
        assert!(!store.delete_peggy(&pa).await.unwrap());
        assert!(store.modulus(a.id).await.unwrap().is_none(), "modulus kept");
        let left = store.peggys().await.unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].id, pb);
        assert_eq!(count(&store, "blum_moduli").await, 2);

        // Deleting a modulus directly deletes its registration too (ON DELETE CASCADE).
        sqlx::query("DELETE FROM blum_moduli WHERE id = ?")
            .bind(b.id)
            .execute(&store.pool)
            .await
            .unwrap();
        assert!(store.peggys().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn the_start_up_sweep_clears_peggys_and_issued_moduli_only() {
        let (dir, store) = temp_store().await;
        let registered = store.issue_new_modulus("873b9", 20).await.unwrap();
        store.issue_new_modulus("8c8b7", 20).await.unwrap();
        store.add_modulus("fffb", 16).await.unwrap();
        store
            .insert_peggy(&new_peggy("Peggy", &registered))
            .await
            .unwrap();
        assert_eq!(store.sweep_identities().await.unwrap(), (1, 2));
        assert!(store.peggys().await.unwrap().is_empty());
        assert_eq!(count(&store, "blum_moduli").await, 1);
        assert_eq!(store.ready_moduli(16).await.unwrap(), 1, "the pool stays");
        assert_eq!(store.sweep_identities().await.unwrap(), (0, 0));
        drop(dir);
    }
}

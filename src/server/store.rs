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
    crate::rng::random_hex(16)
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
mod tests;

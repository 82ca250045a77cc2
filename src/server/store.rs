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

fn unix_now() -> i64 {
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
}

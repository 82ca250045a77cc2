//! The two databases behind [`Store`](super::Store): SQLite (one machine; a file in WAL mode) and
//! PostgreSQL (several instances sharing one database). Each has its own migrations; the store's
//! SQL is written once for both (`$1`-style parameters, BIGINT-sized integers) and run on
//! whichever pool the URL chose, through [`on_pool!`].

use super::StoreError;
use sqlx::{
    PgPool, SqlitePool,
    postgres::{PgConnectOptions, PgPoolOptions},
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};
use std::{str::FromStr, time::Duration};

static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Connections per pool: requests are short, and SQLite has one writer anyway.
const MAX_CONNECTIONS: u32 = 8;

#[derive(Clone, Debug)]
pub(super) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to whichever pool `$store` holds. The body is written once;
/// the compiler checks it against both drivers.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.pool {
            $crate::server::store::pool::Pool::Sqlite($pool) => $body,
            $crate::server::store::pool::Pool::Postgres($pool) => $body,
        }
    };
}
pub(super) use on_pool;

impl Pool {
    /// Opens the database at `url` (`sqlite://…` or `sqlite::memory:`, `postgres://…`) and applies
    /// its pending migrations.
    pub(super) async fn open(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(MAX_CONNECTIONS)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await?;
            POSTGRES.run(&pool).await?;
            return Ok(Self::Postgres(pool));
        }
        if !url.starts_with("sqlite:") {
            return Err(StoreError::Url);
        }
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
            .max_connections(MAX_CONNECTIONS)
            .connect_with(options)
            .await?;
        SQLITE.run(&pool).await?;
        Ok(Self::Sqlite(pool))
    }

    /// Whether other instances may share this database (PostgreSQL). A SQLite file belongs to
    /// one process.
    pub(super) fn is_shared(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }

    /// The SQLite pool, for the migration tests.
    #[cfg(test)]
    pub(super) fn sqlite(&self) -> &SqlitePool {
        match self {
            Self::Sqlite(pool) => pool,
            Self::Postgres(_) => panic!("not a SQLite store"),
        }
    }
}

//! The store: every table behind one [`Store`] type.
//!
//! SQLite by default (a file, WAL journal, busy timeout, foreign keys on); PostgreSQL when the
//! URL says `postgres://` (several instances sharing one database, issue 15). Migrations for
//! each live in `migrations/sqlite` and `migrations/postgres` and are applied at open (see
//! [`pool`]). Callers see only `Store`'s methods.
//!
//! **Instances.** Every `Store` is one server instance: it registers a random id with a
//! heartbeat and tags the Peggys it registers and the moduli it issues with it. A Peggy lives
//! only while her socket on that instance is open, so when an instance is gone (its heartbeat
//! older than [`LEASE`]) its rows are erased by whoever sweeps next; a live instance's rows are
//! never touched by another. With SQLite every other instance counts as gone.

mod pool;

use pool::{Pool, on_pool};
use std::time::Duration;

/// How long an instance's heartbeat keeps its rows alive for the others.
pub const LEASE: Duration = Duration::from_secs(30);
/// How often an instance renews its heartbeat (and sweeps the rows of instances that are gone).
pub const HEARTBEAT: Duration = Duration::from_secs(10);

/// A failure of the store. Logged by the server; clients see only `ApiError::internal()`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot create the database folder {0}: {1}")]
    Folder(String, std::io::Error),
    #[error("the database URL must start with sqlite: or postgres://")]
    Url,
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

const PEGGY_SELECT_OWN: &str = "SELECT p.id, p.name, p.modulus_id, m.bits, p.k, p.public_key, \
     p.created_at, p.status FROM peggys p JOIN blum_moduli m ON m.id = p.modulus_id \
     WHERE p.instance = $1 ORDER BY p.created_at, p.seq";

const PEGGY_SELECT_LISTED: &str = "SELECT p.id, p.name, p.modulus_id, m.bits, p.k, p.public_key, \
     p.created_at, p.status FROM peggys p JOIN blum_moduli m ON m.id = p.modulus_id \
     WHERE $1 IS NULL OR p.name = $1 ORDER BY p.created_at, p.seq LIMIT $2";

const PEGGY_SELECT_ONE: &str = "SELECT p.id, p.name, p.modulus_id, m.bits, p.k, p.public_key, \
     p.created_at, p.status FROM peggys p JOIN blum_moduli m ON m.id = p.modulus_id \
     WHERE p.id = $1";

/// A new Peggy id: 128 bits from the OS CSPRNG as 32 lowercase hex digits.
fn random_id() -> String {
    crate::rng::random_hex(16)
}

pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The application's database, as one instance.
#[derive(Clone, Debug)]
pub struct Store {
    pool: Pool,
    /// This instance's id (32 hex digits, new at every open).
    instance: String,
}

impl Store {
    /// Opens (creating a SQLite file if missing) the database at `url`, applies pending
    /// migrations and registers this instance.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let store = Self {
            pool: Pool::open(url).await?,
            instance: random_id(),
        };
        on_pool!(store, pool => {
            sqlx::query("INSERT INTO instances (id, heartbeat_at) VALUES ($1, $2)")
                .bind(&store.instance)
                .bind(unix_now())
                .execute(pool)
                .await?;
        });
        Ok(store)
    }

    /// This instance's id.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// Number of Blum moduli of `bits` bits ready to be drawn.
    pub async fn ready_moduli(&self, bits: u32) -> Result<u32, StoreError> {
        let count: i64 = on_pool!(self, pool => {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM blum_moduli WHERE bits = $1 AND issued_at IS NULL",
            )
            .bind(i64::from(bits))
            .fetch_one(pool)
            .await?
        });
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    }

    /// Adds a freshly generated modulus (lowercase hex) to the pool.
    pub async fn add_modulus(&self, n_hex: &str, bits: u32) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("INSERT INTO blum_moduli (n, bits, created_at) VALUES ($1, $2, $3)")
                .bind(n_hex)
                .bind(i64::from(bits))
                .bind(unix_now())
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Takes one ready modulus of `bits` bits, chosen at random, and marks it issued by this
    /// instance — in one statement, so two concurrent draws can never receive the same n (on
    /// PostgreSQL the chosen row is locked, and a draw skips rows another draw holds).
    /// `None` if none is ready.
    pub async fn draw_modulus(&self, bits: u32) -> Result<Option<IssuedModulus>, StoreError> {
        const DRAW: &str = "UPDATE blum_moduli SET issued_at = $1, instance = $2 \
             WHERE issued_at IS NULL AND id = (SELECT id FROM blum_moduli \
                 WHERE bits = $3 AND issued_at IS NULL ORDER BY random() LIMIT 1 LOCK) \
             RETURNING id, n";
        let row: Option<(i64, String)> = match &self.pool {
            Pool::Sqlite(pool) => {
                sqlx::query_as(&DRAW.replace(" LOCK", ""))
                    .bind(unix_now())
                    .bind(&self.instance)
                    .bind(i64::from(bits))
                    .fetch_optional(pool)
                    .await?
            }
            Pool::Postgres(pool) => {
                sqlx::query_as(&DRAW.replace(" LOCK", " FOR UPDATE SKIP LOCKED"))
                    .bind(unix_now())
                    .bind(&self.instance)
                    .bind(i64::from(bits))
                    .fetch_optional(pool)
                    .await?
            }
        };
        Ok(row.map(|(id, n_hex)| IssuedModulus { id, n_hex }))
    }

    /// Inserts a modulus generated on demand (the pool was empty) directly as issued.
    pub async fn issue_new_modulus(
        &self,
        n_hex: &str,
        bits: u32,
    ) -> Result<IssuedModulus, StoreError> {
        let now = unix_now();
        let id: i64 = on_pool!(self, pool => {
            sqlx::query_scalar(
                "INSERT INTO blum_moduli (n, bits, created_at, issued_at, instance) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(n_hex)
            .bind(i64::from(bits))
            .bind(now)
            .bind(now)
            .bind(&self.instance)
            .fetch_one(pool)
            .await?
        });
        Ok(IssuedModulus {
            id,
            n_hex: n_hex.to_owned(),
        })
    }

    /// A modulus row by id, with whether it was issued and whether a Peggy registered it.
    pub async fn modulus(&self, id: i64) -> Result<Option<ModulusRecord>, StoreError> {
        let row: Option<(i64, String, i64, Option<i64>, i64)> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT m.id, m.n, m.bits, m.issued_at, CAST(CASE WHEN EXISTS \
                     (SELECT 1 FROM peggys p WHERE p.modulus_id = m.id) THEN 1 ELSE 0 END AS BIGINT) \
                 FROM blum_moduli m WHERE m.id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
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
        let inserted = on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO peggys (id, name, modulus_id, k, public_key, created_at, status, \
                     secret_sha256, instance) \
                 SELECT $1, $2, m.id, $3, $4, $5, 'waiting', $6, $7 FROM blum_moduli m \
                 WHERE m.id = $8 AND m.n = $9 AND m.issued_at IS NOT NULL",
            )
            .bind(&id)
            .bind(new.name)
            .bind(i64::from(new.k))
            .bind(new.public_key)
            .bind(unix_now())
            .bind(&new.secret_sha256[..])
            .bind(&self.instance)
            .bind(new.modulus_id)
            .bind(new.n_hex)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
        });
        match inserted {
            Ok(1) => Ok(InsertPeggy::Inserted(id)),
            Ok(_) => Ok(InsertPeggy::NoSuchModulus),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Ok(InsertPeggy::ModulusTaken)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Every Peggy this instance registered, oldest first.
    pub async fn peggys(&self) -> Result<Vec<PeggyRecord>, StoreError> {
        let rows: Vec<PeggyRow> = on_pool!(self, pool => {
            sqlx::query_as(PEGGY_SELECT_OWN)
                .bind(&self.instance)
                .fetch_all(pool)
                .await?
        });
        Ok(rows.into_iter().map(PeggyRecord::from).collect())
    }

    /// At most `limit` registered Peggys of every instance, oldest first; only those named
    /// `name` if given.
    pub async fn peggys_listed(
        &self,
        name: Option<&str>,
        limit: u32,
    ) -> Result<Vec<PeggyRecord>, StoreError> {
        let rows: Vec<PeggyRow> = on_pool!(self, pool => {
            sqlx::query_as(PEGGY_SELECT_LISTED)
                .bind(name)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?
        });
        Ok(rows.into_iter().map(PeggyRecord::from).collect())
    }

    /// One registered Peggy.
    pub async fn peggy(&self, id: &str) -> Result<Option<PeggyRecord>, StoreError> {
        let row: Option<PeggyRow> = on_pool!(self, pool => {
            sqlx::query_as(PEGGY_SELECT_ONE)
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(PeggyRecord::from))
    }

    /// The SHA-256 of a Peggy's seat secret, if she is registered.
    pub async fn peggy_secret_sha256(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar("SELECT secret_sha256 FROM peggys WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// Makes this instance the owner of a Peggy and her modulus: the one holding her socket,
    /// which need not be the one that registered her (behind a balancer, any instance takes a
    /// registration; her socket goes to the instance her id is routed to). Her rows then live
    /// and go with this instance's lease. Returns whether she is registered.
    pub async fn claim_peggy(&self, id: &str) -> Result<bool, StoreError> {
        Ok(on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let modulus: Option<i64> = sqlx::query_scalar(
                "UPDATE peggys SET instance = $1 WHERE id = $2 RETURNING modulus_id",
            )
            .bind(&self.instance)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(modulus_id) = modulus {
                sqlx::query("UPDATE blum_moduli SET instance = $1 WHERE id = $2")
                    .bind(&self.instance)
                    .bind(modulus_id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            modulus.is_some()
        }))
    }

    /// Marks a Peggy busy (`true`, only if she is waiting) or waiting again (`false`). Returns
    /// whether the row changed, so two Victors racing for one Peggy cannot both win.
    pub async fn set_peggy_busy(&self, id: &str, busy: bool) -> Result<bool, StoreError> {
        let (to, from) = if busy {
            ("busy", "waiting")
        } else {
            ("waiting", "busy")
        };
        let changed = on_pool!(self, pool => {
            sqlx::query("UPDATE peggys SET status = $1 WHERE id = $2 AND status = $3")
                .bind(to)
                .bind(id)
                .bind(from)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(changed == 1)
    }

    /// Deletes a Peggy and the modulus she was issued (it is never handed out again). Returns
    /// whether she existed.
    pub async fn delete_peggy(&self, id: &str) -> Result<bool, StoreError> {
        let modulus: Option<i64> = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let modulus: Option<i64> =
                sqlx::query_scalar("DELETE FROM peggys WHERE id = $1 RETURNING modulus_id")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some(modulus_id) = modulus {
                sqlx::query("DELETE FROM blum_moduli WHERE id = $1")
                    .bind(modulus_id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            modulus
        });
        Ok(modulus.is_some())
    }

    /// Deletes moduli issued before `issued_before` (Unix seconds) that no Peggy registered.
    /// Returns how many went.
    pub async fn delete_unregistered_moduli(&self, issued_before: i64) -> Result<u64, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query(
                "DELETE FROM blum_moduli WHERE issued_at IS NOT NULL AND issued_at < $1 \
                 AND NOT EXISTS (SELECT 1 FROM peggys p WHERE p.modulus_id = blum_moduli.id)",
            )
            .bind(issued_before)
            .execute(pool)
            .await?
            .rows_affected()
        }))
    }

    /// Renews this instance's heartbeat (registering it again if another instance had given it
    /// up: its rows are gone then, which the caller's runs will find out).
    pub async fn heartbeat(&self) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let renewed = sqlx::query("UPDATE instances SET heartbeat_at = $1 WHERE id = $2")
                .bind(unix_now())
                .bind(&self.instance)
                .execute(pool)
                .await?
                .rows_affected();
            if renewed == 0 {
                tracing::warn!(instance = %self.instance, "store: this instance's lease had lapsed");
                sqlx::query("INSERT INTO instances (id, heartbeat_at) VALUES ($1, $2)")
                    .bind(&self.instance)
                    .bind(unix_now())
                    .execute(pool)
                    .await?;
            }
        });
        Ok(())
    }

    /// Deletes the Peggys and issued moduli of every instance that is gone — for PostgreSQL,
    /// those whose heartbeat is older than [`LEASE`]; for SQLite, every instance but this one
    /// (one process owns the file) — and those instances. Returns (Peggys, moduli) deleted. Pool
    /// moduli that wait to be drawn stay. Run at start-up and with every heartbeat.
    pub async fn sweep_identities(&self) -> Result<(u64, u64), StoreError> {
        let alive_since = if self.pool.is_shared() {
            unix_now().saturating_sub(i64::try_from(LEASE.as_secs()).unwrap_or(i64::MAX))
        } else {
            i64::MAX
        };
        Ok(on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let gone = "SELECT id FROM instances WHERE heartbeat_at >= $1 OR id = $2";
            let peggys = sqlx::query(&format!(
                "DELETE FROM peggys WHERE instance NOT IN ({gone})"
            ))
            .bind(alive_since)
            .bind(&self.instance)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            let moduli = sqlx::query(&format!(
                "DELETE FROM blum_moduli WHERE issued_at IS NOT NULL \
                 AND (instance IS NULL OR instance NOT IN ({gone}))"
            ))
            .bind(alive_since)
            .bind(&self.instance)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            sqlx::query("DELETE FROM instances WHERE heartbeat_at < $1 AND id <> $2")
                .bind(alive_since)
                .bind(&self.instance)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            (peggys, moduli)
        }))
    }

    /// Every [`HEARTBEAT`], renews this instance's lease and sweeps the rows of instances that
    /// are gone (another instance killed mid-run: its Peggys can never be identified).
    pub fn spawn_heartbeat(&self) -> tokio::task::JoinHandle<()> {
        let store = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(HEARTBEAT);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let swept = match store.heartbeat().await {
                    Ok(()) => store.sweep_identities().await,
                    Err(e) => Err(e),
                };
                match swept {
                    Ok((0, 0)) => {}
                    Ok((peggys, moduli)) => tracing::info!(
                        peggys,
                        moduli,
                        "store: removed the Peggys and issued moduli of instances that are gone"
                    ),
                    Err(e) => tracing::error!(error = %e, "store: heartbeat failed"),
                }
            }
        })
    }

    /// Gives up this instance's lease at a clean shutdown: its rows go with it at once.
    pub async fn leave(&self) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM peggys WHERE instance = $1")
                .bind(&self.instance)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM blum_moduli WHERE issued_at IS NOT NULL AND instance = $1")
                .bind(&self.instance)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM instances WHERE id = $1")
                .bind(&self.instance)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// The journal mode SQLite actually uses (for tests and the start-up log); PostgreSQL has
    /// none and answers `postgres`.
    pub async fn journal_mode(&self) -> Result<String, StoreError> {
        Ok(match &self.pool {
            Pool::Sqlite(pool) => {
                sqlx::query_scalar("PRAGMA journal_mode")
                    .fetch_one(pool)
                    .await?
            }
            Pool::Postgres(_) => "postgres".to_owned(),
        })
    }
}

#[cfg(test)]
mod tests;

//! The store against a real SQLite file (and PostgreSQL, where scripts/test starts one).

mod cluster;

use super::{pool::on_pool, *};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use std::str::FromStr;

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
    sqlx::query("INSERT INTO blum_moduli (n, bits, created_at) VALUES ('a1', 8, 0), ('b3', 8, 0)")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    let store = Store::open(&url).await.unwrap();
    assert_eq!(store.ready_moduli(8).await.unwrap(), 2, "the pool survived");
    // Erase the newest modulus: the next one gets a new id, not the erased one's.
    let top: i64 = sqlx::query_scalar("SELECT MAX(id) FROM blum_moduli")
        .fetch_one(store.pool.sqlite())
        .await
        .unwrap();
    sqlx::query("DELETE FROM blum_moduli WHERE id = ?")
        .bind(top)
        .execute(store.pool.sqlite())
        .await
        .unwrap();
    store.add_modulus("c5", 8).await.unwrap();
    let next: i64 = sqlx::query_scalar("SELECT id FROM blum_moduli WHERE n = 'c5'")
        .fetch_one(store.pool.sqlite())
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
    .execute(store.pool.sqlite())
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
    let from = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
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

/// The databases every store test below runs on: a SQLite file, and a fresh database on the
/// PostgreSQL server that `ZKRELAY_TEST_POSTGRES` names (`postgres://user@host:port`, set by
/// scripts/test, which starts one), if set. Each with the folder that holds the SQLite file.
async fn databases() -> Vec<(tempfile::TempDir, String)> {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}/test.db", dir.path().display());
    let mut all = vec![(dir, sqlite)];
    match std::env::var("ZKRELAY_TEST_POSTGRES") {
        Ok(server) => {
            let server = server.trim_end_matches('/');
            let admin = sqlx::PgPool::connect(&format!("{server}/postgres"))
                .await
                .unwrap();
            let name = format!("zkrelay_test_{}", crate::rng::random_hex(8));
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&admin)
                .await
                .unwrap();
            admin.close().await;
            all.push((tempfile::tempdir().unwrap(), format!("{server}/{name}")));
        }
        Err(_) => eprintln!("store tests: SQLite only (ZKRELAY_TEST_POSTGRES is not set)"),
    }
    all
}

/// One integer a query returns.
async fn scalar(store: &Store, sql: &str) -> i64 {
    on_pool!(store, pool => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap())
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
    scalar(store, &format!("SELECT COUNT(*) FROM {table}")).await
}

#[tokio::test]
async fn a_peggy_registers_on_an_issued_modulus_once() {
    for (_dir, url) in databases().await {
        registers_once(Store::open(&url).await.unwrap()).await;
    }
}

async fn registers_once(store: Store) {
    store.add_modulus("873b9", 20).await.unwrap();
    // A modulus still in the pool is not issued: it cannot be registered.
    let pooled = scalar(&store, "SELECT id FROM blum_moduli WHERE n = '873b9'").await;
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
    for (_dir, url) in databases().await {
        busy_once_and_delete(Store::open(&url).await.unwrap()).await;
    }
}

async fn busy_once_and_delete(store: Store) {
    let a = store.issue_new_modulus("873b9", 20).await.unwrap();
    let b = store.issue_new_modulus("8c8b7", 20).await.unwrap();
    store.add_modulus("fffb", 16).await.unwrap();
    let InsertPeggy::Inserted(pa) = store.insert_peggy(&new_peggy("A", &a)).await.unwrap() else {
        panic!("not inserted");
    };
    let InsertPeggy::Inserted(pb) = store.insert_peggy(&new_peggy("B", &b)).await.unwrap() else {
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
    on_pool!(store, pool => sqlx::query("DELETE FROM blum_moduli WHERE id = $1")
        .bind(b.id)
        .execute(pool)
        .await
        .unwrap()
        .rows_affected());
    assert!(store.peggys().await.unwrap().is_empty());
}

#[tokio::test]
async fn the_start_up_sweep_clears_peggys_and_issued_moduli_only() {
    for (_dir, url) in databases().await {
        let store = Store::open(&url).await.unwrap();
        let registered = store.issue_new_modulus("873b9", 20).await.unwrap();
        store.issue_new_modulus("8c8b7", 20).await.unwrap();
        store.add_modulus("fffb", 16).await.unwrap();
        store
            .insert_peggy(&new_peggy("Peggy", &registered))
            .await
            .unwrap();
        // An instance's own rows are never swept.
        assert_eq!(store.sweep_identities().await.unwrap(), (0, 0), "{url}");
        // The next run (a new instance) finds the previous one gone once its lease has lapsed;
        // on SQLite at once.
        if url.starts_with("postgres") {
            on_pool!(store, pool => sqlx::query("UPDATE instances SET heartbeat_at = 0")
                .execute(pool).await.unwrap().rows_affected());
        }
        let next = Store::open(&url).await.unwrap();
        assert_eq!(next.sweep_identities().await.unwrap(), (1, 2), "{url}");
        assert!(next.peggys().await.unwrap().is_empty());
        assert_eq!(count(&next, "blum_moduli").await, 1);
        assert_eq!(next.ready_moduli(16).await.unwrap(), 1, "the pool stays");
        assert_eq!(next.sweep_identities().await.unwrap(), (0, 0));
        assert_eq!(
            count(&next, "instances").await,
            1,
            "the gone instance's row went too"
        );
    }
}

#[tokio::test]
async fn a_live_instance_keeps_its_peggys_and_two_draws_never_share_a_modulus() {
    for (_dir, url) in databases().await {
        if !url.starts_with("postgres") {
            continue; // one SQLite file, one instance
        }
        let (a, b) = (
            Store::open(&url).await.unwrap(),
            Store::open(&url).await.unwrap(),
        );
        let m = a.issue_new_modulus("873b9", 20).await.unwrap();
        a.insert_peggy(&new_peggy("Peggy", &m)).await.unwrap();
        // B starts while A is alive: A's Peggy and her modulus stay, and B lists her.
        assert_eq!(b.sweep_identities().await.unwrap(), (0, 0));
        assert_eq!(b.peggys_listed(None, 10).await.unwrap().len(), 1);
        assert!(b.peggys().await.unwrap().is_empty(), "she is A's, not B's");
        // Many concurrent draws from both instances: every modulus goes to one draw only.
        for i in 0..40u32 {
            a.add_modulus(&format!("{:x}", 0x1000_0001 + 2 * i), 1024)
                .await
                .unwrap();
        }
        let draws = (0..60).map(|i| {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move { store.draw_modulus(1024).await.unwrap() })
        });
        let mut ids = Vec::new();
        for draw in draws {
            if let Some(m) = draw.await.unwrap() {
                ids.push(m.id);
            }
        }
        ids.sort_unstable();
        let drawn = ids.len();
        ids.dedup();
        assert_eq!(
            (drawn, ids.len()),
            (40, 40),
            "each modulus drawn exactly once"
        );
        // A leaves cleanly: its Peggy goes at once.
        a.leave().await.unwrap();
        assert!(b.peggys_listed(None, 10).await.unwrap().is_empty());
    }
}

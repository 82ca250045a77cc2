//! The store against a real SQLite file.

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
    sqlx::query("INSERT INTO blum_moduli (n, bits, created_at) VALUES ('a1', 8, 0), ('b3', 8, 0)")
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

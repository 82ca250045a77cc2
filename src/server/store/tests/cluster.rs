//! Store tests for several instances on one PostgreSQL (skipped on SQLite: one file, one
//! instance): a Peggy seated by another instance than the one she registered with, and the log
//! of issued moduli.

use super::{count, databases, new_peggy, scalar};
use crate::server::Store;

#[tokio::test]
async fn the_instance_that_seats_a_peggy_keeps_her_alive() {
    for (_dir, url) in databases().await {
        if !url.starts_with("postgres") {
            continue;
        }
        let (a, b) = (
            Store::open(&url).await.unwrap(),
            Store::open(&url).await.unwrap(),
        );
        let m = a.issue_new_modulus("873b9", 20).await.unwrap();
        let crate::server::store::InsertPeggy::Inserted(id) =
            a.insert_peggy(&new_peggy("Peggy", &m)).await.unwrap()
        else {
            panic!("not registered");
        };
        // Registered through A, her socket on B: B claims her and her modulus.
        assert!(b.claim_peggy(&id).await.unwrap());
        assert!(
            !b.claim_peggy("0123456789abcdef0123456789abcdef")
                .await
                .unwrap()
        );
        assert_eq!(b.peggys().await.unwrap().len(), 1);
        assert!(a.peggys().await.unwrap().is_empty());
        // A goes: she stays, with her modulus, as long as B lives.
        a.leave().await.unwrap();
        assert_eq!(a.sweep_identities().await.unwrap(), (0, 0));
        assert_eq!(b.peggys_listed(None, 10).await.unwrap().len(), 1);
        assert!(b.modulus(m.id).await.unwrap().is_some());
        b.leave().await.unwrap();
        assert_eq!(count(&b, "peggys").await, 0);
    }
}

#[tokio::test]
async fn every_issue_of_a_modulus_is_logged_once() {
    for (_dir, url) in databases().await {
        if !url.starts_with("postgres") {
            continue;
        }
        let store = Store::open(&url).await.unwrap();
        for i in 0..5u32 {
            store
                .add_modulus(&format!("{:x}", 0x2000_0001 + 2 * i), 1024)
                .await
                .unwrap();
        }
        assert_eq!(
            count(&store, "modulus_issues").await,
            0,
            "pool moduli wait unlogged"
        );
        for _ in 0..5 {
            store.draw_modulus(1024).await.unwrap().unwrap();
        }
        store.issue_new_modulus("873b9", 20).await.unwrap();
        // Erasing a modulus keeps its issue on record.
        store.leave().await.unwrap();
        assert_eq!(count(&store, "blum_moduli").await, 0);
        assert_eq!(count(&store, "modulus_issues").await, 6);
        let twice = "SELECT COUNT(*) FROM (SELECT n_sha256 FROM modulus_issues \
                     GROUP BY n_sha256 HAVING COUNT(*) > 1) t";
        assert_eq!(scalar(&store, twice).await, 0);
    }
}

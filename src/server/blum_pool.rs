//! The pool of Blum integers handed to new Peggys.
//!
//! A background task keeps `[blum] pool_size` moduli of `[blum] modulus_bits` bits ready in the
//! store, generating them on a blocking thread (a 2048-bit modulus takes tens of milliseconds) and
//! logging its progress. Moduli persist, so a restarted server serves at once. A draw takes a random
//! ready modulus and marks it issued in one statement — no n ever goes to two registrations — and
//! wakes the task to refill. If the pool is empty the draw generates one on the spot.

use super::store::{IssuedModulus, Store, StoreError};
use crate::protocol::ffs::{BlumModulus, wire};
use std::{sync::Arc, time::Instant};
use tokio::sync::Notify;

/// Handle to the pool; cheap to clone.
#[derive(Clone, Debug)]
pub struct BlumPool {
    store: Store,
    bits: u32,
    target: u32,
    wake: Arc<Notify>,
}

impl BlumPool {
    pub fn new(store: Store, bits: u32, target: u32) -> Self {
        Self {
            store,
            bits,
            target,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Size of the pool's moduli.
    pub fn bits(&self) -> u32 {
        self.bits
    }

    /// Starts the refill task; it runs until the runtime shuts down.
    pub fn spawn_refill(&self) -> tokio::task::JoinHandle<()> {
        let pool = self.clone();
        tokio::spawn(async move { pool.refill_forever().await })
    }

    /// Takes a random ready modulus (or generates one if none is ready) and marks it issued.
    pub async fn draw(&self) -> Result<IssuedModulus, StoreError> {
        let drawn = self.store.draw_modulus(self.bits).await?;
        self.wake.notify_one();
        match drawn {
            Some(m) => Ok(m),
            None => {
                tracing::warn!(
                    bits = self.bits,
                    "blum pool empty: generating a modulus on demand"
                );
                let n_hex = generate(self.bits).await;
                self.store.issue_new_modulus(&n_hex, self.bits).await
            }
        }
    }

    async fn refill_forever(self) {
        loop {
            match self.refill().await {
                Ok(()) => self.wake.notified().await,
                Err(e) => {
                    tracing::error!(error = %e, "blum pool: refill failed; retrying in 5 s");
                    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                }
            }
        }
    }

    /// Generates until the pool holds `target` ready moduli.
    async fn refill(&self) -> Result<(), StoreError> {
        let mut ready = self.store.ready_moduli(self.bits).await?;
        if ready < self.target {
            tracing::info!(
                ready,
                target = self.target,
                bits = self.bits,
                "blum pool: filling"
            );
        }
        while ready < self.target {
            let started = Instant::now();
            let n_hex = generate(self.bits).await;
            self.store.add_modulus(&n_hex, self.bits).await?;
            ready = self.store.ready_moduli(self.bits).await?;
            tracing::info!(
                ready,
                target = self.target,
                bits = self.bits,
                ms = started.elapsed().as_millis() as u64,
                "blum pool: generated a modulus"
            );
        }
        Ok(())
    }
}

/// One fresh modulus in the wire encoding, generated off the async threads.
async fn generate(bits: u32) -> String {
    let job = tokio::task::spawn_blocking(move || {
        let mut rng = crate::rng::os_rng();
        BlumModulus::generate(&mut rng, bits).map(|m| wire::encode(m.n()))
    });
    match job.await {
        Ok(Ok(n_hex)) => n_hex,
        // The config validates `bits`, so neither can happen; fail loudly if it ever does.
        Ok(Err(e)) => panic!("blum pool: cannot generate {bits}-bit moduli: {e}"),
        Err(e) => panic!("blum pool: generator thread failed: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ffs::BoxedUint;
    use std::collections::HashSet;
    use std::time::Duration;

    async fn wait_ready(store: &Store, bits: u32, want: u32) {
        for _ in 0..600 {
            if store.ready_moduli(bits).await.unwrap() >= want {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("pool never reached {want} ready moduli");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn fills_persists_and_never_issues_one_modulus_twice() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/pool.db", dir.path().display());
        let store = Store::open(&url).await.unwrap();
        let pool = BlumPool::new(store.clone(), 1024, 3);
        let task = pool.spawn_refill();
        wait_ready(&store, 1024, 3).await;

        // Concurrent draws: each gets its own n, and every n is a valid 1024-bit odd modulus.
        let draws = futures::future::join_all((0..5).map(|_| pool.draw())).await;
        let drawn: Vec<IssuedModulus> = draws.into_iter().map(Result::unwrap).collect();
        let distinct: HashSet<&str> = drawn.iter().map(|m| m.n_hex.as_str()).collect();
        assert_eq!(distinct.len(), 5, "an n was issued twice: {drawn:?}");
        for m in &drawn {
            let n: BoxedUint = wire::decode(&m.n_hex, 1024).unwrap();
            assert_eq!(n.bits(), 1024);
            BlumModulus::from_stored(&n).unwrap();
        }
        // The task refills what was drawn.
        wait_ready(&store, 1024, 3).await;
        task.abort();

        // A restart finds the pool ready without generating anything.
        drop(store);
        let reopened = Store::open(&url).await.unwrap();
        assert_eq!(reopened.ready_moduli(1024).await.unwrap(), 3);
        assert!(
            reopened.draw_modulus(2048).await.unwrap().is_none(),
            "other sizes stay apart"
        );
    }
}

//! The pool of Blum integers handed to new Peggys.
//!
//! A background task keeps `[blum] pool_size` moduli of `[blum] modulus_bits` bits ready in the
//! store, generating them on a blocking thread (a 2048-bit modulus takes tens of milliseconds) and
//! logging its progress. Moduli persist, so a restarted server serves at once. A draw takes a random
//! ready modulus and marks it issued in one statement — no n ever goes to two registrations — and
//! wakes the task to refill.
//!
//! If the pool is empty the draw generates one on the spot — but at most
//! `[blum] on_demand_generators` at once: a draw that finds every generator busy gets `None`
//! (the caller answers "try again"), so a flood of draws cannot queue unbounded CPU work. A
//! generator's permit is held by the blocking thread itself, so it is released only when the
//! work is done, even if the draw that started it was abandoned.

use super::store::{IssuedModulus, Store, StoreError};
use crate::protocol::ffs::{BlumModulus, wire};
use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Instant,
};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

/// Handle to the pool; cheap to clone.
#[derive(Clone, Debug)]
pub struct BlumPool {
    store: Store,
    bits: u32,
    target: u32,
    wake: Arc<Notify>,
    /// One permit per on-demand generation allowed at once.
    on_demand: Arc<Semaphore>,
    /// On-demand generations started since the server started.
    generated_on_demand: Arc<AtomicU64>,
}

impl BlumPool {
    /// A pool of `target` moduli of `bits` bits, generating at most `on_demand_generators` on
    /// demand at once (at least 1).
    pub fn new(store: Store, bits: u32, target: u32, on_demand_generators: u32) -> Self {
        let permits = usize::try_from(on_demand_generators.max(1)).unwrap_or(1);
        Self {
            store,
            bits,
            target,
            wake: Arc::new(Notify::new()),
            on_demand: Arc::new(Semaphore::new(permits)),
            generated_on_demand: Arc::new(AtomicU64::new(0)),
        }
    }

    /// How many moduli draws have generated on demand (the pool was empty) so far.
    pub fn generated_on_demand(&self) -> u64 {
        self.generated_on_demand.load(Ordering::Relaxed)
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

    /// Takes a random ready modulus and marks it issued; if none is ready, generates one when a
    /// generator is free. `None`: none is ready and every generator is busy.
    pub async fn draw(&self) -> Result<Option<IssuedModulus>, StoreError> {
        let drawn = self.store.draw_modulus(self.bits).await?;
        self.wake.notify_one();
        if drawn.is_some() {
            return Ok(drawn);
        }
        let Ok(permit) = Arc::clone(&self.on_demand).try_acquire_owned() else {
            tracing::warn!(
                bits = self.bits,
                "blum pool empty and every on-demand generator busy: draw refused"
            );
            return Ok(None);
        };
        tracing::warn!(
            bits = self.bits,
            "blum pool empty: generating a modulus on demand"
        );
        self.generated_on_demand.fetch_add(1, Ordering::Relaxed);
        let n_hex = generate(self.bits, Some(permit)).await;
        self.store
            .issue_new_modulus(&n_hex, self.bits)
            .await
            .map(Some)
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
            let n_hex = generate(self.bits, None).await;
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

/// One fresh modulus in the wire encoding, generated off the async threads; `permit` (if any) is
/// held until the generation is done.
async fn generate(bits: u32, permit: Option<OwnedSemaphorePermit>) -> String {
    let job = tokio::task::spawn_blocking(move || {
        let _permit = permit;
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
    async fn an_empty_pool_generates_on_demand_with_bounded_generators() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/pool.db", dir.path().display());
        let store = Store::open(&url).await.unwrap();
        // No refill task: the pool stays empty, every draw is on demand.
        let pool = BlumPool::new(store.clone(), 2048, 0, 1);
        let draws = futures::future::join_all((0..6).map(|_| pool.draw())).await;
        let drawn: Vec<IssuedModulus> = draws.into_iter().filter_map(|d| d.unwrap()).collect();
        // One generator: the concurrent draws beyond it were refused, not queued.
        assert!(
            !drawn.is_empty() && drawn.len() < 6,
            "{} drawn",
            drawn.len()
        );
        assert_eq!(pool.generated_on_demand(), drawn.len() as u64);
        // With the generator free again, a draw succeeds.
        assert!(pool.draw().await.unwrap().is_some());
        assert_eq!(pool.generated_on_demand(), drawn.len() as u64 + 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn fills_persists_and_never_issues_one_modulus_twice() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/pool.db", dir.path().display());
        let store = Store::open(&url).await.unwrap();
        // Two of the five draws below find the pool empty: two generators serve them both.
        let pool = BlumPool::new(store.clone(), 1024, 3, 2);
        let task = pool.spawn_refill();
        wait_ready(&store, 1024, 3).await;

        // Concurrent draws: each gets its own n, and every n is a valid 1024-bit odd modulus.
        let draws = futures::future::join_all((0..5).map(|_| pool.draw())).await;
        let drawn: Vec<IssuedModulus> = draws
            .into_iter()
            .map(|d| d.unwrap().expect("the pool had moduli ready"))
            .collect();
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

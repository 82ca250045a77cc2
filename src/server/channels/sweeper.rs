//! The expiry task: it frees channels at their deadlines, sleeping until the earliest and woken
//! when an earlier one is set, and stops when its [`Sweeper`] guard is dropped.

use super::{
    Channels,
    table::{Shared, free, lock},
};
use tokio::time::Instant;

impl<T: Default + Send + 'static> Channels<T> {
    /// Frees the channels whose deadline is `now` or earlier; returns how many went. Costs the
    /// expired ones only, not the table.
    pub fn sweep(&self, now: Instant) -> usize {
        let expired: Vec<Shared<T>> = {
            let mut table = self.table();
            let mut names = Vec::new();
            while let Some((at, name)) = table.expirations.first()
                && *at <= now
            {
                names.push(name.clone());
                table.expirations.pop_first();
            }
            names
                .iter()
                .filter_map(|name| table.channels.remove(name).map(|slot| slot.channel))
                .collect()
        };
        let states: Vec<Option<T>> = expired.iter().map(|c| free(&mut lock(c))).collect();
        drop(states);
        expired.len()
    }

    /// Starts the task that frees channels at their deadlines. It sleeps until the earliest and
    /// is woken when an earlier one is set; it stops when the returned guard is dropped.
    pub fn spawn_sweeper(&self) -> Sweeper {
        let channels = self.clone();
        let task = tokio::spawn(async move {
            loop {
                let next = {
                    let table = channels.table();
                    if table.shutdown {
                        return;
                    }
                    table.next_expiry()
                };
                // A wake-up between reading `next` and waiting is not lost: `notify_one` leaves
                // a permit when no one waits.
                match next {
                    Some(at) if at <= Instant::now() => {
                        let freed = channels.sweep(Instant::now());
                        if freed > 0 {
                            tracing::info!(freed, "relay: expired channels freed");
                        }
                    }
                    Some(at) => {
                        tokio::select! {
                            () = tokio::time::sleep_until(at) => {}
                            () = channels.inner.sweep.notified() => {}
                        }
                    }
                    None => channels.inner.sweep.notified().await,
                }
            }
        });
        let channels = self.clone();
        Sweeper {
            stop: Some(Box::new(move || {
                channels.table().shutdown = true;
                channels.inner.sweep.notify_one();
            })),
            task,
        }
    }
}

/// The running sweeper of a [`Channels`] table; dropping it stops the task (mini-redis'
/// `DbDropGuard`).
pub struct Sweeper {
    stop: Option<Box<dyn FnOnce() + Send + Sync>>,
    task: tokio::task::JoinHandle<()>,
}

impl Sweeper {
    /// Whether the task has ended.
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }
}

impl Drop for Sweeper {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop();
        }
    }
}

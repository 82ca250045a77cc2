//! Browser-only code (feature `hydrate`): sockets and timers behind small safe wrappers.

pub mod ffs_bench;
pub mod identify;
pub mod ping;
mod socket;
pub mod transfer;
pub mod webcrypto;

pub use socket::{Link, Socket, SocketEvent};

/// Milliseconds since the page started, with sub-millisecond precision.
pub fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or(0.0)
}

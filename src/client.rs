//! Browser-only code (feature `hydrate`): sockets and timers behind small safe wrappers.

pub mod clipboard;
pub mod digest;
#[cfg(feature = "bench-exports")]
pub mod ffs_bench;
pub mod identify;
pub mod ping;
mod socket;
pub mod soundness;
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

/// Waits `ms` milliseconds (a `setTimeout`), letting the page render meanwhile.
pub async fn sleep_ms(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

//! `/peggy` and `/victor`: Feige–Fiat–Shamir identification, live in two browsers.
//!
//! Rendered on the server; the keys, the rounds and the sockets live in the hydrated page
//! (`crate::client::identify`). Both pages show every round as it happens — x, e, y, the check
//! and the soundness so far — and return to their start when the run ends, keeping the last
//! run on screen. A Peggy whose Victor leaves before his verdict keeps waiting for another one.

mod many_runs;
mod peggy;
mod rounds;
mod rows;
mod victor;

pub use peggy::PeggyPage;
pub use victor::VictorPage;

use crate::protocol::identify::readable::Readable;
use leptos::prelude::*;

/// What a page says about a demo-sized n: it identifies no one.
fn insecure_note(readable: &Readable) -> String {
    format!(
        "Insecure demo modulus: n = {} has {} bits, so anyone factors it in an instant. This run shows how identification works; it identifies no one. Real use: 2048 bits.",
        readable.n(),
        readable.bits()
    )
}

/// A page's browser-only state (its sockets): thread-local in the browser. On the server the page
/// only renders, and the response stream may drop it on another worker thread than the one that
/// made it (a thread-local value then panics), so there it is an empty `Send` slot.
#[cfg(feature = "hydrate")]
fn held<T: 'static>() -> StoredValue<Option<T>, LocalStorage> {
    StoredValue::new_local(None)
}
#[cfg(not(feature = "hydrate"))]
fn held<T: Send + Sync + 'static>() -> StoredValue<Option<T>> {
    StoredValue::new(None)
}

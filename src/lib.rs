//! zkrelay: watch a zero-knowledge proof happen, and relay a secret between two people who
//! share a short code.
//!
//! One crate, three zones (see `docs/ARCHITECTURE.md`):
//! - [`protocol`] is pure: state machines that take bytes and an injected RNG. The browser (wasm32),
//!   the server, the CLI and the benchmarks all run it.
//! - `server` (feature `ssr`) holds the relay core, the store, the routes and the config.
//! - [`app`], [`pages`], [`components`] and `client` (feature `hydrate`) make the web app, rendered
//!   on the server and hydrated in the browser.
//!
//! [`api`] sits between them: the types and server functions both sides compile.

pub mod api;
pub mod app;
pub mod components;
pub mod pages;
pub mod protocol;
pub mod rng;

#[cfg(feature = "ssr")]
pub mod cli;
#[cfg(feature = "hydrate")]
pub mod client;
#[cfg(feature = "ssr")]
pub mod server;

/// Entry point of the browser bundle: attaches the reactive app to the server-rendered HTML. It
/// hydrates asynchronously, so that a page split out of the main bundle (`app::lazy`) is loaded
/// before its HTML is hydrated.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_lazy(app::App);
}

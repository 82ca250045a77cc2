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
/// before its HTML is hydrated; only then does `<main>` say `data-hydrated="true"` (tests and
/// the first-load benchmark wait for it, so it must not be set while a page is still loading).
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    let Some(body) = leptos::prelude::document().body() else {
        return;
    };
    // (hydrate_from_async starts Leptos' executor itself.)
    wasm_bindgen_futures::spawn_local(async move {
        leptos::mount::hydrate_from_async(body, app::App)
            .await
            .forget();
        if let Some(main) = leptos::prelude::document()
            .query_selector("main")
            .ok()
            .flatten()
        {
            let _ = main.set_attribute("data-hydrated", "true");
        }
    });
}

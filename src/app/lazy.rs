//! The pages the browser loads when it first goes to them, not with the home page.
//!
//! Built with the feature `split`, as `scripts/build` does (then `tools/wasm-split` cuts the
//! bundle, as `cargo leptos --split` would), the Identify pages and the Relay pages are two split
//! points: their code leaves the main bundle for a module of its own (plus what they share),
//! fetched on the first visit of one of them, or preloaded when the server renders one. Two
//! groups, not one module per page: every module is one more fetch, compile and instantiation
//! before a page is live, and a page entered directly pays for them all (measured in
//! docs/PERFORMANCE.md). On the server the same routes render at once.

use crate::pages::{PeggyPage, ReceivePage, SendPage, SimulatorPage, VictorPage};
#[cfg(any(feature = "split", not(feature = "hydrate")))]
use leptos::lazy;
use leptos::prelude::*;
use leptos_router::LazyRoute;

/// Which Identify page to show.
#[derive(Clone, Copy)]
#[repr(u8)]
pub enum Identify {
    Peggy,
    Victor,
    Simulator,
}

/// Which Relay page to show.
#[derive(Clone, Copy)]
#[repr(u8)]
pub enum Relay {
    Send,
    Receive,
}

// With `#[lazy]` (a split build, and the server, which then names the split point's modules in
// the page for the browser to preload) the function becomes async; without it (every other
// browser build) it stays as written.

/// The Identify pages: one split point for the three.
#[cfg_attr(any(feature = "split", not(feature = "hydrate")), lazy)]
pub fn identify_view(page: Identify) -> AnyView {
    match page {
        Identify::Peggy => view! { <PeggyPage /> }.into_any(),
        Identify::Victor => view! { <VictorPage /> }.into_any(),
        Identify::Simulator => view! { <SimulatorPage /> }.into_any(),
    }
}

/// The Relay pages: one split point for the two.
#[cfg_attr(any(feature = "split", not(feature = "hydrate")), lazy)]
pub fn relay_view(page: Relay) -> AnyView {
    match page {
        Relay::Send => view! { <SendPage /> }.into_any(),
        Relay::Receive => view! { <ReceivePage /> }.into_any(),
    }
}

/// A route showing `$view($page)`; `$preload` is the preload function `#[lazy]` made for `$view`. The route carries no data of its own: each page starts its
/// requests itself.
macro_rules! lazy_page {
    ($(#[$doc:meta])* $route:ident => $view:ident($page:expr), $preload:ident) => {
        $(#[$doc])*
        pub struct $route;

        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            // The router awaits this before it hydrates a server-rendered page, so the page's
            // modules are there when its HTML is walked (without it: a hydration panic).
            #[cfg(feature = "split")]
            async fn preload() {
                $preload().await;
            }

            async fn view(_this: Self) -> AnyView {
                #[cfg(any(feature = "split", not(feature = "hydrate")))]
                let view = $view($page).await;
                #[cfg(not(any(feature = "split", not(feature = "hydrate"))))]
                let view = $view($page);
                view
            }
        }
    };
}

lazy_page!(
    /// `/peggy`: register, make a key, prove.
    PeggyRoute => identify_view(Identify::Peggy), __preload_identify_view
);
lazy_page!(
    /// `/victor`: pick a waiting Peggy, challenge, verify.
    VictorRoute => identify_view(Identify::Victor), __preload_identify_view
);
lazy_page!(
    /// `/simulator`: the transcript anyone can fake.
    SimulatorRoute => identify_view(Identify::Simulator), __preload_identify_view
);
lazy_page!(
    /// `/send`: the sender's side of a relay transfer.
    SendRoute => relay_view(Relay::Send), __preload_relay_view
);
lazy_page!(
    /// `/receive`: the recipient's side.
    ReceiveRoute => relay_view(Relay::Receive), __preload_relay_view
);

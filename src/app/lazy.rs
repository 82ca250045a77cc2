//! The pages the browser loads when it first goes to them, not with the home page.
//!
//! Each route below is a split point: built with the feature `split`, as `scripts/build` does
//! (then `tools/wasm-split` cuts the bundle, as `cargo leptos --split` would), its page's code
//! leaves the main bundle for a module of its own, fetched on the first visit (or preloaded when the server renders that
//! page). Code two pages share goes to a shared module, loaded once. On the server the same routes
//! render at once.

use crate::pages::{PeggyPage, ReceivePage, SendPage, SimulatorPage, VictorPage};
use leptos::prelude::*;
use leptos_router::LazyRoute;
#[cfg(feature = "split")]
use leptos_router::lazy_route;

/// A route whose view is `$page`, split into its own module. The route carries no data of its
/// own: each page starts its requests itself.
macro_rules! lazy_page {
    ($(#[$doc:meta])* $route:ident => $page:ident) => {
        $(#[$doc])*
        pub struct $route;

        #[cfg(feature = "split")]
        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            fn view(_this: Self) -> AnyView {
                view! { <$page /> }.into_any()
            }
        }

        // The same route, not split: what the server renders, and what every other build of
        // the browser code (clippy, the wasm32 tests) links.
        #[cfg(not(feature = "split"))]
        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            async fn view(_this: Self) -> AnyView {
                view! { <$page /> }.into_any()
            }
        }
    };
}

lazy_page!(
    /// `/peggy`: register, make a key, prove.
    PeggyRoute => PeggyPage
);
lazy_page!(
    /// `/victor`: pick a waiting Peggy, challenge, verify.
    VictorRoute => VictorPage
);
lazy_page!(
    /// `/simulator`: the transcript anyone can fake.
    SimulatorRoute => SimulatorPage
);
lazy_page!(
    /// `/send`: the sender's side of a relay transfer.
    SendRoute => SendPage
);
lazy_page!(
    /// `/receive`: the recipient's side.
    ReceiveRoute => ReceivePage
);

//! The web app's shell and routes. Rendered on the server, then hydrated in the browser.

mod lazy;

use crate::pages::{HomePage, NotFound};
use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    Lazy, StaticSegment,
    components::{A, Route, Router, Routes},
};

/// The HTML document around the app (server side only renders it).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="data:," />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    view! {
        <Stylesheet id="leptos" href="/pkg/zkrelay.css" />
        <Title text="zkrelay" />
        <Router>
            <Frame>
            <header class="topbar">
                <A href="/" attr:class="brand">
                    "zkrelay"
                </A>
                <nav>
                    <A href="/peggy">"Peggy"</A>
                    <A href="/victor">"Victor"</A>
                    <A href="/send">"Send"</A>
                    <A href="/receive">"Receive"</A>
                </nav>
            </header>
            // The browser's entry point (`crate::hydrate`) sets it to "true" once the page is live.
            <main data-hydrated="false">
                <Routes fallback=NotFound>
                    <Route path=StaticSegment("") view=HomePage />
                    <Route path=StaticSegment("peggy") view={Lazy::<lazy::PeggyRoute>::new()} />
                    <Route path=StaticSegment("victor") view={Lazy::<lazy::VictorRoute>::new()} />
                    <Route path=StaticSegment("simulator") view={Lazy::<lazy::SimulatorRoute>::new()} />
                    <Route path=StaticSegment("send") view={Lazy::<lazy::SendRoute>::new()} />
                    <Route path=StaticSegment("receive") view={Lazy::<lazy::ReceiveRoute>::new()} />
                </Routes>
            </main>
            </Frame>
        </Router>
    }
}

/// Everything inside the router; `?present` in the address turns on projector mode (large type,
/// high contrast). Read once, from the request on the server and from the address in the
/// browser, so both render the same class.
#[component]
fn Frame(children: Children) -> impl IntoView {
    let query: Option<String> = {
        #[cfg(feature = "ssr")]
        {
            use_context::<axum::http::request::Parts>()
                .and_then(|parts| parts.uri.query().map(str::to_owned))
        }
        #[cfg(not(feature = "ssr"))]
        {
            #[cfg(feature = "hydrate")]
            let search = web_sys::window().and_then(|w| w.location().search().ok());
            #[cfg(not(feature = "hydrate"))]
            let search: Option<String> = None;
            search.map(|s| s.trim_start_matches('?').to_owned())
        }
    };
    let present = query.is_some_and(|q| {
        q.split('&')
            .any(|p| p == "present" || p.starts_with("present="))
    });
    view! { <div class=if present { "frame present" } else { "frame" }>{children()}</div> }
}

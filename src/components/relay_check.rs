//! Sends a ping over the server's WebSocket and shows the round-trip time.

use super::fixed::Fixed;
use leptos::prelude::*;

/// What the last check found.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckResult {
    Waiting,
    RoundTrip { millis: f64 },
    Failed(String),
}

#[component]
pub fn RelayCheck() -> impl IntoView {
    let (result, set_result) = signal(None::<CheckResult>);
    #[cfg(feature = "hydrate")]
    let socket = StoredValue::new_local(None::<crate::client::Socket>);
    let check = move |_| {
        set_result.set(Some(CheckResult::Waiting));
        #[cfg(feature = "hydrate")]
        {
            // Replacing the value drops (and closes) the previous check's socket.
            let started = crate::client::ping::start(move |r| set_result.set(Some(r)));
            match started {
                Ok(s) => socket.set_value(Some(s)),
                Err(e) => set_result.set(Some(CheckResult::Failed(e))),
            }
        }
    };
    let shown = move || match result.get() {
        None => String::new(),
        Some(CheckResult::Waiting) => "pinging…".to_owned(),
        Some(CheckResult::RoundTrip { millis }) => {
            format!("relay answered in {0} ms", Fixed(millis, 1))
        }
        Some(CheckResult::Failed(e)) => format!("relay unreachable: {e}"),
    };
    view! {
        <div class="panel">
            <button id="relay-check" on:click=check>"Check the relay"</button>
            <output id="relay-result">{shown}</output>
        </div>
    }
}

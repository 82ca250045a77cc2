//! Whether the relay answers: a ping over the server's WebSocket as soon as the page is live, and
//! every 15 s, shown as a state with its round-trip time.

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
    let check = move || {
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
    Effect::new(move |_| {
        check();
        #[cfg(feature = "hydrate")]
        if let Ok(handle) = set_interval_with_handle(check, std::time::Duration::from_secs(15)) {
            on_cleanup(move || handle.clear());
        }
    });
    let state = move || match result.get() {
        None | Some(CheckResult::Waiting) => ("", "Relay: checking…".to_owned()),
        Some(CheckResult::RoundTrip { millis }) => (
            "pass",
            format!("Relay reachable: answered in {} ms", Fixed(millis, 1)),
        ),
        Some(CheckResult::Failed(e)) => ("fail", format!("Relay unreachable: {e}")),
    };
    view! {
        <p id="relay-result" class=move || format!("state {}", state().0)>{move || state().1}</p>
    }
}

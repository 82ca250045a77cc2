//! What the server has ready, shown as soon as the page is live (a server function round trip,
//! repeated every 10 s) — a state, not a button.

use crate::api::GetStatus;
use leptos::prelude::*;

#[component]
pub fn ServerStatus() -> impl IntoView {
    let status = ServerAction::<GetStatus>::new();
    Effect::new(move |_| {
        status.dispatch(GetStatus {});
        #[cfg(feature = "hydrate")]
        if let Ok(handle) = set_interval_with_handle(
            move || {
                status.dispatch(GetStatus {});
            },
            std::time::Duration::from_secs(10),
        ) {
            on_cleanup(move || handle.clear());
        }
    });
    let state = move || match status.value().get() {
        None => ("", "Server: checking…".to_owned()),
        Some(Ok(s)) => (
            "pass",
            format!(
                "Server ready: {} of {} Blum integers ({} bits) waiting for new Peggys · zkrelay {}",
                s.ready_moduli, s.pool_target, s.modulus_bits, s.version
            ),
        ),
        Some(Err(e)) => ("fail", format!("Server trouble: {}", e.message)),
    };
    view! {
        <p id="status-result" class=move || format!("state {}", state().0)>{move || state().1}</p>
    }
}

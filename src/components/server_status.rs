//! Asks the server what it has ready (a server function round trip) and shows it.

use crate::api::GetStatus;
use leptos::prelude::*;

#[component]
pub fn ServerStatus() -> impl IntoView {
    let status = ServerAction::<GetStatus>::new();
    let shown = move || match status.value().get() {
        None if status.pending().get() => "asking…".to_owned(),
        None => String::new(),
        Some(Ok(s)) => format!(
            "zkrelay {} · {} of {} Blum moduli ({} bits) ready",
            s.version, s.ready_moduli, s.pool_target, s.modulus_bits
        ),
        Some(Err(e)) => format!("error: {e}"),
    };
    view! {
        <div class="panel">
            <button id="status-button" on:click=move |_| {
                status.dispatch(GetStatus {});
            }>"Server status"</button>
            <output id="status-result">{shown}</output>
        </div>
    }
}

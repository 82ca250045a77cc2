//! `/`: pick a role, and check that the server and relay answer.

use crate::components::{RelayCheck, RoleCard, ServerStatus};
use leptos::prelude::*;

#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <section class="hero">
            <h1>"See a zero-knowledge proof happen."</h1>
            <p>
                "Peggy proves she knows a secret without showing it; Victor checks her, round by round. "
                "Or hand a secret to whoever holds your short code, end-to-end encrypted through the relay."
            </p>
        </section>
        <section class="roles" aria-label="Choose a role">
            <RoleCard
                href="/peggy"
                name="Peggy"
                blurb="Make a secret in your browser and prove you know it (Feige–Fiat–Shamir)."
            />
            <RoleCard
                href="/victor"
                name="Victor"
                blurb="Pick a waiting Peggy and challenge her until you are convinced."
            />
            <RoleCard
                href="/send"
                name="Send"
                blurb="Send a text or a file to whoever holds the code (SPAKE2, then encrypted)."
            />
            <RoleCard href="/receive" name="Receive" blurb="Type the code you were given and receive." />
        </section>
        <section class="health" aria-label="Server">
            <ServerStatus />
            <RelayCheck />
        </section>
    }
}

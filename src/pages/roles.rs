//! The Identify role pages. Each says what the role does; the Identify issue fills them in.

use leptos::prelude::*;
use leptos_router::components::A;

#[component]
fn RolePage(title: &'static str, intro: &'static str) -> impl IntoView {
    view! {
        <section class="role-page">
            <h1>{title}</h1>
            <p>{intro}</p>
            <p class="muted">"This part of zkrelay is being built. " <A href="/">"Choose another role"</A></p>
        </section>
    }
}

#[component]
pub fn PeggyPage() -> impl IntoView {
    view! {
        <RolePage
            title="Peggy"
            intro="You will get a Blum integer n from the server, make k secrets and your public key in this page, and wait for a Victor to challenge you. Your secrets never leave the page."
        />
    }
}

#[component]
pub fn VictorPage() -> impl IntoView {
    view! {
        <RolePage
            title="Victor"
            intro="Pick a waiting Peggy, choose how many rounds, and challenge her; each round she passes halves (or better) the chance that she is bluffing."
        />
    }
}

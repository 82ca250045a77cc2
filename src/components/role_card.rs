//! A card on the home page that leads to one role.

use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn RoleCard(href: &'static str, name: &'static str, blurb: &'static str) -> impl IntoView {
    view! {
        <A href=href attr:class="role-card">
            <h2>{name}</h2>
            <p>{blurb}</p>
        </A>
    }
}

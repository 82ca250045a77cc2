//! `/peggy`: register (from the pool or a readable demo modulus), wait, and prove — or bluff.

use super::{held, insecure_note, rounds::*, rows::Rows};
use crate::api::identify::{DEMO_BITS, DemoModulus};
use crate::components::RoundSteps;
use crate::protocol::identify::readable::Readable;
use leptos::prelude::*;
use leptos_router::components::A;

#[cfg(feature = "hydrate")]
type PeggySocket = (crate::client::Socket, crate::client::identify::PeggyControl);
#[cfg(not(feature = "hydrate"))]
type PeggySocket = ();

/// The modulus a Peggy asks for: `pool` (the server's 2048-bit pool), or a demo one.
fn demo_of(size: &str) -> Option<DemoModulus> {
    size.parse().ok()
}

/// Where Peggy's page stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum PeggyPhase {
    Start,
    Preparing,
    Waiting,
    Running,
}

#[component]
pub fn PeggyPage() -> impl IntoView {
    let (name, set_name) = signal(String::new());
    let (k, set_k) = signal(crate::protocol::ffs::DEFAULT_K as u32);
    let (cheat, set_cheat) = signal(false);
    let (size, set_size) = signal(String::from("pool"));
    let (r_text, set_r_text) = signal(String::new());
    let (r_negative, set_r_negative) = signal(false);
    let r_note = RwSignal::new(String::new());
    let readable = RwSignal::new(None::<Readable>);
    let cheating = RwSignal::new(false);
    let phase = RwSignal::new(PeggyPhase::Start);
    let status = RwSignal::new(String::new());
    let notice = RwSignal::new(String::new());
    let keys_info = RwSignal::new(None::<String>);
    let verdict = RwSignal::new(None::<(bool, String)>);
    let rows = Rows::new();
    let run_k = RwSignal::new(0u32);
    let session = held::<PeggySocket>();
    let register = move |_| {
        phase.set(PeggyPhase::Preparing);
        notice.set(String::new());
        verdict.set(None);
        rows.clear();
        r_note.set(String::new());
        status.set("drawing a Blum integer and making your keys…".into());
        #[cfg(feature = "hydrate")]
        {
            use crate::client::identify::{self, Update};
            use crate::protocol::identify::PeggyEvent;
            let name = name.get_untracked();
            let k_value = k.get_untracked();
            let bluff = cheat.get_untracked();
            let demo = demo_of(&size.get_untracked());
            leptos::task::spawn_local(async move {
                let reset = move |message: String| {
                    session.set_value(None);
                    phase.set(PeggyPhase::Start);
                    status.set(String::new());
                    r_note.set(String::new());
                    notice.set(message);
                };
                let keys = match identify::register(&name, k_value as usize, bluff, demo).await {
                    Ok(keys) => keys,
                    Err(e) => return reset(format!("Could not register: {e}")),
                };
                run_k.set(keys.registered.k);
                cheating.set(bluff);
                readable.set(match &keys.key {
                    Some(key) => Readable::for_peggy(key),
                    None => Readable::for_victor(&keys.public),
                });
                let r = &keys.registered;
                let numbers = match (readable.get_untracked(), &keys.key) {
                    (Some(view), Some(_)) => format!(
                        " n = {} (its factors p · q stay hidden), your secrets s = ({}) — shown here only because this is a demo — and your public identifiers I = ({}).",
                        view.n(),
                        view.secrets().join(", "),
                        view.identifiers().join(", ")
                    ),
                    (Some(view), None) => format!(
                        " n = {}, public identifiers I = ({}).",
                        view.n(),
                        view.identifiers().join(", ")
                    ),
                    _ => String::new(),
                };
                keys_info.set(Some(if bluff {
                    format!(
                        "“{}”: |n| = {} bits, k = {}. You made the keys in {} ms and threw the {} secrets away: only the public key is left. Each round you bet on Victor's challenge before you commit; you pass only if he picks your guess (probability 2^-{}).{numbers}",
                        r.name, r.bits, r.k, crate::components::fixed::Fixed(keys.keygen_ms, 1), r.k, r.k
                    )
                } else {
                    format!(
                        "“{}”: |n| = {} bits, k = {}, keys made here in {} ms; your {} secrets stay in this page.{numbers}",
                        r.name, r.bits, r.k, crate::components::fixed::Fixed(keys.keygen_ms, 1), r.k
                    )
                }));
                let on = move |update: Update<PeggyEvent>| match update {
                    Update::Paired { .. } => {
                        phase.set(PeggyPhase::Running);
                        rows.clear();
                        verdict.set(None);
                        status.set("A Victor picked you; waiting for his first message…".into());
                    }
                    Update::Event(PeggyEvent::Unpaired { message }) => {
                        phase.set(PeggyPhase::Waiting);
                        status.set(format!("{message} — waiting for another Victor…"));
                    }
                    Update::Event(PeggyEvent::Started { rounds }) => {
                        status.set(format!("Victor asks for {rounds} rounds"));
                    }
                    Update::Event(
                        event @ (PeggyEvent::Committed { .. }
                        | PeggyEvent::Answered { .. }
                        | PeggyEvent::Checked { .. }),
                    ) => {
                        if matches!(&event, PeggyEvent::Committed { nonce: Some(_), .. }) {
                            r_note.set(String::new());
                        }
                        let mut rows = rows;
                        readable.with_untracked(|view| {
                            super::rows::peggy_event(&mut rows, event, view.as_ref())
                        });
                    }
                    Update::Event(PeggyEvent::Finished {
                        accepted,
                        rounds_passed,
                        rounds,
                    }) => {
                        let k = run_k.get_untracked();
                        let text = match (accepted, bluff) {
                            (true, false) => format!(
                                "Victor accepted you: {rounds_passed} of {rounds} rounds passed."
                            ),
                            (false, false) => format!(
                                "Victor rejected you after {rounds_passed} of {rounds} rounds."
                            ),
                            (true, true) => format!(
                                "You fooled Victor: you guessed all {rounds} challenges, which happens with probability 2^-{}.",
                                k * rounds
                            ),
                            (false, true) => format!(
                                "Caught at round {}: Victor's challenge was not your guess, so your answer failed his check ({rounds_passed} of {rounds} rounds passed).",
                                rounds_passed + 1
                            ),
                        };
                        verdict.set(Some((accepted, text)));
                    }
                    Update::ChallengeDue { .. } => {}
                    Update::Ended { finished, reason } => reset(if finished {
                        "The run is over. Your registration and public key were erased from the server; register again for another run.".to_owned()
                    } else {
                        format!(
                            "The run ended: {reason}. Your registration was erased from the server."
                        )
                    }),
                };
                match identify::peggy(&keys, on) {
                    Ok(socket) => {
                        session.set_value(Some(socket));
                        phase.set(PeggyPhase::Waiting);
                        status.set("Waiting for a Victor…".into());
                    }
                    Err(e) => reset(format!("Could not connect: {e}")),
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (name, k, cheat, cheating, session, run_k, keys_info, size);
    };
    let use_r = move |_| {
        #[cfg(feature = "hydrate")]
        session.with_value(|s| {
            let Some((_, control)) = s else { return };
            let negative = r_negative.get_untracked();
            let text = r_text.get_untracked();
            match control.choose_nonce(&text, negative) {
                Ok(()) => {
                    notice.set(String::new());
                    r_note.set(format!(
                        "Your next commitment uses r = {} and x = {}r² mod n.",
                        text.trim(),
                        if negative { "−" } else { "+" }
                    ));
                }
                Err(e) => notice.set(e),
            }
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = (r_text, r_negative);
    };
    let demo_size = move || demo_of(&size.get()).is_some();
    let handbook = move || demo_of(&size.get()) == Some(DemoModulus::Handbook);
    let leave = move |_| {
        // Dropping the socket closes it: the server erases this Peggy and tells her Victor.
        session.set_value(None);
        phase.set(PeggyPhase::Start);
        status.set(String::new());
        notice.set("You left. Your registration was erased from the server.".into());
    };
    view! {
        <section class="role-page">
            <h1>"Peggy"</h1>
            <p>"You get a Blum integer n from the server, make k secrets and your public key in this page, and wait for a Victor to challenge you. Your secrets never leave the page; when the run ends, the server forgets you."</p>
            <div class="panel">
                <label>"Your name " <input id="peggy-name" type="text" maxlength="40" placeholder="Peggy"
                    prop:value=move || name.get()
                    on:input=move |ev| set_name.set(event_target_value(&ev)) /></label>
                " "
                <label>"modulus " <select id="peggy-size"
                    prop:value=move || size.get()
                    on:change=move |ev| set_size.set(event_target_value(&ev))>
                    <optgroup label="readable demo (insecure)">
                        <option value="hac">"Handbook Example 10.27: n = 553913, k = 3"</option>
                        {DEMO_BITS.map(|bits| view! { <option value=bits.to_string()>{format!("{bits} bits, in decimal")}</option> }).collect_view()}
                    </optgroup>
                    <optgroup label="real use">
                        <option value="pool" selected>"2048 bits from the server's pool"</option>
                    </optgroup>
                </select></label>
                " "
                <label>"secrets k " <input id="peggy-k" type="number" min="1" max="64"
                    disabled=handbook
                    prop:value=move || if handbook() { "3".to_owned() } else { k.get().to_string() }
                    on:input=move |ev| set_k.set(event_target_value(&ev).parse().unwrap_or(20)) /></label>
                " "
                <label title="She registers a public key but keeps no secrets, and bluffs: Victor's page does not know.">
                    <input id="peggy-cheat" type="checkbox"
                        prop:checked=move || cheat.get()
                        on:change=move |ev| set_cheat.set(event_target_checked(&ev)) />
                    " Peggy without the secret (she guesses)"</label>
                " "
                <button id="peggy-register" on:click=register
                    disabled=move || phase.get() != PeggyPhase::Start || name.get().trim().is_empty()>"Register and wait"</button>
                " "
                <button id="peggy-leave" on:click=leave
                    disabled=move || matches!(phase.get(), PeggyPhase::Start | PeggyPhase::Preparing)>"Leave"</button>
            </div>
            <p id="peggy-insecure" class="insecure" hidden=move || !demo_size()>{move || readable.with(|r| r.as_ref().map(insecure_note)).unwrap_or_else(||
                "Insecure demo modulus: readable in decimal, factored in an instant. Real use: 2048 bits.".to_owned())}</p>
            <div class="panel" id="peggy-nonce"
                hidden=move || !(demo_size() && !cheat.get() && matches!(phase.get(), PeggyPhase::Waiting | PeggyPhase::Running))>
                    <label>"Pick r yourself for the next round " <input id="peggy-r" type="text" inputmode="numeric" class="mono" size="12" placeholder="e.g. 1279"
                        prop:value=move || r_text.get()
                        on:input=move |ev| set_r_text.set(event_target_value(&ev)) /></label>
                    " "
                    <label><input id="peggy-r-negative" type="checkbox"
                        prop:checked=move || r_negative.get()
                        on:change=move |ev| set_r_negative.set(event_target_checked(&ev)) />" x = −r²"</label>
                    " "
                    <button id="peggy-use-r" on:click=use_r>"Use it"</button>
                    <span id="peggy-r-note" class="muted">" " {move || r_note.get()}</span>
            </div>
            <p id="peggy-notice" class="notice">{move || notice.get()}</p>
            <p id="peggy-status">{move || status.get()}</p>
            <p id="peggy-keys" class="muted">{move || keys_info.get().unwrap_or_default()}</p>
            <RoundSteps stage=Signal::derive(move || {
                stage_of(rows.last().as_ref(), phase.get() == PeggyPhase::Running, verdict.with(Option::is_some))
            }) />
            <div class="table-scroll">
                <RoundsTable id="peggy-rounds" rows=rows k=run_k.into() readable=readable guesses=cheating />
            </div>
            <p id="peggy-verdict" class=move || match verdict.get() { Some((true, _)) => "verdict pass", Some((false, _)) => "verdict fail", None => "verdict" }>
                {move || verdict.get().map(|v| v.1).unwrap_or_default()}
            </p>
            <p class="muted"><A href="/simulator">"Why does a run reveal nothing about the secrets? Play “which one is real?”"</A>" · "<A href="/">"Choose another role"</A></p>
        </section>
    }
}

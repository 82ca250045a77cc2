//! `/peggy` and `/victor`: Feige–Fiat–Shamir identification, live in two browsers.
//!
//! Rendered on the server; the keys, the rounds and the sockets live in the hydrated page
//! (`crate::client::identify`). Both pages show every round as it happens — x, e, y, the check
//! and the soundness so far — and return to their start when the run ends, keeping the last
//! run on screen. A Peggy whose Victor leaves before his verdict keeps waiting for another one.

use crate::api::{
    PeggySummary,
    identify::{DEMO_BITS, DemoModulus},
};
use crate::components::{
    RoundSteps, SoundnessChart, round_steps::Stage, soundness_chart::ChartData,
};
use crate::protocol::{
    ffs::{
        MIN_BITS,
        explain::{Answer, Check, Commit, Term, subscript},
    },
    identify::{Nonce, readable::Readable},
};
use leptos::prelude::*;
use leptos_router::components::A;

/// One round as a page shows it. Numbers are kept in wire hex; a demo-sized run shows them in
/// decimal with the round's worked formulas.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
struct RoundRow {
    round: u32,
    x: String,
    e: String,
    y: String,
    passed: Option<bool>,
    /// A cheating Peggy's bet ê (her page only) and whether Victor's e matched it.
    guess: Option<String>,
    guessed: Option<bool>,
    /// Demo mode: Peggy's nonce (her page only) and the formulas worked out so far.
    nonce: Option<Nonce>,
    commit: Option<Commit>,
    answer: Option<Answer>,
    check: Option<Check>,
}

/// The step a run is at: the verdict once it came, else the last round's progress (a run
/// that has started but has no round yet waits for the first commitment).
fn stage_of(rows: &[RoundRow], running: bool, finished: bool) -> Option<Stage> {
    if finished {
        return Some(Stage::Verdict);
    }
    let Some(last) = rows.last() else {
        return running.then_some(Stage::Commit);
    };
    Some(if !last.y.is_empty() || last.passed.is_some() {
        Stage::Check
    } else if !last.e.is_empty() {
        Stage::Response
    } else if !last.x.is_empty() {
        Stage::Challenge
    } else {
        Stage::Commit
    })
}

/// `s = (157, 43215, 4646)` as HTML, the factors the challenge selects marked. Every part is a
/// decimal number or a fixed symbol: nothing to escape.
fn terms_html(name: &str, terms: &[Term]) -> String {
    let items: Vec<String> = terms
        .iter()
        .map(|t| {
            let class = if t.selected { r#" class="picked""# } else { "" };
            format!(
                r#"<span{class} title="{name}{}">{}</span>"#,
                subscript(t.j),
                t.value
            )
        })
        .collect();
    format!(
        r#"<span class="terms">{name} = ({})</span>"#,
        items.join(", ")
    )
}

/// A demo round's worked formulas, as the HTML of the row under it (one view type for all of
/// them keeps the bundle small).
fn formulas_html(row: &RoundRow) -> String {
    let mut html = String::new();
    if let Some(c) = &row.commit {
        html.push_str(&format!(r#"<div class="commit-formula">{c}</div>"#));
    }
    if let Some(a) = &row.answer {
        let s = terms_html("s", &a.secrets);
        html.push_str(&format!(
            r#"<div class="answer-formula">{s} → <span>{a}</span></div>"#
        ));
    }
    if let Some(c) = &row.check {
        let i = terms_html("I", &c.identifiers);
        let class = if c.outcome.passed() { "pass" } else { "fail" };
        html.push_str(&format!(
            r#"<div class="check-formula">{i} → <span class="{class}">{c}</span></div>"#
        ));
    }
    html
}

/// What a page says about a demo-sized n: it identifies no one.
fn insecure_note(readable: &Readable) -> String {
    format!(
        "Insecure demo modulus: n = {} has {} bits, so anyone factors it in an instant. This run shows how identification works; it identifies no one. Real use: 2048 bits.",
        readable.n(),
        readable.bits()
    )
}

/// A big number shortened for a table cell (the full value is in the cell's title).
fn short(hex: &str) -> String {
    if hex.len() <= 18 {
        hex.to_owned()
    } else {
        format!("{}…{}", &hex[..8], &hex[hex.len() - 8..])
    }
}

#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
fn update_row(rows: RwSignal<Vec<RoundRow>>, round: u32, change: impl FnOnce(&mut RoundRow)) {
    rows.update(|rows| {
        if let Some(row) = rows.iter_mut().find(|r| r.round == round) {
            change(row);
        } else {
            let mut row = RoundRow {
                round,
                ..RoundRow::default()
            };
            change(&mut row);
            rows.push(row);
        }
    });
}

/// The rounds of a run: x, e, y, the check, and the soundness error after each passed round.
/// With `guesses` (a cheating Peggy's own page) a column shows her bet ê beside Victor's e.
#[component]
fn RoundsTable(
    id: &'static str,
    rows: RwSignal<Vec<RoundRow>>,
    k: Signal<u32>,
    readable: RwSignal<Option<Readable>>,
    #[prop(optional, into)] guesses: Signal<bool>,
) -> impl IntoView {
    let shown = move |hex: &str| {
        readable.with_untracked(|r| r.as_ref().map_or_else(|| short(hex), |r| r.decimal(hex)))
    };
    view! {
        <table id=id class="rounds">
            <thead>
                <tr>
                    <th>"round"</th>
                    <Show when=move || guesses.get()>
                        <th>"her guess ê"</th>
                    </Show>
                    <th>"x = ±r² mod n"</th>
                    <th>"e"</th>
                    <th>"y = r·∏ sⱼ^eⱼ mod n"</th>
                    <th>"y²·∏ Iⱼ^eⱼ ≡ ±x ?"</th>
                    <th>"chance of a bluff"</th>
                </tr>
            </thead>
            <tbody>
                <For each=move || rows.get() key=|row| row.clone() children=move |row| {
                    let check = match row.passed {
                        Some(true) => ("pass", "✓ pass"),
                        Some(false) => ("fail", "✗ fail: caught"),
                        None => ("", "…"),
                    };
                    let guess_class = match row.guessed {
                        Some(true) => "mono bits guess right",
                        Some(false) => "mono bits guess wrong",
                        None => "mono bits guess",
                    };
                    let guess = row.guess.clone().unwrap_or_default();
                    let soundness = match row.passed {
                        Some(true) => format!("2^-{}", k.get_untracked() * row.round),
                        _ => String::new(),
                    };
                    let demo = row.commit.is_some() || row.answer.is_some() || row.check.is_some();
                    let formulas = demo.then(|| view! {
                        <tr class="formula" data-round=row.round><td colspan="8" inner_html=formulas_html(&row) /></tr>
                    });
                    view! {
                        <tr class="round" data-round=row.round>
                            <td>{row.round}</td>
                            <Show when=move || guesses.get()>
                                <td class=guess_class>{guess.clone()}</td>
                            </Show>
                            <td class="mono x" title=row.x.clone()>{shown(&row.x)}</td>
                            <td class="mono bits">{row.e.clone()}</td>
                            <td class="mono y" title=row.y.clone()>{shown(&row.y)}</td>
                            <td class=check.0>{check.1}</td>
                            <td class="mono">{soundness}</td>
                        </tr>
                        {formulas}
                    }
                } />
            </tbody>
        </table>
    }
}

/// A page's browser-only state (its sockets): thread-local in the browser. On the server the page
/// only renders — across threads while a resource loads — so there it is an empty `Send` slot.
#[cfg(feature = "hydrate")]
fn held<T: 'static>() -> StoredValue<Option<T>, LocalStorage> {
    StoredValue::new_local(None)
}
#[cfg(not(feature = "hydrate"))]
fn held<T: Send + Sync + 'static>() -> StoredValue<Option<T>> {
    StoredValue::new(None)
}

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
    let rows = RwSignal::new(Vec::<RoundRow>::new());
    let run_k = RwSignal::new(0u32);
    let session = held::<PeggySocket>();
    let register = move |_| {
        phase.set(PeggyPhase::Preparing);
        notice.set(String::new());
        verdict.set(None);
        rows.set(Vec::new());
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
                        rows.set(Vec::new());
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
                    Update::Event(PeggyEvent::Committed {
                        round,
                        x,
                        guess,
                        nonce,
                    }) => {
                        if nonce.is_some() {
                            r_note.set(String::new());
                        }
                        let commit = readable.with_untracked(|view| {
                            view.as_ref()
                                .zip(nonce.as_ref())
                                .and_then(|(v, n)| v.commit(n))
                        });
                        update_row(rows, round, |r| {
                            r.x = x;
                            r.guess = guess;
                            r.nonce = nonce;
                            r.commit = commit;
                        });
                    }
                    Update::Event(PeggyEvent::Answered {
                        round,
                        e,
                        y,
                        guessed,
                    }) => {
                        update_row(rows, round, |r| {
                            r.answer = readable.with_untracked(|view| {
                                view.as_ref()
                                    .zip(r.nonce.as_ref())
                                    .and_then(|(v, n)| v.answer(n, &e))
                            });
                            r.e = e;
                            r.y = y;
                            r.guessed = guessed;
                        });
                    }
                    Update::Event(PeggyEvent::Checked { round, passed }) => {
                        update_row(rows, round, |r| {
                            r.passed = Some(passed);
                            r.check = readable.with_untracked(|view| {
                                view.as_ref().and_then(|v| v.check(&r.x, &r.e, &r.y))
                            });
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
                rows.with(|r| stage_of(r, phase.get() == PeggyPhase::Running, verdict.with(Option::is_some)))
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

#[cfg(feature = "hydrate")]
type VictorSession = (
    crate::client::Socket,
    crate::client::identify::VictorControl,
);
#[cfg(not(feature = "hydrate"))]
type VictorSession = ();

/// How Victor challenges, as the page offers it.
fn mode_of(value: &str) -> &'static str {
    match value {
        "step" => "step",
        "manual" => "manual",
        _ => "fast",
    }
}

#[component]
pub fn VictorPage() -> impl IntoView {
    // The waiting Peggys: the server renders the page with the list it fetched for this request
    // (a `SharedValue` hands the same list to the hydrating page), then the browser refreshes
    // it. A Resource with <Transition> would do the same at ~24 KB gzip more bundle: async
    // hydration code for every type-erased view.
    let first = leptos::server::SharedValue::new(|| {
        #[cfg(feature = "ssr")]
        return crate::server::identify::prefetched_list();
        #[cfg(not(feature = "ssr"))]
        None::<Vec<PeggySummary>>
    });
    let listing = RwSignal::new(first.into_inner().map(Ok::<_, crate::api::ApiError>));
    let (rounds_text, set_rounds_text) = signal(String::new());
    let (mode, set_mode) = signal("fast");
    let (bits, set_bits) = signal(String::new());
    let running = RwSignal::new(false);
    let due = RwSignal::new(None::<u32>);
    let status = RwSignal::new(String::new());
    let notice = RwSignal::new(String::new());
    let verdict = RwSignal::new(None::<(bool, String)>);
    let rows = RwSignal::new(Vec::<RoundRow>::new());
    let run_k = RwSignal::new(0u32);
    let readable = RwSignal::new(None::<Readable>);
    let session = held::<VictorSession>();

    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let refresh = move || {
            leptos::task::spawn_local(async move {
                listing.set(Some(crate::api::list_peggys(None).await));
            })
        };
        refresh();
        if let Ok(handle) =
            set_interval_with_handle(refresh, std::time::Duration::from_millis(1500))
        {
            on_cleanup(move || handle.clear());
        }
    });
    let list_note = move || {
        listing.get().map(|listed| match listed {
            Ok(list) if list.is_empty() => {
                "No Peggy is waiting yet. Open /peggy in another browser (or run `zkrelay peggy`)."
                    .to_owned()
            }
            Ok(_) => String::new(),
            Err(e) => format!("cannot load the list: {}", e.message),
        })
    };
    let peggys = move || listing.get().and_then(Result::ok).unwrap_or_default();

    let identify = move |peggy: PeggySummary| {
        let rounds = match rounds_text.get_untracked().trim() {
            "" => crate::protocol::ffs::default_rounds(peggy.k as usize),
            text => match text.parse::<u32>() {
                Ok(t) if (1..=crate::protocol::ffs::MAX_ROUNDS).contains(&t) => t,
                _ => {
                    notice.set(format!(
                        "Rounds must be a whole number from 1 to {}.",
                        crate::protocol::ffs::MAX_ROUNDS
                    ));
                    return;
                }
            },
        };
        running.set(true);
        notice.set(String::new());
        verdict.set(None);
        rows.set(Vec::new());
        due.set(None);
        readable.set(None);
        run_k.set(peggy.k);
        status.set(format!("Joining {}…", peggy.name));
        #[cfg(feature = "hydrate")]
        {
            use crate::client::identify::{self, Mode, Update};
            use crate::protocol::identify::VictorEvent;
            let mode = match mode.get_untracked() {
                "step" => Mode::Step,
                "manual" => Mode::Manual,
                _ => Mode::Fast,
            };
            let name = peggy.name.clone();
            let k = peggy.k;
            let on = move |update: Update<VictorEvent>| match update {
                Update::Paired { peggy: card, key } => {
                    readable.set(key.as_ref().and_then(Readable::for_victor));
                    let who = card.map(|c| c.name).unwrap_or_else(|| name.clone());
                    status.set(format!(
                        "Identifying {who}: {rounds} rounds, k = {k}, soundness error 2^-{}",
                        k * rounds
                    ));
                }
                Update::Event(VictorEvent::Committed { round, x }) => {
                    update_row(rows, round, |r| r.x = x);
                }
                Update::Event(VictorEvent::Challenged { round, e }) => {
                    due.set(None);
                    update_row(rows, round, |r| r.e = e);
                }
                Update::Event(VictorEvent::Checked { round, y, passed }) => {
                    update_row(rows, round, |r| {
                        r.check = readable.with_untracked(|view| {
                            view.as_ref().and_then(|v| v.check(&r.x, &r.e, &y))
                        });
                        r.y = y;
                        r.passed = Some(passed);
                    });
                }
                Update::Event(VictorEvent::Finished(v)) => {
                    let text = if v.accepted {
                        format!(
                            "Accepted: {} of {} rounds passed. A bluffing Peggy gets this far with probability 2^-{}.",
                            v.rounds_passed,
                            v.rounds,
                            v.soundness_bits()
                        )
                    } else {
                        format!(
                            "Rejected: caught at round {} — the answer failed the check ({} of {} rounds passed). An honest Peggy never fails a round.",
                            v.rounds_passed + 1,
                            v.rounds_passed,
                            v.rounds
                        )
                    };
                    verdict.set(Some((v.accepted, text)));
                }
                Update::ChallengeDue { round } => {
                    due.set(Some(round));
                    if mode == Mode::Manual {
                        set_bits.set("0".repeat(k as usize));
                    }
                }
                Update::Ended { finished, reason } => {
                    session.set_value(None);
                    running.set(false);
                    due.set(None);
                    status.set(String::new());
                    notice.set(if finished {
                        "The run is over; the server erased this Peggy. Pick another one."
                            .to_owned()
                    } else {
                        format!("The run ended: {reason}.")
                    });
                }
            };
            match identify::victor(&peggy.peggy_id, rounds, mode, on) {
                Ok(s) => session.set_value(Some(s)),
                Err(e) => {
                    running.set(false);
                    notice.set(format!("Could not connect: {e}"));
                }
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (rounds, mode, session);
    };

    let challenge = move |manual: bool| {
        let chosen = if manual {
            let text = bits.get_untracked();
            let parsed: Option<Vec<bool>> = text
                .chars()
                .map(|c| match c {
                    '0' => Some(false),
                    '1' => Some(true),
                    _ => None,
                })
                .collect();
            match parsed {
                Some(b) if b.len() == run_k.get_untracked() as usize => Some(b),
                _ => {
                    notice.set(format!(
                        "The challenge must be exactly k = {} characters, each 0 or 1.",
                        run_k.get_untracked()
                    ));
                    return;
                }
            }
        } else {
            None
        };
        notice.set(String::new());
        #[cfg(feature = "hydrate")]
        session.with_value(|s| {
            if let Some((_, control)) = s
                && let Err(e) = control.challenge(chosen)
            {
                notice.set(e);
            }
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = chosen;
    };
    // Step mode: Space challenges the next round (not while typing in a field).
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let handle = window_event_listener(leptos::ev::keydown, move |ev| {
            if ev.key() != " " || mode.get_untracked() != "step" || due.get_untracked().is_none() {
                return;
            }
            let tag = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .map(|el| el.tag_name())
                .unwrap_or_default();
            if matches!(tag.as_str(), "INPUT" | "SELECT" | "TEXTAREA") {
                return;
            }
            // On a focused button Space would also click it: do the one thing asked.
            ev.prevent_default();
            challenge(false);
        });
        on_cleanup(move || handle.remove());
    }
    let leave = move |_| {
        session.set_value(None);
        running.set(false);
        due.set(None);
        status.set(String::new());
        notice.set("You left the run; that Peggy waits for another Victor.".into());
    };
    let toggle_bit = move |j: usize| {
        set_bits.update(|b| {
            let mut chars: Vec<char> = b.chars().collect();
            if let Some(c) = chars.get_mut(j) {
                *c = if *c == '1' { '0' } else { '1' };
            }
            *b = chars.into_iter().collect();
        });
    };

    view! {
        <section class="role-page">
            <h1>"Victor"</h1>
            <p>"Pick a waiting Peggy, choose how many rounds and how to challenge her. Each round she passes divides the chance that she is bluffing by 2^k."</p>
            <div class="panel">
                <label title="Leave empty for t = ⌈40/k⌉ rounds: a Peggy without the secret then passes with probability at most 2^-40.">"rounds t " <input id="victor-rounds" type="number" min="1" max="1024" placeholder="auto"
                    prop:value=move || rounds_text.get()
                    on:input=move |ev| set_rounds_text.set(event_target_value(&ev)) /></label>
                " "
                <label>"challenges " <select id="victor-mode"
                    prop:value=move || mode.get()
                    on:change=move |ev| set_mode.set(mode_of(&event_target_value(&ev)))>
                    <option value="fast">"automatic, fast"</option>
                    <option value="step">"automatic, one round per click"</option>
                    <option value="manual">"manual: I set the bits"</option>
                </select></label>
            </div>
            <p id="victor-rounds-help" class="muted">"Rounds left empty: t = ⌈40/k⌉, so that a Peggy without the secret passes with probability at most 2^-40 (k = 20 → 2 rounds, k = 3 → 14)."</p>
            <h2>"Waiting Peggys"</h2>
            <p id="victor-list-note" class="muted">
                {move || list_note().unwrap_or_else(|| "loading the list…".to_owned())}
            </p>
            <div class="table-scroll">
            <table id="victor-peggys" class="peggys">
                <thead><tr><th>"name"</th><th>"|n|"</th><th>"k"</th><th>"status"</th><th></th></tr></thead>
                <tbody>
                    <For each=peggys key=|p| (p.peggy_id.clone(), p.busy) children=move |p| {
                        let busy = p.busy;
                        let chosen = p.clone();
                        view! {
                            <tr class="peggy" data-name=p.name.clone()>
                                <td>{p.name.clone()}</td>
                                <td class:insecure=p.bits < MIN_BITS>{if p.bits < MIN_BITS { format!("{} · insecure demo", p.bits) } else { p.bits.to_string() }}</td>
                                <td>{p.k}</td>
                                <td class=if busy { "fail" } else { "pass" }>{if busy { "busy" } else { "free" }}</td>
                                <td><button class="pick" disabled=move || busy || running.get()
                                    on:click=move |_| identify(chosen.clone())>"Identify"</button></td>
                            </tr>
                        }
                    } />                </tbody>
            </table>
            </div>
            <p id="victor-notice" class="notice">{move || notice.get()}</p>
            <p id="victor-status">{move || status.get()}</p>
            <Show when=move || due.get().is_some() && mode.get() == "manual">
                <div class="panel" id="victor-manual">
                    <p>"Round " {move || due.get().unwrap_or_default()} ": choose the challenge bits (click to flip), then send."</p>
                    <p class="bits">
                        {move || bits.get().chars().enumerate().map(|(j, c)| view! {
                            <button class="bit" data-bit=j on:click=move |_| toggle_bit(j)>{c.to_string()}</button>
                        }).collect_view()}
                    </p>
                    <input id="victor-bits" type="text" class="mono"
                        prop:value=move || bits.get()
                        on:input=move |ev| set_bits.set(event_target_value(&ev)) />
                    " "
                    <button id="victor-send-challenge" on:click=move |_| challenge(true)>"Send challenge"</button>
                </div>
            </Show>
            <Show when=move || due.get().is_some() && mode.get() == "step">
                <button id="victor-next" on:click=move |_| challenge(false)>
                    "Challenge round " {move || due.get().unwrap_or_default()} " (Space)"
                </button>
            </Show>
            <Show when=move || running.get()>
                <button id="victor-leave" on:click=leave>"Stop the run"</button>
            </Show>
            <p id="victor-insecure" class="insecure" hidden=move || readable.with(Option::is_none)>
                {move || readable.with(|r| r.as_ref().map(insecure_note))}
            </p>
            <RoundSteps stage=Signal::derive(move || {
                rows.with(|r| stage_of(r, running.get(), verdict.with(Option::is_some)))
            }) />
            <div class="table-scroll">
                <RoundsTable id="victor-log" rows=rows k=run_k.into() readable=readable />
            </div>
            <p id="victor-verdict" class=move || match verdict.get() { Some((true, _)) => "verdict pass", Some((false, _)) => "verdict fail", None => "verdict" }>
                {move || verdict.get().map(|v| v.1).unwrap_or_default()}
            </p>
            <ManyRuns />
            <p class="muted"><A href="/simulator">"Why does a run reveal nothing about the secrets? Play “which one is real?”"</A>" · "<A href="/">"Choose another role"</A></p>
        </section>
    }
}

/// A whole number from a form field within `range`, or a message naming the field.
fn field(text: &str, what: &str, range: std::ops::RangeInclusive<u32>) -> Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(v) if range.contains(&v) => Ok(v),
        _ => Err(format!(
            "{what} must be a whole number from {} to {}.",
            range.start(),
            range.end()
        )),
    }
}

/// Victor's many-runs mode: N identifications against an honest Peggy and against one without
/// the secret, run in this page, drawn live against the theory.
#[component]
fn ManyRuns() -> impl IntoView {
    use crate::protocol::{ffs, identify::soundness::MAX_RUNS};
    let (runs, set_runs) = signal(String::from("1000"));
    let (k, set_k) = signal(String::from("1"));
    let (rounds, set_rounds) = signal(String::from("1"));
    let chart = RwSignal::new(ChartData::new(1000, 1, 1));
    let running = RwSignal::new(false);
    let note = RwSignal::new(String::new());
    let start = move |_| {
        let parsed = (|| {
            Ok::<_, String>((
                field(&runs.get_untracked(), "Runs", 1..=MAX_RUNS)?,
                field(&k.get_untracked(), "k", 1..=ffs::MAX_K as u32)?,
                field(&rounds.get_untracked(), "Rounds", 1..=ffs::MAX_ROUNDS)?,
            ))
        })();
        let (n, k, t) = match parsed {
            Ok(v) => v,
            Err(e) => return note.set(e),
        };
        note.set("drawing a Blum integer from the server and making the keys…".into());
        chart.set(ChartData::new(n, k as usize, t));
        running.set(true);
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            let started = crate::client::now_ms();
            let result = crate::client::soundness::run(n, k as usize, t, |data| {
                chart.set(data.clone());
                note.set(String::new());
                running.get_untracked()
            })
            .await;
            running.set(false);
            note.set(match result {
                Ok(data) => format!(
                    "{} runs per Peggy in {} ms.",
                    data.cheater.runs(),
                    crate::components::fixed::Fixed(crate::client::now_ms() - started, 0)
                ),
                Err(e) => format!("Could not run the batch: {e}"),
            });
        });
    };
    view! {
        <section id="many-runs">
            <h2>"Many runs: is a bluffer ever accepted?"</h2>
            <p class="muted">"Runs whole identifications in this page — an honest Peggy and a Peggy without the secret, each against a fresh Victor — on one 2048-bit n from the server. With small k·t a bluffer is sometimes accepted: watch how often, against the theory 2^-k·t."</p>
            <div class="panel">
                <label>"runs " <input id="batch-runs" type="number" min="1" max=MAX_RUNS
                    prop:value=move || runs.get() on:input=move |ev| set_runs.set(event_target_value(&ev)) /></label>
                " "
                <label>"k " <input id="batch-k" type="number" min="1" max="64"
                    prop:value=move || k.get() on:input=move |ev| set_k.set(event_target_value(&ev)) /></label>
                " "
                <label>"rounds t " <input id="batch-t" type="number" min="1" max="1024"
                    prop:value=move || rounds.get() on:input=move |ev| set_rounds.set(event_target_value(&ev)) /></label>
                " "
                <button id="batch-run" on:click=start disabled=move || running.get()>"Run the batch"</button>
                " "
                <Show when=move || running.get()>
                    <button id="batch-stop" on:click=move |_| running.set(false)>"Stop"</button>
                </Show>
            </div>
            <p id="batch-note" class="notice">{move || note.get()}</p>
            <SoundnessChart data=chart.into() />
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{
        ffs::{BoxedUint, SecretKey, wire},
        identify::readable::parse_nonce,
    };

    fn row(x: &str, e: &str, y: &str, passed: Option<bool>) -> RoundRow {
        RoundRow {
            round: 1,
            x: x.into(),
            e: e.into(),
            y: y.into(),
            passed,
            ..RoundRow::default()
        }
    }

    #[test]
    fn the_stage_follows_the_last_round() {
        assert_eq!(stage_of(&[], false, false), None);
        assert_eq!(stage_of(&[], true, false), Some(Stage::Commit));
        assert_eq!(
            stage_of(&[row("1", "", "", None)], true, false),
            Some(Stage::Challenge)
        );
        assert_eq!(
            stage_of(&[row("1", "0", "", None)], true, false),
            Some(Stage::Response)
        );
        assert_eq!(
            stage_of(&[row("1", "0", "2", None)], true, false),
            Some(Stage::Check)
        );
        assert_eq!(
            stage_of(&[row("1", "0", "2", Some(true))], true, true),
            Some(Stage::Verdict)
        );
    }

    /// The Handbook's round as Peggy's page writes it under the row: the formulas with the
    /// selected s₃ and I₃ marked, and nothing else in the HTML but numbers and symbols.
    #[test]
    fn a_handbook_round_as_html() {
        let key = SecretKey::handbook_example().unwrap();
        let view = Readable::for_peggy(&key).unwrap();
        let nonce = Nonce {
            r: wire::encode(&parse_nonce("1279", key.public_key()).unwrap()),
            negative: true,
        };
        let (x, y) = (
            wire::encode(&BoxedUint::from(25898u64)),
            wire::encode(&BoxedUint::from(403104u64)),
        );
        let mut row = row(&x, "001", &y, Some(true));
        row.commit = view.commit(&nonce);
        row.answer = view.answer(&nonce, "001");
        row.check = view.check(&x, "001", &y);
        let html = formulas_html(&row);
        assert!(
            html.contains(r#"<div class="commit-formula">x = −1279² mod 553913 = 25898</div>"#),
            "{html}"
        );
        assert!(
            html.contains(r#"<span class="picked" title="s₃">4646</span>"#),
            "{html}"
        );
        assert!(html.contains(r#"<span title="s₁">157</span>"#), "{html}");
        assert!(
            html.contains(r#"<span class="picked" title="I₃">124423</span>"#),
            "{html}"
        );
        assert!(
            html.contains(r#"<span class="pass">403104² · 124423 mod 553913 = 25898 = x ✓</span>"#),
            "{html}"
        );
        assert_eq!(html.matches("picked").count(), 2);
    }
}

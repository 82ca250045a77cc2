//! `/victor`: the waiting Peggys (server-rendered), a run in fast, step or manual mode, and the
//! many-runs panel.

use super::{held, insecure_note, many_runs::ManyRuns, rounds::*, rows::Rows};
use crate::api::PeggySummary;
use crate::components::RoundSteps;
use crate::protocol::{ffs::MIN_BITS, identify::readable::Readable};
use leptos::prelude::*;
use leptos_router::components::A;

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
    let rows = Rows::new();
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
        rows.clear();
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
                Update::Event(
                    event @ (VictorEvent::Committed { .. }
                    | VictorEvent::Challenged { .. }
                    | VictorEvent::Checked { .. }),
                ) => {
                    if matches!(event, VictorEvent::Challenged { .. }) {
                        due.set(None);
                    }
                    let mut rows = rows;
                    readable.with_untracked(|view| {
                        super::rows::victor_event(&mut rows, event, view.as_ref())
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
                stage_of(rows.last().as_ref(), running.get(), verdict.with(Option::is_some))
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

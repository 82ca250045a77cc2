//! Victor's many-runs panel: N identifications against an honest Peggy and one without the
//! secret, run in the page and drawn live against the theory.

use crate::components::{SoundnessChart, soundness_chart::ChartData};
use leptos::prelude::*;

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
pub(super) fn ManyRuns() -> impl IntoView {
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

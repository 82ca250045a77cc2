//! "What is happening?": a short, plain explanation of each step of an FFS round beside the
//! rounds table, the step in progress marked. Collapsible (`<details>`), open by default.

use leptos::prelude::*;

/// The step of a round a run is at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Commit,
    Challenge,
    Response,
    Check,
    Verdict,
}

impl Stage {
    fn name(self) -> &'static str {
        match self {
            Self::Commit => "commit",
            Self::Challenge => "challenge",
            Self::Response => "response",
            Self::Check => "check",
            Self::Verdict => "verdict",
        }
    }
}

const STEPS: [(Stage, &str, &str); 5] = [
    (
        Stage::Commit,
        "Peggy commits. ",
        "She picks a fresh random r and sends x = ±r² mod n. A square mod n looks like any other number to someone who cannot factor n, so x tells Victor nothing — but it ties Peggy to her r.",
    ),
    (
        Stage::Challenge,
        "Victor challenges — only now. ",
        "He picks k random bits e after x has arrived. If Peggy knew e before committing she could build an x that passes without any secret: that is exactly what the Peggy without the secret tries, by guessing.",
    ),
    (
        Stage::Response,
        "Peggy answers. ",
        "y = r · ∏ sⱼ^eⱼ mod n: the secrets the bits select, hidden by r. Because r is fresh and random, y is a random number too: it reveals nothing about the sⱼ.",
    ),
    (
        Stage::Check,
        "Victor checks. ",
        "y² · ∏ Iⱼ^eⱼ ≡ ±x (mod n). Since Iⱼ = ±1/sⱼ², the secrets cancel and r² is left: only someone who knows the sⱼ (or guessed e) can make this hold for the e Victor picked.",
    ),
    (
        Stage::Verdict,
        "Why t rounds convince. ",
        "A Peggy without the secret survives a round only by guessing all k bits of e: probability 2^-k. Surviving t rounds: 2^-k·t. An honest Peggy never fails.",
    ),
];

/// The list as HTML, built once: static text, one item per step.
fn steps_html() -> String {
    STEPS
        .iter()
        .map(|(step, title, text)| {
            format!(
                r#"<li data-step="{}"><strong>{title}</strong>{text}</li>"#,
                step.name()
            )
        })
        .collect()
}

/// The explanation list; `stage` marks the step in progress (none before a run) through the
/// `data-stage` attribute, which the stylesheet matches against each item's `data-step`.
#[component]
pub fn RoundSteps(#[prop(into)] stage: Signal<Option<Stage>>) -> impl IntoView {
    view! {
        <details class="explain" open data-stage=move || stage.get().map(Stage::name).unwrap_or("none")>
            <summary>"What is happening?"</summary>
            <ol inner_html=steps_html() />
        </details>
    }
}

//! `/simulator`: why Feige–Fiat–Shamir is zero-knowledge, as a game. The page makes one real
//! round (with the Handbook's textbook key, so every number fits on screen) and one simulated
//! round (from the public key alone, e chosen first); both pass Victor's check; the reader
//! guesses which one is real, and the score shows that no one can do better than chance.

use crate::protocol::ffs::rand_core::Rng as _;
use crate::protocol::ffs::{
    Prover, PublicKey, SecretKey, Simulator, Transcript,
    explain::{Explainer, decimal},
};
use leptos::prelude::*;

/// One transcript as the page shows it, with Victor's check worked out in decimal.
#[derive(Clone, Debug, PartialEq)]
struct Shown {
    x: String,
    e: String,
    y: String,
    /// "403104² · 124423 mod 553913 = 25898 = x ✓"
    check: String,
    passed: bool,
}

fn show(t: &Transcript, public: &PublicKey) -> Shown {
    let passed = t.verify(public).is_ok();
    // The Handbook's n has 20 bits: always explainable.
    let check = Explainer::new(public.modulus().n())
        .map(|ex| {
            ex.check(&public.identifiers(), &t.e, t.x.x(), t.y.y())
                .to_string()
        })
        .unwrap_or_default();
    Shown {
        x: decimal(t.x.x()),
        e: t.e
            .bits()
            .iter()
            .map(|&b| if b { '1' } else { '0' })
            .collect(),
        y: decimal(t.y.y()),
        check,
        passed,
    }
}

/// A pair to guess: the two transcripts in shown order, and which one is real.
#[derive(Clone, Debug, PartialEq)]
struct Pair {
    shown: [Shown; 2],
    real: usize,
}

#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
fn make_pair() -> Result<Pair, String> {
    let mut rng = crate::rng::os_rng();
    let key = SecretKey::handbook_example().map_err(|e| e.to_string())?;
    let public = key.public_key().clone();
    let real = Transcript::real(&Prover::new(&key), &mut rng).map_err(|e| e.to_string())?;
    let fake = Simulator::new(public.clone()).simulate(&mut rng);
    let real_first = rng.next_u32() & 1 == 0;
    let (a, b) = if real_first {
        (&real, &fake)
    } else {
        (&fake, &real)
    };
    Ok(Pair {
        shown: [show(a, &public), show(b, &public)],
        real: usize::from(!real_first),
    })
}

#[component]
pub fn SimulatorPage() -> impl IntoView {
    let pair = RwSignal::new(None::<Pair>);
    let answer = RwSignal::new(None::<usize>);
    let score = RwSignal::new((0u32, 0u32));
    let note = RwSignal::new(String::new());
    let next = move |_| {
        answer.set(None);
        #[cfg(feature = "hydrate")]
        match make_pair() {
            Ok(p) => pair.set(Some(p)),
            Err(e) => note.set(format!("Could not make a round: {e}")),
        }
    };
    let guess = move |i: usize| {
        if answer.get_untracked().is_some() {
            return;
        }
        if let Some(p) = pair.get_untracked() {
            answer.set(Some(i));
            score.update(|(right, total)| {
                *total += 1;
                *right += u32::from(i == p.real);
            });
        }
    };
    let card = move |i: usize| {
        view! {
            <div class="panel transcript" data-card=i>
                <h3>{if i == 0 { "Transcript A" } else { "Transcript B" }}</h3>
                {move || pair.get().map(|p| {
                    let s = p.shown[i].clone();
                    view! {
                        <p class="mono">"x = " <span class="x">{s.x}</span></p>
                        <p class="mono">"e = " <span class="e">{s.e}</span></p>
                        <p class="mono">"y = " <span class="y">{s.y}</span></p>
                        <p class=if s.passed { "mono check pass" } else { "mono check fail" }>{s.check}</p>
                    }
                })}
                <button class="guess" on:click=move |_| guess(i)
                    disabled=move || pair.get().is_none() || answer.get().is_some()>
                    "This one is real"</button>
                <p class="reveal">{move || match (pair.get(), answer.get()) {
                    (Some(p), Some(_)) if p.real == i => "real: Peggy used her secrets",
                    (Some(_), Some(_)) => "simulated: made from the public key alone, e first",
                    _ => "",
                }}</p>
            </div>
        }
    };
    view! {
        <section class="role-page">
            <h1>"Which one is real?"</h1>
            <p>"Both transcripts below pass Victor's check, y²·∏ Iⱼ^eⱼ ≡ ±x (mod n). One comes from a real round: Peggy picked r, sent x = ±r², Victor chose e, Peggy answered y = r·∏ sⱼ^eⱼ with her secrets. The other was made "<em>"without any secret"</em>" by choosing e first, then y at random, then x = ±y²·∏ Iⱼ^eⱼ. Guess which is real."</p>
            <p class="muted">"The key is the Handbook of Applied Cryptography's Example 10.27: n = 553913 (= 683 · 811), k = 3, I = (441845, 338402, 124423). A textbook size — insecure, for seeing the numbers."</p>
            <div class="panel">
                <button id="sim-next" on:click=next>{move || if pair.get().is_none() { "Make a pair" } else { "Next pair" }}</button>
                " "
                <span id="sim-score">{move || {
                    let (right, total) = score.get();
                    format!("Score: {right} right of {total}")
                }}</span>
            </div>
            <p id="sim-note" class="notice">{move || note.get()}</p>
            <div class="transcripts">{card(0)}{card(1)}</div>
            <h2>"Why this means Victor learns nothing"</h2>
            <p>"Anything Victor could work out from a real transcript he could work out from one he made himself, because the two are distributed exactly alike — you cannot tell them apart better than by tossing a coin, and neither can he. So a run proves Peggy knows the secrets without revealing anything about them. The simulator only works because it picks e before x; a real Peggy commits to x first and cannot know e, which is why Victor must choose e only after x arrives. A Peggy who tries the simulator's trick is the cheater of "<a href="/peggy">"/peggy"</a>": she passes a round only if she guessed e, with probability 2^-k."</p>
            <p class="muted"><a href="/peggy">"Peggy"</a>" · "<a href="/victor">"Victor"</a></p>
        </section>
    }
}

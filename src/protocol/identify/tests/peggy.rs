//! Peggy's events: a cheater's bets, the demo mode's chosen nonce, no nonce for a real key.

use super::*;

/// A Peggy without the secrets bets on each challenge; she passes exactly the rounds she
/// guessed, is caught at the first wrong guess, and Victor's side cannot tell her from an honest
/// Peggy until then (same messages, same referee).
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_cheating_peggy_passes_only_the_rounds_she_guessed() {
    let key = key(&mut rng(3), 2);
    let mut caught_at = Vec::new();
    for seed in 0..40 {
        let peggy = PeggyRun::cheating(key.public_key().clone());
        assert!(peggy.is_cheating());
        let t = run_with(peggy, key.public_key(), 6, None, seed);
        assert!(t.referee_done, "the server sees a well-formed run");
        let guesses: Vec<bool> = t
            .peggy
            .iter()
            .filter_map(|e| match e {
                PeggyEvent::Committed { guess, .. } => {
                    assert!(guess.as_ref().is_some_and(|g| g.k() == 2));
                    None
                }
                PeggyEvent::Answered { guessed, .. } => Some(guessed.expect("a cheater says")),
                _ => None,
            })
            .collect();
        let checks: Vec<bool> = t
            .victor
            .iter()
            .filter_map(|e| match e {
                VictorEvent::Checked { passed, .. } => Some(*passed),
                _ => None,
            })
            .collect();
        assert_eq!(guesses, checks, "a round passes exactly when she guessed e");
        let verdict = verdict_of(&t);
        let first_miss = guesses.iter().position(|g| !g);
        assert_eq!(verdict.accepted, first_miss.is_none());
        if let Some(miss) = first_miss {
            assert_eq!(verdict.rounds_passed as usize, miss);
            caught_at.push(miss + 1);
        }
    }
    // With k = 2 she survives 6 rounds with probability 2^-12: over 40 runs she is caught each
    // time, mostly in round 1 (probability 3/4) and sometimes later.
    assert_eq!(caught_at.len(), 40);
    assert!(caught_at.contains(&1) && caught_at.iter().any(|&r| r > 1));
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn an_honest_peggy_reports_no_guesses() {
    let key = key(&mut rng(4), 3);
    let t = run(&key, key.public_key(), 2, None);
    assert!(t.peggy.iter().all(|e| !matches!(
        e,
        PeggyEvent::Committed { guess: Some(_), .. }
            | PeggyEvent::Answered {
                guessed: Some(_),
                ..
            }
    )));
}

/// The demo mode's chosen nonce: HAC Example 10.27's r = 1279 with σ = 1 commits x = 25898 in
/// the next round only, and the event carries the nonce for Peggy's page; later rounds draw r.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_chosen_nonce_replays_the_handbook_round_once() {
    let key = SecretKey::handbook_example().unwrap();
    let mut peggy = PeggyRun::new(&key);
    let mut rng = rng(3);
    assert_eq!(
        peggy.choose_nonce(BoxedUint::from(0u64), true),
        Err(ffs::Error::Zero)
    );
    assert_eq!(
        peggy.choose_nonce(BoxedUint::from(683u64), true),
        Err(ffs::Error::NotCoprime)
    );
    peggy.choose_nonce(BoxedUint::from(1279u64), true).unwrap();
    let step = peggy
        .handle(&mut rng, Message::Start { rounds: 2 })
        .unwrap();
    let x = wire::encode(&BoxedUint::from(25898u64));
    assert!(
        matches!(&step.send[..], [Message::Commit { round: 1, x: sent }] if sent.to_string() == x)
    );
    let nonce = step.events.iter().find_map(|e| match e {
        PeggyEvent::Committed { nonce, .. } => nonce.clone(),
        _ => None,
    });
    assert_eq!(
        nonce,
        Some(Nonce {
            r: number(1279),
            negative: true
        })
    );
    let step = peggy
        .handle(
            &mut rng,
            Message::Challenge {
                round: 1,
                e: bits("001"),
            },
        )
        .unwrap();
    let y = wire::encode(&BoxedUint::from(403104u64));
    assert!(
        matches!(&step.send[..], [Message::Response { round: 1, y: sent }] if sent.to_string() == y)
    );
    let step = peggy
        .handle(
            &mut rng,
            Message::Result {
                round: 1,
                passed: true,
            },
        )
        .unwrap();
    let next = step.events.iter().find_map(|e| match e {
        PeggyEvent::Committed { nonce, .. } => nonce.clone(),
        _ => None,
    });
    assert_ne!(
        next.map(|n| n.r.to_string()),
        Some(wire::encode(&BoxedUint::from(1279u64))),
        "used once"
    );
}

/// A real-sized key never puts its nonce in an event.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn real_keys_keep_the_nonce_out_of_events() {
    let mut rng = rng(4);
    let n = BlumModulus::generate(&mut rng, 1024).unwrap();
    let key = SecretKey::generate(&mut rng, &n, 4).unwrap();
    let mut peggy = PeggyRun::new(&key);
    let step = peggy
        .handle(&mut rng, Message::Start { rounds: 1 })
        .unwrap();
    assert!(
        step.events
            .iter()
            .all(|e| !matches!(e, PeggyEvent::Committed { nonce: Some(_), .. }))
    );
}

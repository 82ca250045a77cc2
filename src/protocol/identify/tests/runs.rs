//! Whole runs through the referee and JSON, and what each state machine refuses.

use super::*;

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn an_honest_peggy_is_accepted_and_both_sides_see_every_round() {
    let key = key(&mut rng(1), 5);
    let t = run(&key, key.public_key(), 4, None);
    let verdict = verdict_of(&t);
    assert!(verdict.accepted);
    assert_eq!((verdict.rounds_passed, verdict.rounds), (4, 4));
    assert!(t.referee_done);
    // Victor: commit, challenge, check for each round, then the verdict.
    assert_eq!(t.victor.len(), 4 * 3 + 1);
    // Peggy: started, then per round committed, answered, checked; then finished.
    assert_eq!(t.peggy.len(), 1 + 4 * 3 + 1);
    assert_eq!(
        t.peggy.last(),
        Some(&PeggyEvent::Finished {
            accepted: true,
            rounds_passed: 4,
            rounds: 4
        })
    );
    // What Peggy committed is what Victor saw, round by round.
    let peggy_x: Vec<_> = t
        .peggy
        .iter()
        .filter_map(|e| match e {
            PeggyEvent::Committed { x, .. } => Some(x.clone()),
            _ => None,
        })
        .collect();
    let victor_x: Vec<_> = t
        .victor
        .iter()
        .filter_map(|e| match e {
            VictorEvent::Committed { x, .. } => Some(x.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(peggy_x.len(), 4);
    assert_eq!(peggy_x, victor_x);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn manual_challenges_are_used_bit_for_bit() {
    let key = key(&mut rng(2), 6);
    let pick = |round: u32, k: usize| {
        (0..k)
            .map(|j| (j as u32 + round).is_multiple_of(3))
            .collect()
    };
    let t = run(&key, key.public_key(), 3, Some(&pick));
    assert!(verdict_of(&t).accepted);
    let sent: Vec<_> = t
        .peggy
        .iter()
        .filter_map(|e| match e {
            PeggyEvent::Answered { round, e, .. } => Some((*round, e.to_string())),
            _ => None,
        })
        .collect();
    assert_eq!(
        sent,
        vec![
            (1, "001001".to_owned()),
            (2, "010010".to_owned()),
            (3, "100100".to_owned())
        ]
    );
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_peggy_without_the_secrets_is_rejected_at_the_first_wrong_round() {
    let mut r = rng(3);
    let n = BlumModulus::generate_demo(&mut r, BITS).unwrap();
    let real = SecretKey::generate(&mut r, &n, 16).unwrap();
    let impostor = SecretKey::generate(&mut r, &n, 16).unwrap();
    // A challenge of all ones: a wrong secret always shows.
    let ones = |_: u32, k: usize| vec![true; k];
    let t = run(&impostor, real.public_key(), 5, Some(&ones));
    let verdict = verdict_of(&t);
    assert!(!verdict.accepted);
    assert_eq!(verdict.rounds_passed, 0);
    assert!(t.referee_done, "the rejecting verdict is acknowledged too");
    assert!(t.peggy.contains(&PeggyEvent::Checked {
        round: 1,
        passed: false
    }));
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn the_state_machines_refuse_what_does_not_fit() {
    let key = key(&mut rng(6), 5);
    let mut r = rng(8);
    let mut peggy = PeggyRun::new(&key);
    // A challenge before any commitment.
    assert!(
        peggy
            .handle(
                &mut r,
                Message::Challenge {
                    round: 1,
                    e: bits("10101")
                }
            )
            .is_err()
    );
    let step = peggy.handle(&mut r, Message::Start { rounds: 3 }).unwrap();
    assert_eq!(step.send.len(), 1);
    // A challenge of the wrong length leaves no answer.
    assert!(
        peggy
            .handle(
                &mut r,
                Message::Challenge {
                    round: 1,
                    e: bits("101")
                }
            )
            .is_err()
    );
    let (mut victor, _) = VictorRun::new(key.public_key().clone(), 3).unwrap();
    assert!(victor.challenge(&mut r).is_err(), "no commitment yet");
    assert!(
        victor
            .handle(Message::Response {
                round: 1,
                y: number(5)
            })
            .is_err(),
        "a response before the challenge"
    );
    victor
        .handle(Message::Commit {
            round: 1,
            x: number(4),
        })
        .unwrap();
    assert!(victor.challenge_with(vec![true; 4]).is_err(), "k = 5");
    assert!(VictorRun::new(key.public_key().clone(), 0).is_err());
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn unpaired_is_the_servers_and_peggy_starts_afresh_after_it() {
    let unpaired = Message::Unpaired {
        message: "Victor left the run".into(),
    };
    assert_eq!(
        unpaired.to_json(),
        r#"{"type":"unpaired","message":"Victor left the run"}"#
    );
    assert_eq!(unpaired.kind(), "unpaired");
    let key = key(&mut rng(10), 5);
    let public = key.public_key();
    for from in [Party::Peggy, Party::Victor] {
        let err = Referee::new(public)
            .check(from, &unpaired.to_json())
            .unwrap_err();
        assert!(err.message().contains("only the server sends"), "{err}");
    }
    let err = VictorRun::new(public.clone(), 2)
        .unwrap()
        .0
        .handle(unpaired.clone())
        .unwrap_err();
    assert!(err.message().contains("Victor left the run"), "{err}");

    // Peggy is mid-round (a commitment out, a challenge answered) when her Victor leaves…
    let mut r = rng(11);
    let mut peggy = PeggyRun::new(&key);
    peggy.handle(&mut r, Message::Start { rounds: 3 }).unwrap();
    let step = peggy.handle(&mut r, unpaired).unwrap();
    assert!(step.send.is_empty());
    assert_eq!(
        step.events,
        vec![PeggyEvent::Unpaired {
            message: "Victor left the run".into()
        }]
    );
    // …and the next Victor's run goes through from its start, checked by a new referee.
    let t = {
        let mut referee = Referee::new(public);
        let (mut victor, start) = VictorRun::new(public.clone(), 2).unwrap();
        let mut to_peggy =
            std::collections::VecDeque::from([relay(&mut referee, Party::Victor, &start)]);
        while let Some(message) = to_peggy.pop_front() {
            for m in peggy.handle(&mut r, message).unwrap().send {
                let got = relay(&mut referee, Party::Peggy, &m);
                to_peggy.extend(
                    victor
                        .handle(got)
                        .unwrap()
                        .send
                        .iter()
                        .map(|m| relay(&mut referee, Party::Victor, m)),
                );
                if victor.awaiting_challenge() {
                    let (_, m) = victor.challenge(&mut r).unwrap();
                    to_peggy.push_back(relay(&mut referee, Party::Victor, &m));
                }
            }
        }
        (victor.verdict().unwrap(), referee.is_done())
    };
    assert!(t.0.accepted && t.1, "{t:?}");
    assert!(peggy.is_finished());
}

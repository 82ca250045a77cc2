use super::*;
use crate::protocol::ffs::{self, BlumModulus, BoxedUint, PublicKey, SecretKey, wire};
use rand_chacha::{ChaCha20Rng, rand_core::SeedableRng};

const BITS: u32 = 256;

fn number(v: u64) -> WireNumber {
    WireNumber::new(BoxedUint::from(v))
}

fn bits(text: &str) -> ChallengeBits {
    ChallengeBits::parse(text).unwrap()
}

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

fn key(rng: &mut ChaCha20Rng, k: usize) -> SecretKey {
    let n = BlumModulus::generate_demo(rng, BITS).unwrap();
    SecretKey::generate(rng, &n, k).unwrap()
}

/// Sends `message` from `from` through the referee (as the server does) and back out of JSON
/// (as the other side reads it).
fn relay(referee: &mut Referee, from: Party, message: &Message) -> Message {
    let text = message.to_json();
    referee.check(from, &text).unwrap();
    Message::parse(&text, usize::MAX).unwrap()
}

struct Transcript {
    peggy: Vec<PeggyEvent>,
    victor: Vec<VictorEvent>,
    referee_done: bool,
}

/// Runs Peggy (proving with `prover_key`) against Victor (checking `public`) through a referee;
/// `manual` picks the bits of round i, else Victor draws them.
fn run(
    prover_key: &SecretKey,
    public: &PublicKey,
    rounds: u32,
    manual: Option<&dyn Fn(u32, usize) -> Vec<bool>>,
) -> Transcript {
    run_with(PeggyRun::new(prover_key), public, rounds, manual, 7)
}

/// [`run`] with any Peggy and the run's RNG seed.
fn run_with(
    mut peggy: PeggyRun,
    public: &PublicKey,
    rounds: u32,
    manual: Option<&dyn Fn(u32, usize) -> Vec<bool>>,
    seed: u64,
) -> Transcript {
    let mut rng = rng(seed);
    let mut referee = Referee::new(public);
    let (mut victor, start) = VictorRun::new(public.clone(), rounds).unwrap();
    let mut peggy_events = Vec::new();
    let mut victor_events = Vec::new();
    let mut to_peggy = vec![relay(&mut referee, Party::Victor, &start)];
    while !to_peggy.is_empty() {
        let mut to_victor = Vec::new();
        for message in to_peggy.drain(..) {
            let step = peggy.handle(&mut rng, message).unwrap();
            peggy_events.extend(step.events);
            for m in step.send {
                to_victor.push(relay(&mut referee, Party::Peggy, &m));
            }
        }
        for message in to_victor {
            let step = victor.handle(message).unwrap();
            victor_events.extend(step.events);
            for m in step.send {
                to_peggy.push(relay(&mut referee, Party::Victor, &m));
            }
            if victor.awaiting_challenge() {
                let (event, m) = match manual {
                    Some(pick) => victor
                        .challenge_with(pick(victor.round(), victor.k()))
                        .unwrap(),
                    None => victor.challenge(&mut rng).unwrap(),
                };
                victor_events.push(event);
                to_peggy.push(relay(&mut referee, Party::Victor, &m));
            }
        }
    }
    Transcript {
        peggy: peggy_events,
        victor: victor_events,
        referee_done: referee.is_done(),
    }
}

fn verdict_of(t: &Transcript) -> ffs::Verdict {
    match t.victor.last() {
        Some(VictorEvent::Finished(v)) => *v,
        other => panic!("no verdict: {other:?}"),
    }
}

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
fn messages_have_one_json_form() {
    let json = Message::Commit {
        round: 3,
        x: number(0xff),
    }
    .to_json();
    assert_eq!(json, r#"{"type":"commit","round":3,"x":"ff"}"#);
    assert_eq!(Message::Ack.to_json(), r#"{"type":"ack"}"#);
    for bad in [
        r#"{"type":"commit","round":3}"#,
        r#"{"type":"commit","round":3,"x":"ff","extra":1}"#,
        r#"{"round":3,"x":"ff"}"#,
        r#"{"type":"commit","round":-1,"x":"ff"}"#,
        r#"[1,2]"#,
        "not json",
    ] {
        let err = Message::parse(bad, MAX_CLIENT_MESSAGE_BYTES).unwrap_err();
        assert!(
            err.message().starts_with("malformed message"),
            "{bad}: {err}"
        );
    }
    let err = Message::parse(r#"{"type":"gossip"}"#, MAX_CLIENT_MESSAGE_BYTES).unwrap_err();
    assert!(err.message().starts_with("unknown message type"), "{err}");
    let big = format!(
        r#"{{"type":"commit","round":1,"x":"{}"}}"#,
        "f".repeat(20_000)
    );
    let err = Message::parse(&big, MAX_CLIENT_MESSAGE_BYTES).unwrap_err();
    assert!(err.message().contains("larger than"), "{err}");
}

/// A referee after `start` and round 1's commitment x1 = 4 (k = 5).
fn referee_in_round_one(public: &PublicKey) -> Referee {
    let mut referee = Referee::new(public);
    referee
        .check(Party::Victor, r#"{"type":"start","rounds":2}"#)
        .unwrap();
    referee
        .check(Party::Peggy, r#"{"type":"commit","round":1,"x":"4"}"#)
        .unwrap();
    referee
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn the_referee_refuses_forged_and_out_of_order_messages() {
    let key = key(&mut rng(4), 5);
    let public = key.public_key();
    let n_hex = wire::encode(public.modulus().n());
    let n_minus_one = wire::encode(&public.modulus().n().wrapping_sub(BoxedUint::one()));
    let refused = |setup: &dyn Fn(&mut Referee), from: Party, text: &str, says: &str| {
        let mut referee = referee_in_round_one(public);
        setup(&mut referee);
        let err = referee.check(from, text).unwrap_err();
        assert!(
            err.message().contains(says),
            "{text}: expected {says:?} in {err}"
        );
    };
    let none = |_: &mut Referee| {};
    let challenged = |r: &mut Referee| {
        r.check(
            Party::Victor,
            r#"{"type":"challenge","round":1,"e":"10101"}"#,
        )
        .unwrap();
    };
    // y before e.
    refused(
        &none,
        Party::Peggy,
        r#"{"type":"response","round":1,"y":"5"}"#,
        "expects Victor's challenge for round 1",
    );
    // A second commitment in the round.
    refused(
        &none,
        Party::Peggy,
        r#"{"type":"commit","round":1,"x":"5"}"#,
        "expects Victor's challenge",
    );
    // The challenge from the wrong side, of the wrong length, of the wrong alphabet, wrong round.
    refused(
        &none,
        Party::Peggy,
        r#"{"type":"challenge","round":1,"e":"10101"}"#,
        "Peggy sent \"challenge\"",
    );
    refused(
        &none,
        Party::Victor,
        r#"{"type":"challenge","round":1,"e":"1010"}"#,
        "has 4 bits; this key has k = 5",
    );
    refused(
        &none,
        Party::Victor,
        r#"{"type":"challenge","round":1,"e":"10201"}"#,
        "challenge of round 1 is invalid",
    );
    refused(
        &none,
        Party::Victor,
        r#"{"type":"challenge","round":2,"e":"10101"}"#,
        "for round 2 arrived during round 1",
    );
    // y = 0, y = n, y > n, y non-canonical.
    for (y, says) in [
        ("0", "must not be zero"),
        (n_hex.as_str(), "less than the modulus"),
        ("01", "canonical"),
    ] {
        refused(
            &challenged,
            Party::Peggy,
            &format!(r#"{{"type":"response","round":1,"y":"{y}"}}"#),
            says,
        );
    }
    let too_long = format!("1{}", "0".repeat(BITS as usize / 4));
    refused(
        &challenged,
        Party::Peggy,
        &format!(r#"{{"type":"response","round":1,"y":"{too_long}"}}"#),
        "y of round 1 is invalid",
    );
    // n − 1 is a fine y (the referee checks the range only).
    let mut referee = referee_in_round_one(public);
    challenged(&mut referee);
    referee
        .check(
            Party::Peggy,
            &format!(r#"{{"type":"response","round":1,"y":"{n_minus_one}"}}"#),
        )
        .unwrap();
    // Server-only types, unknown types, oversize messages.
    refused(
        &none,
        Party::Victor,
        r#"{"type":"paired"}"#,
        "only the server sends",
    );
    refused(
        &none,
        Party::Peggy,
        r#"{"type":"error","code":"x","message":"fake"}"#,
        "only the server sends",
    );
    refused(
        &none,
        Party::Victor,
        r#"{"type":"hello"}"#,
        "unknown message type",
    );
    refused(
        &none,
        Party::Victor,
        &"x".repeat(MAX_CLIENT_MESSAGE_BYTES + 1),
        "larger than",
    );
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn the_referee_refuses_x_zero_a_repeated_x_and_a_lying_verdict() {
    let key = key(&mut rng(5), 5);
    let public = key.public_key();
    let mut referee = Referee::new(public);
    assert!(
        referee
            .check(Party::Victor, r#"{"type":"start","rounds":0}"#)
            .unwrap_err()
            .message()
            .contains("0 rounds")
    );
    let mut referee = Referee::new(public);
    referee
        .check(Party::Victor, r#"{"type":"start","rounds":2}"#)
        .unwrap();
    assert!(
        referee
            .clone()
            .check(Party::Peggy, r#"{"type":"commit","round":1,"x":"0"}"#)
            .unwrap_err()
            .message()
            .contains("x of round 1")
    );
    let script = [
        (Party::Peggy, r#"{"type":"commit","round":1,"x":"4"}"#),
        (
            Party::Victor,
            r#"{"type":"challenge","round":1,"e":"00000"}"#,
        ),
        (Party::Peggy, r#"{"type":"response","round":1,"y":"2"}"#),
        (
            Party::Victor,
            r#"{"type":"result","round":1,"passed":true}"#,
        ),
    ];
    for (from, text) in script {
        referee.check(from, text).unwrap();
    }
    let err = referee
        .clone()
        .check(Party::Peggy, r#"{"type":"commit","round":2,"x":"4"}"#)
        .unwrap_err();
    assert!(
        err.message().contains("repeats an earlier commitment"),
        "{err}"
    );
    for (from, text) in [
        (Party::Peggy, r#"{"type":"commit","round":2,"x":"9"}"#),
        (
            Party::Victor,
            r#"{"type":"challenge","round":2,"e":"00000"}"#,
        ),
        (Party::Peggy, r#"{"type":"response","round":2,"y":"3"}"#),
        (
            Party::Victor,
            r#"{"type":"result","round":2,"passed":false}"#,
        ),
    ] {
        referee.check(from, text).unwrap();
    }
    // One round of two failed: "accepted" would be a lie.
    let err = referee
        .clone()
        .check(
            Party::Victor,
            r#"{"type":"verdict","accepted":true,"rounds_passed":2,"rounds":2}"#,
        )
        .unwrap_err();
    assert!(err.message().contains("1 of 2 rounds passed"), "{err}");
    assert_eq!(
        referee.check(
            Party::Victor,
            r#"{"type":"verdict","accepted":false,"rounds_passed":1,"rounds":2}"#
        ),
        Ok(Progress::Continue)
    );
    assert!(!referee.is_done());
    assert_eq!(
        referee.check(Party::Peggy, r#"{"type":"ack"}"#),
        Ok(Progress::Finished)
    );
    assert!(referee.is_done());
    assert!(referee.check(Party::Peggy, r#"{"type":"ack"}"#).is_err());
}

/// The referee compares values, not texts: an x that repeats an earlier one is refused however
/// wide the number that carries it, and a refused x leaves the run where it was.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn the_referee_refuses_a_repeated_x_by_its_value() {
    let key = key(&mut rng(12), 5);
    let mut referee = Referee::new(key.public_key());
    let wide = |v: u8| WireNumber::new(BoxedUint::from_be_slice(&[v], BITS).unwrap());
    let round = |referee: &mut Referee, i: u32, x: WireNumber| {
        for (from, message) in [
            (Party::Peggy, Message::Commit { round: i, x }),
            (
                Party::Victor,
                Message::Challenge {
                    round: i,
                    e: bits("00000"),
                },
            ),
            (
                Party::Peggy,
                Message::Response {
                    round: i,
                    y: number(2),
                },
            ),
            (
                Party::Victor,
                Message::Result {
                    round: i,
                    passed: true,
                },
            ),
        ] {
            referee.check_message(from, &message).unwrap();
        }
    };
    referee
        .check(Party::Victor, r#"{"type":"start","rounds":3}"#)
        .unwrap();
    round(&mut referee, 1, wide(4));
    // The same x as text, and as a narrow number: both are the x of round 1.
    let err = referee
        .check(Party::Peggy, r#"{"type":"commit","round":2,"x":"4"}"#)
        .unwrap_err();
    assert_eq!(
        err.message(),
        "x of round 2 repeats an earlier commitment of this run"
    );
    let err = referee
        .check_message(
            Party::Peggy,
            &Message::Commit {
                round: 2,
                x: number(4),
            },
        )
        .unwrap_err();
    assert!(
        err.message().contains("repeats an earlier commitment"),
        "{err}"
    );
    assert_eq!(referee.expected(), "Peggy's commitment for round 2");
    round(&mut referee, 2, number(9));
    let err = referee
        .check_message(
            Party::Peggy,
            &Message::Commit {
                round: 3,
                x: wide(9),
            },
        )
        .unwrap_err();
    assert!(err.message().contains("x of round 3 repeats"), "{err}");
}

/// A challenge must have the key's k bits: the referee and Peggy refuse another length (it is
/// a well-formed challenge, so only they, who know k, can), and Peggy can still answer the
/// right one.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_challenge_of_the_wrong_length_is_refused_by_whoever_knows_k() {
    let key = key(&mut rng(13), 5);
    let mut referee = referee_in_round_one(key.public_key());
    for e in ["1010", "101010", "1"] {
        let err = referee
            .check_message(
                Party::Victor,
                &Message::Challenge {
                    round: 1,
                    e: bits(e),
                },
            )
            .unwrap_err();
        assert_eq!(
            err.message(),
            format!(
                "the challenge of round 1 has {} bits; this key has k = 5",
                e.len()
            )
        );
    }
    assert_eq!(referee.expected(), "Victor's challenge for round 1");
    let mut r = rng(14);
    let mut peggy = PeggyRun::new(&key);
    peggy.handle(&mut r, Message::Start { rounds: 1 }).unwrap();
    let err = peggy
        .handle(
            &mut r,
            Message::Challenge {
                round: 1,
                e: bits("1010"),
            },
        )
        .unwrap_err();
    assert!(
        err.message().contains("has 4 bits; this key has k = 5"),
        "{err}"
    );
    let step = peggy
        .handle(
            &mut r,
            Message::Challenge {
                round: 1,
                e: bits("10101"),
            },
        )
        .unwrap();
    assert!(matches!(
        &step.send[..],
        [Message::Response { round: 1, .. }]
    ));
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
fn the_referee_says_whose_turn_it_is() {
    let key = key(&mut rng(9), 5);
    let mut referee = Referee::new(key.public_key());
    let turns = [
        (None, Some(Party::Victor), "Victor's start"),
        (
            Some((Party::Victor, r#"{"type":"start","rounds":1}"#)),
            Some(Party::Peggy),
            "Peggy's commitment for round 1",
        ),
        (
            Some((Party::Peggy, r#"{"type":"commit","round":1,"x":"4"}"#)),
            Some(Party::Victor),
            "Victor's challenge for round 1",
        ),
        (
            Some((
                Party::Victor,
                r#"{"type":"challenge","round":1,"e":"10101"}"#,
            )),
            Some(Party::Peggy),
            "Peggy's response for round 1",
        ),
        (
            Some((Party::Peggy, r#"{"type":"response","round":1,"y":"5"}"#)),
            Some(Party::Victor),
            "Victor's result for round 1",
        ),
        (
            Some((
                Party::Victor,
                r#"{"type":"result","round":1,"passed":true}"#,
            )),
            Some(Party::Victor),
            "Victor's verdict",
        ),
        (
            Some((
                Party::Victor,
                r#"{"type":"verdict","accepted":true,"rounds_passed":1,"rounds":1}"#,
            )),
            Some(Party::Peggy),
            "Peggy's acknowledgement",
        ),
        (
            Some((Party::Peggy, r#"{"type":"ack"}"#)),
            None,
            "nothing more",
        ),
    ];
    for (message, turn, expected) in turns {
        if let Some((from, text)) = message {
            referee.check(from, text).unwrap();
        }
        assert_eq!(referee.expecting(), turn, "after {message:?}");
        assert_eq!(referee.expected(), expected);
        assert_eq!(
            referee.verdict_sent(),
            matches!(expected, "Peggy's acknowledgement" | "nothing more")
        );
    }
    // A refused message changes nothing: it is still Victor's turn for the same step.
    let mut referee = referee_in_round_one(key.public_key());
    assert!(
        referee
            .check(Party::Victor, r#"{"type":"challenge","round":1,"e":"1"}"#)
            .is_err()
    );
    assert_eq!(referee.expecting(), Some(Party::Victor));
    assert_eq!(referee.expected(), "Victor's challenge for round 1");
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

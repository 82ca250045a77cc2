//! The typed wire contract: one JSON text per message, values parsed once and bounded first.

use super::*;
use std::collections::HashSet;

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

fn message_error(text: &str) -> String {
    Message::parse(text, usize::MAX)
        .map(|m| format!("accepted: {m:?}"))
        .unwrap_or_else(|e| e.message().to_owned())
}

/// Each typed message reads from and writes back to the very text the untyped ones did.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn typed_messages_keep_their_json_text() {
    let y_hex = "ff0000000000000000000000000000000000000001";
    let y = BoxedUint::from_be_hex(&format!("000000{y_hex}"), 192).unwrap();
    let cases = [
        (
            Message::Commit {
                round: 1,
                x: WireNumber::new(BoxedUint::from(0x1a2b3cu64)),
            },
            r#"{"type":"commit","round":1,"x":"1a2b3c"}"#,
        ),
        (
            Message::Challenge {
                round: 2,
                e: ChallengeBits::parse("01101").unwrap(),
            },
            r#"{"type":"challenge","round":2,"e":"01101"}"#,
        ),
        (
            Message::Response {
                round: 3,
                y: WireNumber::new(y.clone()),
            },
            r#"{"type":"response","round":3,"y":"ff0000000000000000000000000000000000000001"}"#,
        ),
    ];
    for (message, text) in cases {
        assert_eq!(message.to_json(), text);
        let parsed = Message::parse(text, usize::MAX).unwrap();
        assert_eq!(parsed.to_json(), text, "round trip");
        // serde's own path reads the same values.
        let direct: Message = serde_json::from_str(text).unwrap();
        assert_eq!(direct.to_json(), text);
    }
    match Message::parse(
        r#"{"type":"response","round":3,"y":"ff0000000000000000000000000000000000000001"}"#,
        1024,
    ) {
        Ok(Message::Response { round: 3, y: got }) => {
            assert_eq!(got.value(), &y);
            assert_eq!(got.to_string(), y_hex);
        }
        other => panic!("{other:?}"),
    }
    match Message::parse(r#"{"type":"challenge","round":2,"e":"01101"}"#, 1024) {
        Ok(Message::Challenge { e, .. }) => {
            assert_eq!(e.challenge().bits(), [false, true, true, false, true]);
            assert_eq!(e.k(), 5);
        }
        other => panic!("{other:?}"),
    }
    // A value computed in a wider number writes the same text and is the same value.
    let wide = WireNumber::new(BoxedUint::from_be_slice(&[0x1a, 0x2b, 0x3c], 1024).unwrap());
    let narrow = WireNumber::parse("1a2b3c").unwrap();
    assert_eq!(wide.to_string(), "1a2b3c");
    assert_eq!(wide, narrow);
    assert_eq!(HashSet::from([wide]).len(), HashSet::from([narrow]).len());
    assert_eq!(WireNumber::new(BoxedUint::zero()).to_string(), "0");
}

/// A hostile length is refused by comparing lengths: ten million non-hex characters give
/// `TooLong`, not `NonCanonical`, so no digit was decoded and nothing was allocated for
/// them. (`Message::parse` also bounds the whole text by its `max_bytes`.)
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn an_oversize_number_or_challenge_is_refused_by_its_length_before_decoding() {
    let huge = "z".repeat(10_000_000);
    assert_eq!(WireNumber::parse(&huge), Err(ffs::Error::TooLong));
    assert_eq!(
        message_error(&format!(r#"{{"type":"commit","round":1,"x":"{huge}"}}"#)),
        "x of round 1 is invalid: number has more bits than the modulus allows"
    );
    assert_eq!(
        ChallengeBits::parse(&"2".repeat(10_000_000)),
        Err(ffs::Error::ChallengeLength)
    );
    // The bounds themselves: 4096 bits and 64 challenge bits.
    let max = "f".repeat(1024);
    assert_eq!(WireNumber::parse(&max).map(|v| v.bits()), Ok(4096));
    assert_eq!(
        WireNumber::parse(&format!("1{max}")),
        Err(ffs::Error::TooLong)
    );
    assert_eq!(
        message_error(&format!(r#"{{"type":"response","round":2,"y":"1{max}"}}"#)),
        "y of round 2 is invalid: number has more bits than the modulus allows"
    );
    assert_eq!(ChallengeBits::parse(&"1".repeat(64)).map(|e| e.k()), Ok(64));
    assert_eq!(
        message_error(&format!(
            r#"{{"type":"challenge","round":1,"e":"{}"}}"#,
            "1".repeat(65)
        )),
        "the challenge of round 1 is invalid: challenge must be exactly k characters of 0 or 1"
    );
}

/// A malformed value is refused when its message is read, with its round named.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn malformed_numbers_and_challenges_are_refused_naming_their_round() {
    let not_canonical = "number is not in canonical lowercase hex without leading zeros";
    for x in [
        "", "00", "01", "0x1", "1A", "-1", "+1", " 1", "1 ", "g", "１",
    ] {
        assert_eq!(
            message_error(&format!(r#"{{"type":"commit","round":4,"x":"{x}"}}"#)),
            format!("x of round 4 is invalid: {not_canonical}"),
            "{x:?}"
        );
        assert!(WireNumber::parse(x).is_err());
    }
    assert_eq!(
        message_error(r#"{"type":"response","round":2,"y":"5g"}"#),
        format!("y of round 2 is invalid: {not_canonical}")
    );
    for e in ["", "10201", "1o1", "1 1", "0b1"] {
        assert_eq!(
            message_error(&format!(r#"{{"type":"challenge","round":3,"e":"{e}"}}"#)),
            "the challenge of round 3 is invalid: challenge must be exactly k characters of 0 \
             or 1",
            "{e:?}"
        );
    }
    // Not a string at all: the message's shape is wrong.
    for text in [
        r#"{"type":"commit","round":1,"x":5}"#,
        r#"{"type":"challenge","round":1,"e":[0,1]}"#,
        r#"{"type":"response","round":1,"y":null}"#,
    ] {
        assert!(
            message_error(text).starts_with("malformed message"),
            "{text}: {}",
            message_error(text)
        );
    }
    // serde's own path refuses them too.
    assert!(serde_json::from_str::<Message>(r#"{"type":"commit","round":4,"x":"01"}"#).is_err());
    assert!(serde_json::from_str::<Message>(r#"{"type":"challenge","round":1,"e":"12"}"#).is_err());
}

//! The referee: order, sender, ranges, repeats, the verdict, and whose turn it is.

use super::*;

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

//! Whole-protocol tests: the Handbook's known answer, property tests of completeness and
//! soundness, the cheater's success rate and every refused input. They run natively and, via
//! wasm-bindgen-test, in wasm32.

use super::*;
use proptest::{prelude::*, test_runner::Config};
use rand_chacha::{ChaCha20Rng, rand_core::SeedableRng};

fn u(v: u64) -> BoxedUint {
    BoxedUint::from(v)
}

fn handbook_key() -> SecretKey {
    let modulus = BlumModulus::from_factors(683, 811);
    SecretKey::from_secrets(
        &modulus,
        &[u(157), u(43_215), u(4_646)],
        &[true, false, true],
    )
    .unwrap()
}

fn demo_key(seed: u64, bits: u32, k: usize) -> SecretKey {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let modulus = BlumModulus::generate_demo(&mut rng, bits).unwrap();
    SecretKey::generate(&mut rng, &modulus, k).unwrap()
}

fn json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
    serde_json::from_str(text).map_err(|e| e.to_string())
}

/// Proptest settings that work in wasm32 too (no failure files there).
fn config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

/// HAC Example 10.27: r = 1279 and sign bit 1 give x = −r² mod n = 25898; e = (0, 0, 1) gives
/// y = r · s_3 mod n = 403104, and y² · I_3 ≡ 25898 = x, so Victor accepts.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn handbook_example_10_27_round() {
    let key = handbook_key();
    let prover = Prover::new(&key);
    let verifier = Verifier::new(key.public_key().clone());
    let e = Challenge::from_bits(vec![false, false, true]).unwrap();
    for (negative, x) in [(true, 25_898), (false, 528_015)] {
        let (round, commitment) = prover.commit_fixed(1279, negative);
        assert_eq!(commitment.x(), &u(x));
        let response = round.respond(&e).unwrap();
        assert_eq!(response.y(), &u(403_104));
        let victor = verifier
            .receive(&commitment)
            .unwrap()
            .challenge_with(e.clone())
            .unwrap();
        assert_eq!(victor.verify(&response), Ok(()));
    }
    let wire = serde_json::to_string(key.public_key()).unwrap();
    assert_eq!(wire, r#"{"n":"873b9","k":3,"i":["6bdf5","529e2","1e607"]}"#);
    // The public constructor builds the same key: I = (441845, 338402, 124423) in hex.
    let book = SecretKey::handbook_example().unwrap();
    assert_eq!(serde_json::to_string(book.public_key()).unwrap(), wire);
    assert_eq!(
        book.public_key().identifiers(),
        [u(441_845), u(338_402), u(124_423)]
    );
}

/// Runs a whole honest session and returns its verdict.
fn honest_run(key: &SecretKey, rounds: u32, rng: &mut ChaCha20Rng) -> Verdict {
    let prover = Prover::new(key);
    let mut session = VerifierSession::new(key.public_key().clone(), rounds).unwrap();
    while session.verdict().is_none() {
        let (round, commitment) = prover.commit(rng);
        session.receive_commitment(&commitment).unwrap();
        let challenge = session.challenge(rng).unwrap();
        session
            .receive_response(&round.respond(&challenge).unwrap())
            .unwrap();
    }
    session.verdict().unwrap()
}

/// Toggles bit `bit` of v.
fn flip(v: &BoxedUint, bit: u32) -> BoxedUint {
    let mut bytes = vec![0u8; (bit / 8 + 1) as usize];
    bytes.extend_from_slice(&v.to_be_bytes());
    let at = bytes.len() - 1 - (bit / 8) as usize;
    bytes[at] ^= 1 << (bit % 8);
    BoxedUint::from_be_slice_vartime(&bytes)
}

proptest! {
    #![proptest_config(config(24))]

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn honest_prover_is_always_accepted(seed: u64, half in 8u32..80, k in 1usize..=64, t in 1u32..4) {
        let key = demo_key(seed, 2 * half, k);
        let verdict = honest_run(&key, t, &mut ChaCha20Rng::seed_from_u64(seed ^ 1));
        prop_assert!(verdict.accepted);
        prop_assert_eq!((verdict.rounds_passed, verdict.soundness_bits()), (t, k as u32 * t));
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn altered_x_or_y_is_rejected(seed: u64, half in 8u32..80, k in 1usize..=20, bit: u32, alter_x: bool) {
        let key = demo_key(seed, 2 * half, k);
        let m = &*key.public_key().modulus().modulus;
        let mut rng = ChaCha20Rng::seed_from_u64(seed ^ 2);
        let (round, commitment) = Prover::new(&key).commit(&mut rng);
        let (victor, challenge) = Verifier::new(key.public_key().clone()).receive(&commitment)
            .unwrap().challenge(&mut rng);
        let response = round.respond(&challenge).unwrap();
        let bit = bit % m.bits();
        if alter_x {
            let x = flip(commitment.x(), bit);
            if let (Ok(a), Ok(b)) = (m.residue(&x), m.residue(commitment.x())) {
                prop_assume!(a != m.neg(&b), "−x is the same commitment");
            }
            let verdict = Verifier::new(key.public_key().clone()).receive(&Commitment::new(x))
                .and_then(|round| round.challenge_with(challenge))
                .and_then(|round| round.verify(&response));
            prop_assert!(verdict.is_err());
        } else {
            let y = flip(response.y(), bit);
            if let (Ok(a), Ok(b)) = (m.residue(&y), m.residue(response.y())) {
                prop_assume!(m.square(&a) != m.square(&b), "another square root of y²");
            }
            prop_assert!(victor.verify(&Response::new(y)).is_err());
        }
    }
}

/// Over 10⁴ rounds a cheater passes at a rate within 3σ of 2^−k (k = 1, 2 and 4).
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn cheater_succeeds_with_probability_two_to_the_minus_k() {
    const ROUNDS: u32 = 10_000;
    for k in [1usize, 2, 4] {
        let key = demo_key(40 + k as u64, 32, k);
        let cheater = Cheater::new(key.public_key().clone());
        let verifier = Verifier::new(key.public_key().clone());
        let mut rng = ChaCha20Rng::seed_from_u64(k as u64);
        let mut passed = 0u32;
        for _ in 0..ROUNDS {
            let (round, commitment) = cheater.commit(&mut rng);
            let (victor, challenge) = verifier.receive(&commitment).unwrap().challenge(&mut rng);
            let guessed = round.guessed_right(&challenge);
            let outcome = victor.verify(&round.respond(&challenge));
            assert_eq!(
                outcome.is_ok(),
                guessed,
                "a cheater passes exactly when it guessed e"
            );
            passed += u32::from(outcome.is_ok());
        }
        let p = 0.5f64.powi(k as i32);
        let sigma = (p * (1.0 - p) / f64::from(ROUNDS)).sqrt();
        let rate = f64::from(passed) / f64::from(ROUNDS);
        assert!(
            (rate - p).abs() <= 3.0 * sigma,
            "k = {k}: rate {rate}, expected {p} ± {}",
            3.0 * sigma
        );
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn bad_commitments_and_responses_are_typed_errors() {
    let key = handbook_key();
    let verifier = Verifier::new(key.public_key().clone());
    let bad_numbers = [
        ("0", Error::Zero),
        ("873b9", Error::OutOfRange),
        ("ffffff", Error::TooLong),
        ("2ab", Error::NotCoprime),
        ("32b", Error::NotCoprime),
    ];
    let e = Challenge::from_bits(vec![false, false, true]).unwrap();
    for (hex, error) in bad_numbers {
        let x: Commitment = json(&format!(r#"{{"x":"{hex}"}}"#)).unwrap();
        assert_eq!(verifier.receive(&x).unwrap_err(), error, "x = {hex}");
        let (_, good) = Prover::new(&key).commit_fixed(1279, true);
        let round = verifier
            .receive(&good)
            .unwrap()
            .challenge_with(e.clone())
            .unwrap();
        let y: Response = json(&format!(r#"{{"y":"{hex}"}}"#)).unwrap();
        assert_eq!(round.verify(&y).unwrap_err(), error, "y = {hex}");
    }
    for text in ["-1", "+1", "01", "0x1", "ABC", " 1", "1 ", ""] {
        let message = json::<Commitment>(&format!(r#"{{"x":"{text}"}}"#)).unwrap_err();
        assert!(
            message.starts_with(&Error::NonCanonical.to_string()),
            "{text:?}: {message}"
        );
        assert!(json::<Response>(&format!(r#"{{"y":"{text}"}}"#)).is_err());
    }
    assert!(json::<Commitment>(r#"{"x":-1}"#).is_err());
    let too_long = format!(r#"{{"x":"{}"}}"#, "f".repeat(1025));
    assert!(
        json::<Commitment>(&too_long)
            .unwrap_err()
            .starts_with(&Error::TooLong.to_string())
    );
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn challenges_of_the_wrong_length_are_refused() {
    let key = handbook_key();
    for text in ["", "01", "0101", "01x", "0 1", "1".repeat(65).as_str()] {
        let parsed = json::<Challenge>(&format!(r#"{{"e":"{text}"}}"#));
        if let Ok(challenge) = parsed {
            let (round, commitment) = Prover::new(&key).commit_fixed(1279, true);
            assert_eq!(
                round.respond(&challenge).unwrap_err(),
                Error::ChallengeLength
            );
            let victor = Verifier::new(key.public_key().clone())
                .receive(&commitment)
                .unwrap();
            assert_eq!(
                victor.challenge_with(challenge).unwrap_err(),
                Error::ChallengeLength
            );
        } else {
            assert!(
                parsed
                    .unwrap_err()
                    .starts_with(&Error::ChallengeLength.to_string()),
                "{text:?}"
            );
        }
    }
    let e: Challenge = json(r#"{"e":"001"}"#).unwrap();
    assert_eq!(e.bits(), [false, false, true]);
    assert_eq!(serde_json::to_string(&e).unwrap(), r#"{"e":"001"}"#);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn messages_out_of_order_are_typed_errors() {
    let key = handbook_key();
    let prover = Prover::new(&key);
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let mut session = VerifierSession::new(key.public_key().clone(), 3).unwrap();
    let e = Challenge::from_bits(vec![true, false, true]).unwrap();
    assert_eq!(
        session.challenge(&mut rng).unwrap_err(),
        Error::ChallengeBeforeCommitment
    );
    assert_eq!(
        session.challenge_with(e.clone()).unwrap_err(),
        Error::ChallengeBeforeCommitment
    );
    let (round, commitment) = prover.commit(&mut rng);
    assert_eq!(
        session.receive_response(&Response::new(u(5))).unwrap_err(),
        Error::ResponseBeforeChallenge
    );
    session.receive_commitment(&commitment).unwrap();
    assert_eq!(
        session.receive_commitment(&commitment).unwrap_err(),
        Error::SecondCommitment
    );
    assert_eq!(
        session.receive_response(&Response::new(u(5))).unwrap_err(),
        Error::ResponseBeforeChallenge
    );
    let short = Challenge::from_bits(vec![true]).unwrap();
    assert_eq!(
        session.challenge_with(short).unwrap_err(),
        Error::ChallengeLength
    );
    session.challenge_with(e.clone()).unwrap();
    assert_eq!(
        session.challenge_with(e.clone()).unwrap_err(),
        Error::SecondCommitment
    );
    assert_eq!(
        session.receive_commitment(&commitment).unwrap_err(),
        Error::SecondCommitment
    );
    session
        .receive_response(&round.respond(&e).unwrap())
        .unwrap();
    assert_eq!((session.rounds_passed(), session.verdict()), (1, None));
    // The same x again ends the run.
    assert_eq!(
        session.receive_commitment(&commitment).unwrap_err(),
        Error::RepeatedCommitment
    );
    let verdict = session.verdict().unwrap();
    assert_eq!(
        (verdict.accepted, verdict.reason),
        (false, Some(Error::RepeatedCommitment))
    );
    assert_eq!(
        session
            .receive_commitment(&prover.commit(&mut rng).1)
            .unwrap_err(),
        Error::SessionFinished
    );
    assert_eq!(
        session.challenge(&mut rng).unwrap_err(),
        Error::SessionFinished
    );
    assert_eq!(
        VerifierSession::new(key.public_key().clone(), 0).unwrap_err(),
        Error::RoundCount
    );
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_failed_round_ends_the_session_rejected() {
    let key = demo_key(9, 64, 4);
    let prover = Prover::new(&key);
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let mut session = VerifierSession::with_default_rounds(key.public_key().clone());
    assert_eq!(session.rounds(), 10);
    let (round, commitment) = prover.commit(&mut rng);
    session.receive_commitment(&commitment).unwrap();
    let challenge = session.challenge(&mut rng).unwrap();
    let mut bits = challenge.bits().to_vec();
    bits[0] = !bits[0];
    let wrong = round.respond(&Challenge::from_bits(bits).unwrap()).unwrap();
    assert_eq!(
        session.receive_response(&wrong).unwrap_err(),
        Error::CheckFailed
    );
    let verdict = session.verdict().unwrap();
    assert_eq!(
        (verdict.accepted, verdict.rounds_passed, verdict.reason),
        (false, 0, Some(Error::CheckFailed))
    );
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn default_rounds_reach_forty_bits() {
    for k in 1..=64 {
        let t = default_rounds(k);
        assert!(soundness_bits(k, t) >= 40 && soundness_bits(k, t - 1) < 40 || t == 1);
    }
    assert_eq!(
        (default_rounds(20), default_rounds(1), default_rounds(64)),
        (2, 40, 1)
    );
    assert_eq!(soundness_error(20, 2), 0.5f64.powi(40));
}

use super::*;
use crate::protocol::ffs::BlumModulus;
use rand_chacha::{ChaCha20Rng, rand_core::SeedableRng};

fn key(seed: u64, k: usize) -> (SecretKey, ChaCha20Rng) {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let n = BlumModulus::generate_demo(&mut rng, 256).unwrap();
    (SecretKey::generate(&mut rng, &n, k).unwrap(), rng)
}

fn batch(
    contender: &Contender,
    public: &PublicKey,
    rounds: u32,
    runs: u32,
    rng: &mut ChaCha20Rng,
) -> Tally {
    let mut tally = Tally::new(public.k(), rounds);
    for _ in 0..runs {
        tally.record(contender.run(rng, public, rounds).unwrap());
    }
    tally
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn an_honest_peggy_is_accepted_in_every_run() {
    let (key, mut rng) = key(1, 2);
    let tally = batch(&Contender::honest(&key), key.public_key(), 3, 200, &mut rng);
    assert_eq!((tally.runs(), tally.accepted()), (200, 200));
    assert_eq!(tally.caught(), &[0, 0, 0]);
    assert_eq!(tally.rate(), 1.0);
}

/// The measured rate of a cheater lies within 3σ of 2^−k·t (k·t = 1, 2, 4), and the round she
/// is caught in follows (2^−k)^(i−1)·(1 − 2^−k).
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_cheaters_acceptance_rate_matches_two_to_the_minus_k_t() {
    for (seed, k, rounds) in [(2, 1, 1), (3, 1, 2), (4, 2, 2)] {
        let (key, mut rng) = key(seed, k);
        let cheater = Contender::cheating(key.public_key().clone());
        let tally = batch(&cheater, key.public_key(), rounds, 10_000, &mut rng);
        assert!(
            tally.deviation() <= 3.0,
            "k = {k}, t = {rounds}: rate {} vs {} (σ {})",
            tally.rate(),
            tally.expected(),
            tally.sigma()
        );
        let caught: u32 = tally.caught().iter().sum();
        assert_eq!(caught + tally.accepted(), tally.runs());
        let share = tally.expected_caught_share(1);
        let sigma = (share * (1.0 - share) / 10_000.0).sqrt();
        let measured = f64::from(tally.caught()[0]) / 10_000.0;
        assert!(
            (measured - share).abs() <= 3.0 * sigma,
            "caught in round 1: {measured} vs {share}"
        );
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn the_tally_counts_and_its_theory_is_right() {
    let mut tally = Tally::new(2, 3);
    assert_eq!((tally.rate(), tally.expected()), (0.0, 1.0 / 64.0));
    tally.record(RunOutcome {
        accepted: false,
        caught_at: Some(2),
    });
    tally.record(RunOutcome {
        accepted: true,
        caught_at: None,
    });
    // A round outside 1..=t is counted as a run but in no round.
    tally.record(RunOutcome {
        accepted: false,
        caught_at: Some(9),
    });
    tally.record(RunOutcome {
        accepted: false,
        caught_at: Some(0),
    });
    assert_eq!((tally.runs(), tally.accepted()), (4, 1));
    assert_eq!(tally.caught(), &[0, 1, 0]);
    assert_eq!(tally.rate(), 0.25);
    let p: f64 = 1.0 / 64.0;
    assert!((tally.sigma() - (p * (1.0 - p) / 4.0).sqrt()).abs() < 1e-12);
    assert!((tally.expected_caught_share(1) - 0.75).abs() < 1e-12);
    assert!((tally.expected_caught_share(2) - 0.1875).abs() < 1e-12);
    // Far above a cheater's 1/64: many σ away.
    assert!(tally.deviation() > 3.0);
}

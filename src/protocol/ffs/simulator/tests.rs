use super::*;
use crate::protocol::ffs::{BlumModulus, SecretKey, wire};
use rand_chacha::{ChaCha20Rng, rand_core::SeedableRng};
use std::collections::HashMap;

fn demo_key(rng: &mut ChaCha20Rng, bits: u32, k: usize) -> SecretKey {
    let n = BlumModulus::generate_demo(rng, bits).unwrap();
    SecretKey::generate(rng, &n, k).unwrap()
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn simulated_transcripts_verify_without_the_secret() {
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    for (bits, k) in [(64, 1), (128, 5), (256, 20), (512, 64)] {
        let key = demo_key(&mut rng, bits, k);
        let simulator = Simulator::new(key.public_key().clone());
        let prover = Prover::new(&key);
        for _ in 0..20 {
            assert_eq!(
                simulator.simulate(&mut rng).verify(key.public_key()),
                Ok(())
            );
            let real = Transcript::real(&prover, &mut rng).unwrap();
            assert_eq!(real.verify(key.public_key()), Ok(()));
        }
        // Tampering with any part breaks the check.
        let mut t = simulator.simulate(&mut rng);
        let mut bits: Vec<bool> = t.e.bits().to_vec();
        bits[0] = !bits[0];
        t.e = Challenge::from_bits(bits).unwrap();
        assert!(t.verify(key.public_key()).is_err());
    }
}

/// Two-sample chi-square statistic over the union of bins, and its degrees of freedom; the
/// samples must have equal sizes.
fn chi_square(a: &HashMap<String, u32>, b: &HashMap<String, u32>) -> (f64, u32) {
    let bins: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    let stat = bins
        .iter()
        .map(|bin| {
            let (x, y) = (
                f64::from(a.get(*bin).copied().unwrap_or(0)),
                f64::from(b.get(*bin).copied().unwrap_or(0)),
            );
            (x - y).powi(2) / (x + y)
        })
        .sum();
    (stat, bins.len() as u32 - 1)
}

/// The 0.999 quantile of χ² with `df` degrees of freedom (Wilson–Hilferty).
fn critical_999(df: u32) -> f64 {
    let d = f64::from(df);
    let z = 3.090_232;
    d * (1.0 - 2.0 / (9.0 * d) + z * (2.0 / (9.0 * d)).sqrt()).powi(3)
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn the_critical_value_matches_tables() {
    // Tables: χ²₀.₉₉₉(10) = 29.59, (100) = 149.45, (300) = 381.43.
    for (df, table) in [(10, 29.59), (100, 149.45), (300, 381.43)] {
        assert!((critical_999(df) - table).abs() / table < 0.01, "df {df}");
    }
}

fn histogram(samples: impl Iterator<Item = Transcript>) -> HashMap<String, u32> {
    let mut counts = HashMap::new();
    for t in samples {
        let bin = format!(
            "{} {:?} {}",
            wire::encode(t.x.x()),
            t.e.bits(),
            wire::encode(t.y.y())
        );
        *counts.entry(bin).or_insert(0) += 1;
    }
    counts
}

/// On n = 7·11 with k = 1 every triple (x, e, y) can be counted: on a demo-sized n both provers
/// draw units only, so φ(77) = 60 values of y × 2 challenges × 2 signs = 240 equally likely
/// transcripts. Real and simulated samples are indistinguishable at
/// the 0.1 % level; a simulator that always uses the + sign (a detectable difference) is caught
/// by the same test, so it can fail.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn simulated_and_real_transcripts_are_distributed_alike() {
    const SAMPLES: usize = 240 * 50;
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let modulus = BlumModulus::from_factors(7, 11);
    let key = SecretKey::generate(&mut rng, &modulus, 1).unwrap();
    let prover = Prover::new(&key);
    let simulator = Simulator::new(key.public_key().clone());
    let real = histogram((0..SAMPLES).map(|_| Transcript::real(&prover, &mut rng).unwrap()));
    let simulated = histogram((0..SAMPLES).map(|_| simulator.simulate(&mut rng)));
    let (stat, df) = chi_square(&real, &simulated);
    assert_eq!(df, 239, "every one of the 240 transcripts appears");
    assert!(
        stat < critical_999(df),
        "χ² = {stat} ≥ {}",
        critical_999(df)
    );

    // Negative control: flip every simulated x to the + sign form (x or n − x, whichever is
    // smaller), so half of the transcripts never appear.
    let n = 77u64;
    let positive = (0..SAMPLES).map(|_| {
        let mut t = simulator.simulate(&mut rng);
        let x = u64::from_str_radix(&wire::encode(t.x.x()), 16).unwrap();
        t.x = Commitment::new(x.min(n - x).into());
        t
    });
    let broken = histogram(positive);
    let (stat, df) = chi_square(&real, &broken);
    assert!(
        stat > critical_999(df),
        "the broken simulator passed: χ² = {stat}"
    );
}

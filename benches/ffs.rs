//! Criterion benchmarks of the FFS core: keygen, commit, respond and verify at |n| =
//! 1024/2048/3072 and k = 1/20/64, and Blum modulus generation at 2048 bits side by side with
//! OpenSSL's `BN_generate_prime_ex` (add = 4, rem = 3, so p ≡ 3 mod 4) in the same run.
//!
//! `CARGO_BUILD_JOBS=1 cargo bench --bench ffs` (filter with e.g. `-- blum`).

#![allow(clippy::expect_used)] // a benchmark of valid inputs may expect them to be valid

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use openssl::bn::{BigNum, BigNumContext};
use rand_chacha::{ChaCha20Rng, rand_core::SeedableRng};
use std::{hint::black_box, time::Duration};
use zkrelay::protocol::ffs::{BlumModulus, Prover, SecretKey, Verifier};

const SIZES: [u32; 3] = [1024, 2048, 3072];
const KS: [usize; 3] = [1, 20, 64];

fn rounds(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(2048);
    let mut group = c.benchmark_group("ffs");
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for bits in SIZES {
        let modulus = BlumModulus::generate(&mut rng, bits).expect("valid size");
        for k in KS {
            let id = format!("{bits}/k{k}");
            group.bench_function(format!("keygen/{id}"), |b| {
                b.iter(|| SecretKey::generate(&mut rng, &modulus, k).expect("valid k"))
            });
            let key = SecretKey::generate(&mut rng, &modulus, k).expect("valid k");
            let prover = Prover::new(&key);
            let verifier = Verifier::new(key.public_key().clone());
            group.bench_function(format!("commit/{id}"), |b| {
                b.iter(|| prover.commit(&mut rng))
            });
            let challenge = |rng: &mut ChaCha20Rng| {
                let (round, commitment) = prover.commit(rng);
                let (victor, e) = verifier
                    .receive(&commitment)
                    .expect("honest x")
                    .challenge(rng);
                (round, victor, e, commitment)
            };
            group.bench_function(format!("respond/{id}"), |b| {
                b.iter_batched(
                    || challenge(&mut rng),
                    |(round, _, e, _)| round.respond(&e),
                    BatchSize::SmallInput,
                )
            });
            group.bench_function(format!("verify/{id}"), |b| {
                b.iter_batched(
                    || {
                        let (round, _, e, commitment) = challenge(&mut rng);
                        (
                            commitment,
                            e.clone(),
                            round.respond(&e).expect("right length"),
                        )
                    },
                    // Receiving x (range and gcd checks) is part of Victor's work for a round.
                    |(commitment, e, y)| {
                        let victor = verifier.receive(&commitment).expect("honest x");
                        victor.challenge_with(e).expect("right length").verify(&y)
                    },
                    BatchSize::SmallInput,
                )
            });
            group.bench_function(format!("round/{id}"), |b| {
                b.iter(|| {
                    let (round, victor, e, _) = challenge(&mut rng);
                    victor.verify(&round.respond(&e).expect("right length"))
                })
            });
        }
    }
    group.finish();
}

fn blum(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    let mut group = c.benchmark_group("blum2048");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(30));
    group.bench_function("zkrelay", |b| {
        b.iter(|| BlumModulus::generate(&mut rng, 2048).expect("valid size"))
    });
    let (four, three) = (
        BigNum::from_u32(4).expect("bn"),
        BigNum::from_u32(3).expect("bn"),
    );
    let mut ctx = BigNumContext::new().expect("bn ctx");
    group.bench_function("openssl", |b| {
        b.iter(|| {
            let (mut p, mut q, mut n) = (
                BigNum::new().expect("bn"),
                BigNum::new().expect("bn"),
                BigNum::new().expect("bn"),
            );
            p.generate_prime(1024, false, Some(&four), Some(&three))
                .expect("prime");
            q.generate_prime(1024, false, Some(&four), Some(&three))
                .expect("prime");
            n.checked_mul(&p, &q, &mut ctx).expect("product");
            black_box(n)
        })
    });
    group.finish();
}

criterion_group!(benches, rounds, blum);
criterion_main!(benches);

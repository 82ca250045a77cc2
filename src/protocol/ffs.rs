//! Feige–Fiat–Shamir identification (Handbook of Applied Cryptography, Protocol 10.26, with
//! sign bits): Peggy proves she knows square roots s_j of her public identifiers' inverses
//! modulo a Blum integer n, revealing nothing about them.
//!
//! This is a pure core: no I/O, no clock, no global RNG — every random draw comes from a
//! caller's `rand_core` 0.10 [`CryptoRng`](rand_core::CryptoRng), re-exported here as
//! [`rand_core`]. The browser (wasm32), the server's Blum pool, the CLI and the benchmarks all
//! drive the same code.
//!
//! - [`BlumModulus`] — n = p · q, p ≡ q ≡ 3 (mod 4), |p| = |q| = |n|/2, p and q zeroized.
//! - [`SecretKey`] / [`PublicKey`] — s_j and I_j = (−1)^{b_j} · (s_j²)⁻¹ mod n, k ∈ 1..=64.
//! - [`Prover`] → [`PendingRound`] (consumed by `respond`), [`Verifier`] →
//!   [`AwaitingChallenge`] → [`AwaitingResponse`] (consumed by `verify`).
//! - [`VerifierSession`] — t rounds (default ⌈40/k⌉), [`Verdict`] with soundness 2^−k·t,
//!   repeated x detection, typed errors for messages out of order.
//! - [`Cheater`] — a prover without secrets that passes a round with probability 2^−k.
//! - [`Simulator`] / [`Transcript`] — transcripts made without the secret that verify and are
//!   distributed like real ones: the zero-knowledge argument, as code.
//! - [`explain`] — a demo-sized round in decimal, formula by formula (schoolbook arithmetic,
//!   independent of the core's).
//! - [`wire`] — the canonical encoding: big numbers are **lowercase hex without leading
//!   zeros**, bounded in length before parsing; challenges are strings of `0`/`1`.
//!
//! # Security
//!
//! The modular arithmetic ([`arith`](self) module: Montgomery multiplication, comparisons,
//! gcd checks, rejection sampling) is **not constant-time**; timing may depend on r and s_j.
//! Only the one inversion during key generation is constant-time. Demo-sized moduli (below
//! 1024 bits) are factorable in moments and exist only for teaching and fast tests. The
//! Blum property of a received n cannot be checked without its factors.

mod arith;
mod cheater;
mod error;
pub mod explain;
mod keys;
mod modulus;
mod round;
mod session;
mod simulator;
pub mod wire;

pub use cheater::{Cheater, CheaterRound};
pub use crypto_bigint::{BoxedUint, rand_core};
pub use error::Error;
pub use keys::{DEFAULT_K, MAX_K, PublicKey, SecretKey};
pub use modulus::{BlumModulus, DEFAULT_BITS, DEMO_MIN_BITS, HANDBOOK_N, MAX_BITS, MIN_BITS};
pub use round::{
    AwaitingChallenge, AwaitingResponse, Challenge, Commitment, PendingRound, Prover, Response,
    Verifier,
};
pub use session::{
    MAX_ROUNDS, TARGET_SOUNDNESS_BITS, Verdict, VerifierSession, default_rounds, soundness_bits,
    soundness_error,
};
pub use simulator::{Simulator, Transcript};

#[cfg(test)]
mod tests;

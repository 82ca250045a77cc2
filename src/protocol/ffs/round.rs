//! One FFS round as typestates, so a nonce can answer only one challenge.
//!
//! Peggy: [`Prover::commit`] draws r ∈ [1, n − 1] and a sign, sends x = ±r² mod n and keeps a
//! [`PendingRound`]; [`PendingRound::respond`] consumes it and returns y = r · ∏ s_j^{e_j}
//! mod n. Victor: [`Verifier::receive`] validates x into an [`AwaitingChallenge`], which draws
//! (or takes a human's) e ∈ {0,1}^k and becomes an [`AwaitingResponse`];
//! [`AwaitingResponse::verify`] consumes it and accepts iff x ≠ 0, y ≠ 0, both are units below n
//! and y² · ∏ I_j^{e_j} ≡ ±x (mod n).

use super::{
    Error, PublicKey, SecretKey,
    arith::{Modulus, Residue},
    keys::{MAX_K, Secrets},
    wire::{ChallengeWire, hex},
};
use crypto_bigint::BoxedUint;
use crypto_bigint::rand_core::CryptoRng;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use zeroize::Zeroize;

/// Peggy's first message x = ±r² mod n.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commitment {
    #[serde(with = "hex")]
    pub(super) x: BoxedUint,
}

/// Victor's challenge e ∈ {0,1}^k; its wire form is a string of k characters `0`/`1`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ChallengeWire", into = "ChallengeWire")]
pub struct Challenge {
    pub(super) bits: Vec<bool>,
}

/// Peggy's answer y = r · ∏ s_j^{e_j} mod n.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    #[serde(with = "hex")]
    pub(super) y: BoxedUint,
}

impl Commitment {
    /// A commitment from a received number (validated by [`Verifier::receive`]).
    pub fn new(x: BoxedUint) -> Self {
        Self { x }
    }

    /// x as a plain integer.
    pub fn x(&self) -> &BoxedUint {
        &self.x
    }
}

impl Response {
    /// A response from a received number (validated by [`AwaitingResponse::verify`]).
    pub fn new(y: BoxedUint) -> Self {
        Self { y }
    }

    /// y as a plain integer.
    pub fn y(&self) -> &BoxedUint {
        &self.y
    }
}

impl Challenge {
    /// A uniformly random challenge of k bits.
    pub fn random<R: CryptoRng + ?Sized>(rng: &mut R, k: usize) -> Result<Self, Error> {
        if !(1..=MAX_K).contains(&k) {
            return Err(Error::ChallengeLength);
        }
        let word = rng.next_u64();
        Ok(Self {
            bits: (0..k).map(|j| word >> j & 1 == 1).collect(),
        })
    }

    /// A challenge with chosen bits (e.g. picked by a person in the UI), 1 ≤ k ≤ 64.
    pub fn from_bits(bits: Vec<bool>) -> Result<Self, Error> {
        if !(1..=MAX_K).contains(&bits.len()) {
            return Err(Error::ChallengeLength);
        }
        Ok(Self { bits })
    }

    /// e_1 … e_k.
    pub fn bits(&self) -> &[bool] {
        &self.bits
    }

    /// k.
    pub fn k(&self) -> usize {
        self.bits.len()
    }

    fn check_length(&self, k: usize) -> Result<(), Error> {
        if self.bits.len() == k {
            Ok(())
        } else {
            Err(Error::ChallengeLength)
        }
    }
}

impl TryFrom<ChallengeWire> for Challenge {
    type Error = Error;

    fn try_from(wire: ChallengeWire) -> Result<Self, Error> {
        if wire.e.len() > MAX_K {
            return Err(Error::ChallengeLength);
        }
        let bits = wire.e.bytes().map(|c| match c {
            b'0' => Ok(false),
            b'1' => Ok(true),
            _ => Err(Error::ChallengeLength),
        });
        Self::from_bits(bits.collect::<Result<_, _>>()?)
    }
}

impl From<Challenge> for ChallengeWire {
    fn from(challenge: Challenge) -> Self {
        Self {
            e: challenge
                .bits
                .iter()
                .map(|&b| if b { '1' } else { '0' })
                .collect(),
        }
    }
}

/// start · ∏_{e_j = 1} v_j for Montgomery forms v_j: the product both sides form. It keeps
/// start's form (plain stays plain), and allocates nothing.
fn product(m: &Modulus, mut acc: Residue, values: &[Residue], e: &Challenge) -> Residue {
    for (v, _) in values.iter().zip(&e.bits).filter(|(_, e)| **e) {
        m.mul_assign(&mut acc, v);
    }
    acc
}

/// Peggy's side: holds her secrets (shared, not copied) and commits to rounds.
#[derive(Clone)]
pub struct Prover {
    secrets: Arc<Secrets>,
    public: PublicKey,
}

/// A committed round: owns the nonce r, answers exactly one challenge, zeroizes r on drop.
pub struct PendingRound {
    /// The residue u that stands for r = u · R^(−1/2) (see [`Modulus::nonce`]).
    r: Residue,
    /// The sign σ of x = (−1)^σ · r².
    negative: bool,
    secrets: Arc<Secrets>,
    modulus: Arc<Modulus>,
}

impl Prover {
    /// A prover for this key.
    pub fn new(key: &SecretKey) -> Self {
        Self {
            secrets: Arc::clone(&key.secrets),
            public: key.public.clone(),
        }
    }

    /// The public key this prover proves knowledge for.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// Draws r uniformly from [1, n − 1] (from the units, on a demo-sized n) and a sign σ;
    /// returns the round and x = (−1)^σ · r².
    pub fn commit<R: CryptoRng + ?Sized>(&self, rng: &mut R) -> (PendingRound, Commitment) {
        let modulus = Arc::clone(&self.public.modulus.modulus);
        // A demo-sized n is small enough for r to share a factor with it: draw a unit there.
        let r = if self.public.modulus.is_demo() {
            modulus.random_unit(rng)
        } else {
            modulus.random(rng)
        };
        let negative = rng.next_u32() & 1 == 1;
        self.commit_with(r, negative)
    }

    /// Commits with a chosen nonce r (a unit in [1, n − 1]) and sign: the demo mode's "pick r
    /// yourself", to replay a textbook example. A chosen r is only as secret as its choice: a
    /// real identification uses [`Prover::commit`].
    pub fn commit_chosen(
        &self,
        r: &BoxedUint,
        negative: bool,
    ) -> Result<(PendingRound, Commitment), Error> {
        let m = &self.public.modulus.modulus;
        let r = m.plain_unit(r)?;
        Ok(self.commit_with(m.nonce_from_plain(&r), negative))
    }

    /// x = ±u · u · R⁻¹ = ±r² (plain) for the nonce r that u stands for: one product.
    fn commit_with(&self, r: Residue, negative: bool) -> (PendingRound, Commitment) {
        let modulus = Arc::clone(&self.public.modulus.modulus);
        let x = modulus.integer(&modulus.signed(modulus.square(&r), negative));
        let round = PendingRound {
            r,
            negative,
            secrets: Arc::clone(&self.secrets),
            modulus,
        };
        (round, Commitment { x })
    }

    /// Commits with a chosen r and sign (known-answer tests only).
    #[cfg(test)]
    pub(super) fn commit_fixed(&self, r: u64, negative: bool) -> (PendingRound, Commitment) {
        self.commit_chosen(&BoxedUint::from(r), negative)
            .expect("r in range")
    }
}

impl PendingRound {
    /// The nonce r and the sign σ of x = (−1)^σ · r², for Peggy's own page to show in demo
    /// mode. Whoever learns r and the response learns the secrets it used: never send it.
    pub fn nonce(&self) -> (BoxedUint, bool) {
        let m = &*self.modulus;
        (m.integer(&m.nonce(&self.r)), self.negative)
    }

    /// y = r · ∏ s_j^{e_j} mod n. Consumes the round, so r can never answer a second challenge.
    pub fn respond(self, challenge: &Challenge) -> Result<Response, Error> {
        challenge.check_length(self.secrets.s.len())?;
        let m = &*self.modulus;
        // r (plain) times the Montgomery forms of the s_j: y comes out plain.
        let y = product(m, m.nonce(&self.r), &self.secrets.s, challenge);
        Ok(Response { y: m.integer(&y) })
    }
}

impl Drop for PendingRound {
    fn drop(&mut self) {
        self.r.zeroize();
    }
}

/// Victor's side for one public key.
#[derive(Clone, Debug)]
pub struct Verifier {
    public: PublicKey,
}

/// A round whose commitment x was accepted; next comes the challenge.
#[derive(Debug)]
pub struct AwaitingChallenge {
    public: PublicKey,
    /// x · R⁻¹ mod n, the form [`AwaitingResponse::verify`] compares in.
    x: Residue,
}

/// A round that has sent its challenge; next comes the response.
#[derive(Debug)]
pub struct AwaitingResponse {
    public: PublicKey,
    x: Residue,
    challenge: Challenge,
}

impl Verifier {
    /// A verifier for this public key.
    pub fn new(public: PublicKey) -> Self {
        Self { public }
    }

    /// The key being verified.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// Validates x (nonzero, below n, at most |n| bits, coprime to n) and opens a round.
    pub fn receive(&self, commitment: &Commitment) -> Result<AwaitingChallenge, Error> {
        let m = &self.public.modulus.modulus;
        let x = m.reduce(&m.plain_unit(&commitment.x)?);
        Ok(AwaitingChallenge {
            public: self.public.clone(),
            x,
        })
    }
}

impl AwaitingChallenge {
    /// Draws e uniformly from {0,1}^k — after x arrived, as soundness requires.
    pub fn challenge<R: CryptoRng + ?Sized>(self, rng: &mut R) -> (AwaitingResponse, Challenge) {
        let k = self.public.k();
        let word = rng.next_u64();
        let challenge = Challenge {
            bits: (0..k).map(|j| word >> j & 1 == 1).collect(),
        };
        (self.with(challenge.clone()), challenge)
    }

    /// Uses a chosen challenge (a person's k bits); it must have exactly k bits.
    pub fn challenge_with(self, challenge: Challenge) -> Result<AwaitingResponse, Error> {
        challenge.check_length(self.public.k())?;
        Ok(self.with(challenge))
    }

    /// The commitment as x · R⁻¹ (one-to-one, for repeated-x detection).
    pub(super) fn x(&self) -> &Residue {
        &self.x
    }

    fn with(self, challenge: Challenge) -> AwaitingResponse {
        AwaitingResponse {
            public: self.public,
            x: self.x,
            challenge,
        }
    }
}

impl AwaitingResponse {
    /// The challenge this round sent.
    pub fn challenge(&self) -> &Challenge {
        &self.challenge
    }

    /// Accepts iff y is a unit below n and y² · ∏ I_j^{e_j} ≡ ±x (mod n). Consumes the round.
    ///
    /// x was checked to be a unit on receipt and the I_j are units, so when the equation holds
    /// y is necessarily a unit too; the gcd for y is computed only on the failing path, to
    /// report [`Error::NotCoprime`] rather than [`Error::CheckFailed`].
    pub fn verify(self, response: &Response) -> Result<(), Error> {
        let m = &*self.public.modulus.modulus;
        // y · y · R⁻¹ times the Montgomery forms of the I_j is y² · ∏ I_j^{e_j} · R⁻¹, the
        // form x was kept in: no conversion of x or y.
        let y = m.plain(&response.y)?;
        let z = product(m, m.square(&y), &self.public.identifiers, &self.challenge);
        if z == self.x || z == m.neg(&self.x) {
            Ok(())
        } else {
            m.plain_unit(&response.y)?;
            Err(Error::CheckFailed)
        }
    }
}

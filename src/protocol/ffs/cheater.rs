//! A prover without secrets, for the cheating mode: it wins a round only by guessing e.
//!
//! Before x is sent it guesses ê ∈ {0,1}^k, picks y uniformly and sends
//! x = ±y² · ∏ I_j^{ê_j} mod n. If Victor's e equals ê, then y² · ∏ I_j^{e_j} ≡ ±x and y
//! passes; otherwise the check fails (up to negligible coincidences). Per round it succeeds
//! with probability 2^−k, which the property tests measure.

use super::{Challenge, Commitment, PublicKey, Response, arith::Residue};
use crypto_bigint::rand_core::CryptoRng;

/// A cheating prover that only knows the public key.
#[derive(Clone, Debug)]
pub struct Cheater {
    public: PublicKey,
}

/// A cheater's committed round: its guess ê and the y it will send whatever e is.
#[derive(Debug)]
pub struct CheaterRound {
    guess: Challenge,
    y: Residue,
    public: PublicKey,
}

impl Cheater {
    /// A cheater against this public key.
    pub fn new(public: PublicKey) -> Self {
        Self { public }
    }

    /// The public key it pretends to hold the secrets of.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// Guesses ê, picks y and sends x = ±y² · ∏ I_j^{ê_j} mod n.
    pub fn commit<R: CryptoRng + ?Sized>(&self, rng: &mut R) -> (CheaterRound, Commitment) {
        let m = &*self.public.modulus.modulus;
        let k = self.public.k();
        let word = rng.next_u64();
        let guess = Challenge {
            bits: (0..k).map(|j| word >> j & 1 == 1).collect(),
        };
        // y is plain; y · y · R⁻¹ · ∏ I_j^{ê_j} (Montgomery forms) is y² · ∏ I_j^{ê_j} · R⁻¹,
        // and moving that into Montgomery form gives the plain x.
        // As the honest prover: a unit, so x is one too (it matters only on demo-sized n).
        let y = if self.public.is_demo() {
            m.random_unit(rng)
        } else {
            m.random(rng)
        };
        let negative = rng.next_u32() & 1 == 1;
        let z = self
            .public
            .identifiers
            .iter()
            .zip(&guess.bits)
            .filter(|(_, e)| **e);
        let z = z.fold(m.square(&y), |acc, (i, _)| m.mul(&acc, i));
        let x = m.integer(&m.signed(m.to_montgomery(&z), negative));
        (
            CheaterRound {
                guess,
                y,
                public: self.public.clone(),
            },
            Commitment { x },
        )
    }
}

impl CheaterRound {
    /// The guess ê made before x was sent.
    pub fn guess(&self) -> &Challenge {
        &self.guess
    }

    /// Whether Victor's challenge matched the guess (so the round will pass).
    pub fn guessed_right(&self, challenge: &Challenge) -> bool {
        self.guess == *challenge
    }

    /// Sends the prepared y, whatever the challenge: correct only if e = ê.
    pub fn respond(self, _challenge: &Challenge) -> Response {
        Response {
            y: self.public.modulus.modulus.integer(&self.y),
        }
    }
}

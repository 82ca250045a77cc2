//! The simulator: why a transcript teaches Victor nothing.
//!
//! A real round's transcript (x, e, y) comes from Peggy's secrets: x = ±r², then y = r·∏ s_j^{e_j}.
//! The [`Simulator`] makes transcripts of the same distribution **without any secret**, by
//! choosing the challenge first: e uniform in {0,1}^k, y uniform in [1, n − 1], a random sign,
//! and x = ±y²·∏ I_j^{e_j} mod n. Both pass Victor's check, and since y = r·S for a unit S is as
//! uniform as r, the two kinds cannot be told apart (the tests compare them with a chi-square
//! test on a small n). Whatever Victor could compute from a real transcript he could compute from
//! one he made himself: the protocol is zero-knowledge (honest-verifier). The simulator needs e
//! before x — exactly what a real Peggy cannot have, which is why Victor picks e only after x.
//!
//! It is the [`Cheater`] with its guess made true: the same code makes both.

use super::{Challenge, Cheater, Commitment, Error, Prover, PublicKey, Response, Verifier};
use crypto_bigint::rand_core::CryptoRng;
use serde::{Deserialize, Serialize};

/// One round as Victor sees it: commitment, challenge, response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transcript {
    pub x: Commitment,
    pub e: Challenge,
    pub y: Response,
}

impl Transcript {
    /// A real round: Peggy commits with a fresh r, Victor draws e, Peggy answers.
    pub fn real<R: CryptoRng + ?Sized>(prover: &Prover, rng: &mut R) -> Result<Self, Error> {
        let (round, x) = prover.commit(rng);
        let e = Challenge::random(rng, prover.public_key().k())?;
        let y = round.respond(&e)?;
        Ok(Self { x, e, y })
    }

    /// Victor's check of this transcript against `public`: the same code as a live round.
    pub fn verify(&self, public: &PublicKey) -> Result<(), Error> {
        Verifier::new(public.clone())
            .receive(&self.x)?
            .challenge_with(self.e.clone())?
            .verify(&self.y)
    }
}

/// Makes transcripts that verify, from the public key alone.
#[derive(Clone, Debug)]
pub struct Simulator {
    cheater: Cheater,
}

impl Simulator {
    /// A simulator for this public key.
    pub fn new(public: PublicKey) -> Self {
        Self {
            cheater: Cheater::new(public),
        }
    }

    /// e first, then y, then the x that makes (x, e, y) pass.
    pub fn simulate<R: CryptoRng + ?Sized>(&self, rng: &mut R) -> Transcript {
        let (round, x) = self.cheater.commit(rng);
        let e = round.guess().clone();
        let y = round.respond(&e);
        Transcript { x, e, y }
    }
}

#[cfg(test)]
mod tests;

//! A verifier's run of t rounds, its verdict and soundness error 2^−k·t.
//!
//! [`VerifierSession`] drives the round typestates of [`super::round`] behind a `&mut self`
//! API for callers that keep a session in a signal, a map or a socket loop. Messages out of
//! order are typed errors that leave the session where it was; a failed check, an invalid
//! value or a commitment x repeated within the run ends it with a rejecting [`Verdict`].

use super::{
    AwaitingChallenge, AwaitingResponse, Challenge, Commitment, Error, PublicKey, Response,
    Verifier, arith::Residue,
};
use crypto_bigint::rand_core::CryptoRng;
use std::collections::HashSet;

/// Largest number of rounds a session accepts.
pub const MAX_ROUNDS: u32 = 1024;
/// Soundness target of the default round count: k · t ≥ 40.
pub const TARGET_SOUNDNESS_BITS: u32 = 40;

/// The default t = ⌈40 / k⌉ (so k · t ≥ 40).
pub fn default_rounds(k: usize) -> u32 {
    let k = k.clamp(1, 64) as u32;
    TARGET_SOUNDNESS_BITS.div_ceil(k)
}

/// −log₂ of the soundness error: k · t bits.
pub fn soundness_bits(k: usize, t: u32) -> u32 {
    (k as u32).saturating_mul(t)
}

/// The soundness error 2^−k·t: the chance a prover without the secrets passes all t rounds.
pub fn soundness_error(k: usize, t: u32) -> f64 {
    0.5f64.powi(soundness_bits(k, t).min(i32::MAX as u32) as i32)
}

/// The outcome of a finished session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// Whether every one of the t rounds passed.
    pub accepted: bool,
    /// Rounds that passed before the verdict.
    pub rounds_passed: u32,
    /// Rounds the session asked for.
    pub rounds: u32,
    /// Secrets per round, for the soundness figure.
    pub k: usize,
    /// Why the session was rejected (`None` when accepted).
    pub reason: Option<Error>,
}

impl Verdict {
    /// The soundness error 2^−k·t of an accepting verdict.
    pub fn soundness_error(&self) -> f64 {
        soundness_error(self.k, self.rounds)
    }

    /// k · t.
    pub fn soundness_bits(&self) -> u32 {
        soundness_bits(self.k, self.rounds)
    }
}

/// Where the current round stands.
#[derive(Debug)]
enum Stage {
    AwaitingCommitment,
    AwaitingChallenge(AwaitingChallenge),
    AwaitingResponse(AwaitingResponse),
    Finished(Verdict),
}

/// Victor's state for one run of t rounds against one public key.
#[derive(Debug)]
pub struct VerifierSession {
    verifier: Verifier,
    rounds: u32,
    passed: u32,
    /// Every x of this run, in Montgomery form (canonical: fully reduced), so a repeat — a
    /// replayed transcript — fails the run; a set, so checking t rounds costs O(t), not O(t²).
    seen: HashSet<Residue>,
    stage: Stage,
}

impl VerifierSession {
    /// A session of t rounds (1..=1024); see [`default_rounds`].
    pub fn new(public: PublicKey, rounds: u32) -> Result<Self, Error> {
        if !(1..=MAX_ROUNDS).contains(&rounds) {
            return Err(Error::RoundCount);
        }
        let verifier = Verifier::new(public);
        Ok(Self {
            verifier,
            rounds,
            passed: 0,
            seen: HashSet::new(),
            stage: Stage::AwaitingCommitment,
        })
    }

    /// A session with the default t = ⌈40 / k⌉.
    pub fn with_default_rounds(public: PublicKey) -> Self {
        let rounds = default_rounds(public.k());
        Self {
            verifier: Verifier::new(public),
            rounds,
            passed: 0,
            seen: HashSet::new(),
            stage: Stage::AwaitingCommitment,
        }
    }

    /// Takes round i's commitment. A repeated x or an invalid x ends the run rejected.
    pub fn receive_commitment(&mut self, commitment: &Commitment) -> Result<(), Error> {
        match &self.stage {
            Stage::AwaitingCommitment => {}
            Stage::Finished(_) => return Err(Error::SessionFinished),
            _ => return Err(Error::SecondCommitment),
        }
        let round = self
            .verifier
            .receive(commitment)
            .map_err(|e| self.reject(e))?;
        if !self.seen.insert(round.x().clone()) {
            return Err(self.reject(Error::RepeatedCommitment));
        }
        self.stage = Stage::AwaitingChallenge(round);
        Ok(())
    }

    /// Draws the round's challenge (only after its commitment).
    pub fn challenge<R: CryptoRng + ?Sized>(&mut self, rng: &mut R) -> Result<Challenge, Error> {
        let round = self.take_awaiting_challenge()?;
        let (next, challenge) = round.challenge(rng);
        self.stage = Stage::AwaitingResponse(next);
        Ok(challenge)
    }

    /// Uses a person's chosen challenge (exactly k bits; only after the commitment).
    pub fn challenge_with(&mut self, challenge: Challenge) -> Result<(), Error> {
        let round = self.take_awaiting_challenge()?;
        if challenge.k() != self.verifier.public_key().k() {
            self.stage = Stage::AwaitingChallenge(round);
            return Err(Error::ChallengeLength);
        }
        self.stage = Stage::AwaitingResponse(round.challenge_with(challenge)?);
        Ok(())
    }

    /// Checks the round's response. `Ok(())` means the round passed; any error other than an
    /// out-of-order one ends the run rejected.
    pub fn receive_response(&mut self, response: &Response) -> Result<(), Error> {
        let round = match core::mem::replace(&mut self.stage, Stage::AwaitingCommitment) {
            Stage::AwaitingResponse(round) => round,
            other => {
                let error = match other {
                    Stage::Finished(_) => Error::SessionFinished,
                    _ => Error::ResponseBeforeChallenge,
                };
                self.stage = other;
                return Err(error);
            }
        };
        round.verify(response).map_err(|e| self.reject(e))?;
        self.passed += 1;
        if self.passed == self.rounds {
            self.stage = Stage::Finished(self.verdict_with(None));
        }
        Ok(())
    }

    /// The verdict, once every round passed or one failed.
    pub fn verdict(&self) -> Option<Verdict> {
        match self.stage {
            Stage::Finished(verdict) => Some(verdict),
            _ => None,
        }
    }

    /// Rounds t of this run.
    pub fn rounds(&self) -> u32 {
        self.rounds
    }

    /// Rounds passed so far.
    pub fn rounds_passed(&self) -> u32 {
        self.passed
    }

    /// The key under test.
    pub fn public_key(&self) -> &PublicKey {
        self.verifier.public_key()
    }

    fn take_awaiting_challenge(&mut self) -> Result<AwaitingChallenge, Error> {
        match core::mem::replace(&mut self.stage, Stage::AwaitingCommitment) {
            Stage::AwaitingChallenge(round) => Ok(round),
            other => {
                let error = match other {
                    Stage::Finished(_) => Error::SessionFinished,
                    Stage::AwaitingResponse(_) => Error::SecondCommitment,
                    _ => Error::ChallengeBeforeCommitment,
                };
                self.stage = other;
                Err(error)
            }
        }
    }

    fn reject(&mut self, reason: Error) -> Error {
        self.stage = Stage::Finished(self.verdict_with(Some(reason)));
        reason
    }

    fn verdict_with(&self, reason: Option<Error>) -> Verdict {
        Verdict {
            accepted: reason.is_none(),
            rounds_passed: self.passed,
            rounds: self.rounds,
            k: self.verifier.public_key().k(),
            reason,
        }
    }
}

//! Many runs at once, for the soundness statistics: a Peggy (honest, or bluffing without the
//! secrets) and a Victor run whole identifications against each other in memory, and a
//! [`Tally`] compares the measured acceptance rate with the theory.
//!
//! A Peggy without the secrets passes a round only if she guessed Victor's k challenge bits, so
//! she passes all t rounds with probability p = 2^−k·t. Over m independent runs the acceptance
//! count is binomial: the rate has mean p and standard deviation σ = √(p(1 − p)/m), and lands in
//! p ± 3σ in 99.7 % of batches. The round at which she is caught is geometric: round i with
//! probability (2^−k)^(i−1) · (1 − 2^−k).

use super::peggy::Proving;
use crate::protocol::ffs::{
    Cheater, Error, Prover, PublicKey, SecretKey, VerifierSession, rand_core::CryptoRng,
    soundness_error,
};

/// Largest batch the statistics accept (the page and the CLI bound their input by it).
pub const MAX_RUNS: u32 = 100_000;

/// Who Victor faces in a batch.
pub struct Contender {
    proving: Proving,
}

impl Contender {
    /// Peggy with her secrets: accepted every time.
    pub fn honest(key: &SecretKey) -> Self {
        Self {
            proving: Proving::Honest(Prover::new(key)),
        }
    }

    /// Peggy without them, guessing every challenge.
    pub fn cheating(public: PublicKey) -> Self {
        Self {
            proving: Proving::Cheating(Cheater::new(public)),
        }
    }

    /// One whole identification of `rounds` rounds against a fresh Victor.
    pub fn run<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        public: &PublicKey,
        rounds: u32,
    ) -> Result<RunOutcome, Error> {
        let mut victor = VerifierSession::new(public.clone(), rounds)?;
        loop {
            let (pending, commitment) = self.proving.commit(rng);
            victor.receive_commitment(&commitment)?;
            let challenge = victor.challenge(rng)?;
            // A cheater's answer is a well-formed number that fails the check; an honest one
            // passes. Either way the session records the round.
            let (response, _) = pending.respond(&challenge)?;
            let _ = victor.receive_response(&response);
            if let Some(verdict) = victor.verdict() {
                return Ok(RunOutcome {
                    accepted: verdict.accepted,
                    caught_at: (!verdict.accepted).then_some(verdict.rounds_passed + 1),
                });
            }
        }
    }
}

/// How one run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunOutcome {
    pub accepted: bool,
    /// The round whose check failed (1-based), for a rejected run.
    pub caught_at: Option<u32>,
}

/// The statistics of a batch so far.
#[derive(Clone, Debug, PartialEq)]
pub struct Tally {
    k: usize,
    rounds: u32,
    runs: u32,
    accepted: u32,
    /// `caught[i]`: runs caught in round i + 1.
    caught: Vec<u32>,
}

impl Tally {
    /// An empty tally for runs of `rounds` rounds with k secrets.
    pub fn new(k: usize, rounds: u32) -> Self {
        Self {
            k,
            rounds,
            runs: 0,
            accepted: 0,
            caught: vec![0; rounds as usize],
        }
    }

    /// Counts one run.
    pub fn record(&mut self, outcome: RunOutcome) {
        self.runs += 1;
        self.accepted += u32::from(outcome.accepted);
        if let Some(slot) = outcome
            .caught_at
            .and_then(|round| self.caught.get_mut(round.checked_sub(1)? as usize))
        {
            *slot += 1;
        }
    }

    /// Runs counted.
    pub fn runs(&self) -> u32 {
        self.runs
    }

    /// Runs Victor accepted.
    pub fn accepted(&self) -> u32 {
        self.accepted
    }

    /// Runs caught in each round 1 … t.
    pub fn caught(&self) -> &[u32] {
        &self.caught
    }

    /// k and t of the runs.
    pub fn shape(&self) -> (usize, u32) {
        (self.k, self.rounds)
    }

    /// The measured acceptance rate (0 before the first run).
    pub fn rate(&self) -> f64 {
        if self.runs == 0 {
            0.0
        } else {
            f64::from(self.accepted) / f64::from(self.runs)
        }
    }

    /// A cheater's theoretical acceptance probability 2^−k·t.
    pub fn expected(&self) -> f64 {
        soundness_error(self.k, self.rounds)
    }

    /// σ of the rate over `runs` runs if Peggy is a cheater.
    pub fn sigma_after(&self, runs: u32) -> f64 {
        let p = self.expected();
        if runs == 0 {
            return 0.5;
        }
        (p * (1.0 - p) / f64::from(runs)).sqrt()
    }

    /// σ of the rate so far.
    pub fn sigma(&self) -> f64 {
        self.sigma_after(self.runs)
    }

    /// How many σ the measured rate lies from a cheater's expectation.
    pub fn deviation(&self) -> f64 {
        let sigma = self.sigma();
        if sigma == 0.0 {
            return if self.rate() == self.expected() {
                0.0
            } else {
                f64::INFINITY
            };
        }
        (self.rate() - self.expected()).abs() / sigma
    }

    /// A cheater's theoretical share of caught runs in round i (1-based):
    /// (2^−k)^(i−1) · (1 − 2^−k), among all runs.
    pub fn expected_caught_share(&self, round: u32) -> f64 {
        let per_round = soundness_error(self.k, 1);
        per_round.powi(round.saturating_sub(1).min(i32::MAX as u32) as i32) * (1.0 - per_round)
    }
}

#[cfg(test)]
mod tests;

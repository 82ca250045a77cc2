//! Victor's side of a run: commitments in, challenges out, responses checked, the verdict.

use super::{
    Message, ProtocolError, Step,
    message::{check_round, check_rounds},
    wire::{ChallengeBits, WireNumber},
};
use crate::protocol::ffs::{
    self, Challenge, Commitment, PublicKey, Response, VerifierSession, rand_core::CryptoRng,
};

/// Something Victor's page shows.
#[derive(Clone, Debug, PartialEq)]
pub enum VictorEvent {
    /// Peggy committed x in `round`; a challenge is due.
    Committed { round: u32, x: WireNumber },
    /// Victor challenged with e.
    Challenged { round: u32, e: ChallengeBits },
    /// Peggy answered y; the check passed or failed.
    Checked {
        round: u32,
        y: WireNumber,
        passed: bool,
    },
    /// The run's outcome.
    Finished(ffs::Verdict),
}

/// The verifier's side of one run of t rounds.
pub struct VictorRun {
    session: VerifierSession,
    bits: u32,
    round: u32,
    /// A commitment arrived and no challenge went out yet.
    awaiting_challenge: bool,
    /// The challenge went out and no response came yet.
    awaiting_response: bool,
    finished: bool,
}

impl VictorRun {
    /// A run of `rounds` rounds against `public`, with the `start` message to send.
    pub fn new(public: PublicKey, rounds: u32) -> Result<(Self, Message), ProtocolError> {
        check_rounds(rounds)?;
        let bits = public.modulus().bits();
        let session = VerifierSession::new(public, rounds)
            .map_err(|e| ProtocolError::new(format!("cannot start: {e}")))?;
        Ok((
            Self {
                session,
                bits,
                round: 1,
                awaiting_challenge: false,
                awaiting_response: false,
                finished: false,
            },
            Message::Start { rounds },
        ))
    }

    /// k of the key under test.
    pub fn k(&self) -> usize {
        self.session.public_key().k()
    }

    /// t.
    pub fn rounds(&self) -> u32 {
        self.session.rounds()
    }

    /// The round in progress (1-based).
    pub fn round(&self) -> u32 {
        self.round
    }

    /// Whether a commitment waits for a challenge (from [`Self::challenge`] or
    /// [`Self::challenge_with`]).
    pub fn awaiting_challenge(&self) -> bool {
        self.awaiting_challenge
    }

    /// Whether the verdict went out.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Handles one message from Peggy (or the server). A response yields the round's `result`
    /// and, after the last round or a failed one, the `verdict`.
    pub fn handle(&mut self, message: Message) -> Result<Step<VictorEvent>, ProtocolError> {
        let round = self.round;
        let n_bits = self.bits;
        match message {
            Message::Paired { .. } => Ok(Step::default()),
            Message::Error { message, .. } => Err(ProtocolError::new(message)),
            Message::Unpaired { message } => Err(ProtocolError::new(format!(
                "the server unpaired this run, which it does to Peggys only: {message}"
            ))),
            Message::Commit { round: r, x }
                if !self.awaiting_challenge && !self.awaiting_response && !self.finished =>
            {
                check_round("a commitment", r, round)?;
                x.check_bits(n_bits)
                    .map_err(|e| ProtocolError::value("x", round, e))?;
                self.session
                    .receive_commitment(&Commitment::new(x.value().clone()))
                    .map_err(|e| ProtocolError::value("x", round, e))?;
                self.awaiting_challenge = true;
                Ok(Step::new(vec![VictorEvent::Committed { round, x }], vec![]))
            }
            Message::Response { round: r, y } if self.awaiting_response => {
                check_round("a response", r, round)?;
                y.check_bits(n_bits)
                    .map_err(|e| ProtocolError::value("y", round, e))?;
                self.awaiting_response = false;
                let passed = self
                    .session
                    .receive_response(&Response::new(y.value().clone()))
                    .is_ok();
                let mut events = vec![VictorEvent::Checked { round, y, passed }];
                let mut send = vec![Message::Result { round, passed }];
                if let Some(verdict) = self.session.verdict() {
                    self.finished = true;
                    events.push(VictorEvent::Finished(verdict));
                    send.push(Message::Verdict {
                        accepted: verdict.accepted,
                        rounds_passed: verdict.rounds_passed,
                        rounds: verdict.rounds,
                    });
                } else {
                    self.round += 1;
                }
                Ok(Step::new(events, send))
            }
            Message::Ack if self.finished => Ok(Step::default()),
            other => Err(ProtocolError::new(format!(
                "Peggy sent \"{}\" out of order (round {round})",
                other.kind()
            ))),
        }
    }

    /// Challenges the pending commitment with random bits.
    pub fn challenge<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
    ) -> Result<(VictorEvent, Message), ProtocolError> {
        self.check_challenge_due()?;
        let challenge = self
            .session
            .challenge(rng)
            .map_err(|e| ProtocolError::new(format!("cannot challenge: {e}")))?;
        Ok(self.challenged(challenge))
    }

    /// Challenges the pending commitment with bits a person chose (exactly k of them).
    pub fn challenge_with(
        &mut self,
        bits: Vec<bool>,
    ) -> Result<(VictorEvent, Message), ProtocolError> {
        self.check_challenge_due()?;
        if bits.len() != self.k() {
            return Err(ProtocolError::new(format!(
                "a challenge needs exactly k = {} bits, not {}",
                self.k(),
                bits.len()
            )));
        }
        let challenge = Challenge::from_bits(bits)
            .map_err(|e| ProtocolError::new(format!("cannot challenge: {e}")))?;
        self.session
            .challenge_with(challenge.clone())
            .map_err(|e| ProtocolError::new(format!("cannot challenge: {e}")))?;
        Ok(self.challenged(challenge))
    }

    fn check_challenge_due(&self) -> Result<(), ProtocolError> {
        if self.awaiting_challenge {
            Ok(())
        } else {
            Err(ProtocolError::new(
                "no commitment is waiting for a challenge",
            ))
        }
    }

    fn challenged(&mut self, challenge: Challenge) -> (VictorEvent, Message) {
        self.awaiting_challenge = false;
        self.awaiting_response = true;
        let e = ChallengeBits::from(challenge);
        let round = self.round;
        (
            VictorEvent::Challenged {
                round,
                e: e.clone(),
            },
            Message::Challenge { round, e },
        )
    }

    /// The verdict, once the run ended.
    pub fn verdict(&self) -> Option<ffs::Verdict> {
        self.session.verdict()
    }
}

//! Peggy's side of a run: proving with her secrets, or bluffing without them.

use super::{
    Message, ProtocolError,
    message::{check_challenge, check_round, check_rounds},
    wire::{ChallengeBits, WireNumber},
};
use crate::protocol::ffs::{
    self, Challenge, Cheater, CheaterRound, Commitment, PendingRound, Prover, PublicKey, Response,
    SecretKey, rand_core::CryptoRng,
};

/// Something Peggy's page shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeggyEvent {
    /// Victor asked for `rounds` rounds.
    Started { rounds: u32 },
    /// She committed x in `round`. A cheater also says which challenge ê she bet on; on a
    /// demo-sized modulus an honest Peggy's page also gets the nonce, to show x = ±r².
    Committed {
        round: u32,
        x: WireNumber,
        guess: Option<ChallengeBits>,
        nonce: Option<Nonce>,
    },
    /// She answered Victor's challenge e with y. A cheater's `guessed` says whether e was her ê,
    /// that is, whether this round will pass.
    Answered {
        round: u32,
        e: ChallengeBits,
        y: WireNumber,
        guessed: Option<bool>,
    },
    /// Victor's check of the round.
    Checked { round: u32, passed: bool },
    /// The run's outcome.
    Finished {
        accepted: bool,
        rounds_passed: u32,
        rounds: u32,
    },
    /// Victor's seat ended before the verdict (`message` says why); she waits for another Victor
    /// and the next run starts afresh.
    Unpaired { message: String },
}

/// A round's nonce r and the sign σ of x = (−1)^σ · r², for Peggy's own page.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Nonce {
    pub r: WireNumber,
    pub negative: bool,
}

/// The prover's side of one run. Her secrets stay in the [`Prover`]; each round's r lives in a
/// [`PendingRound`] that one response consumes. A cheating Peggy ([`PeggyRun::cheating`]) has
/// only the public key and bets on each challenge before she commits.
pub struct PeggyRun {
    prover: Proving,
    rounds: u32,
    round: u32,
    pending: Option<Pending>,
    /// The r and sign her next commitment uses instead of random ones (demo mode).
    chosen: Option<(ffs::BoxedUint, bool)>,
    finished: bool,
}

/// How Peggy proves: with her secrets, or by guessing.
pub(super) enum Proving {
    Honest(Prover),
    Cheating(Cheater),
}

/// A committed round, waiting for its challenge.
pub(super) enum Pending {
    Honest(PendingRound),
    Cheating(CheaterRound),
}

impl Proving {
    fn k(&self) -> usize {
        match self {
            Self::Honest(prover) => prover.public_key().k(),
            Self::Cheating(cheater) => cheater.public_key().k(),
        }
    }

    pub(super) fn commit<R: CryptoRng + ?Sized>(&self, rng: &mut R) -> (Pending, Commitment) {
        match self {
            Self::Honest(prover) => {
                let (round, commitment) = prover.commit(rng);
                (Pending::Honest(round), commitment)
            }
            Self::Cheating(cheater) => {
                let (round, commitment) = cheater.commit(rng);
                (Pending::Cheating(round), commitment)
            }
        }
    }

    fn public_key(&self) -> &PublicKey {
        match self {
            Self::Honest(prover) => prover.public_key(),
            Self::Cheating(cheater) => cheater.public_key(),
        }
    }
}

impl Pending {
    /// An honest round's nonce, as Peggy's page shows it.
    fn nonce(&self) -> Option<Nonce> {
        match self {
            Self::Honest(round) => {
                let (r, negative) = round.nonce();
                Some(Nonce {
                    r: WireNumber::new(r),
                    negative,
                })
            }
            Self::Cheating(_) => None,
        }
    }

    /// The cheater's bet ê.
    fn guess(&self) -> Option<ChallengeBits> {
        match self {
            Self::Honest(_) => None,
            Self::Cheating(round) => Some(round.guess().clone().into()),
        }
    }

    /// y, and for a cheater whether the challenge was her guess.
    pub(super) fn respond(
        self,
        challenge: &Challenge,
    ) -> Result<(Response, Option<bool>), ffs::Error> {
        match self {
            Self::Honest(round) => Ok((round.respond(challenge)?, None)),
            Self::Cheating(round) => {
                let guessed = round.guessed_right(challenge);
                Ok((round.respond(challenge), Some(guessed)))
            }
        }
    }
}

/// What a state machine wants done after a message: show `events`, then send `send` in order.
#[derive(Debug)]
pub struct Step<E> {
    pub events: Vec<E>,
    pub send: Vec<Message>,
}

impl<E> Default for Step<E> {
    fn default() -> Self {
        Self::new(Vec::new(), Vec::new())
    }
}

impl<E> Step<E> {
    pub(super) fn new(events: Vec<E>, send: Vec<Message>) -> Self {
        Self { events, send }
    }
}

impl PeggyRun {
    /// A run proving knowledge of `key`'s secrets.
    pub fn new(key: &SecretKey) -> Self {
        Self::with(Proving::Honest(Prover::new(key)))
    }

    /// A run by a Peggy without the secrets of `public`: each round she guesses ê, sends an x
    /// that passes only for e = ê, and survives the round with probability 2^−k.
    pub fn cheating(public: PublicKey) -> Self {
        Self::with(Proving::Cheating(Cheater::new(public)))
    }

    fn with(prover: Proving) -> Self {
        Self {
            prover,
            rounds: 0,
            round: 0,
            pending: None,
            chosen: None,
            finished: false,
        }
    }

    /// Whether this Peggy bluffs (has no secrets).
    pub fn is_cheating(&self) -> bool {
        matches!(self.prover, Proving::Cheating(_))
    }

    /// Makes her next commitment use the nonce `r` and sign `negative` (x = ±r²) instead of
    /// random ones, once: the demo mode's way to replay a textbook round. `r` must be a unit
    /// modulo n; a cheater has no use for it (she derives x from her guess).
    pub fn choose_nonce(&mut self, r: ffs::BoxedUint, negative: bool) -> Result<(), ffs::Error> {
        self.prover.public_key().modulus().check_unit(&r)?;
        if !self.is_cheating() {
            self.chosen = Some((r, negative));
        }
        Ok(())
    }

    fn commit<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
    ) -> Result<(PeggyEvent, Message), ProtocolError> {
        self.round += 1;
        let round = self.round;
        let (pending, commitment) = match (&self.prover, self.chosen.take()) {
            (Proving::Honest(prover), Some((r, negative))) => {
                let (pending, commitment) = prover
                    .commit_chosen(&r, negative)
                    .map_err(|err| ProtocolError::value("the chosen nonce", round, err))?;
                (Pending::Honest(pending), commitment)
            }
            (proving, _) => proving.commit(rng),
        };
        let guess = pending.guess();
        let nonce = if self.prover.public_key().is_demo() {
            pending.nonce()
        } else {
            None
        };
        self.pending = Some(pending);
        let x = WireNumber::new(commitment.x().clone());
        Ok((
            PeggyEvent::Committed {
                round,
                x: x.clone(),
                guess,
                nonce,
            },
            Message::Commit { round, x },
        ))
    }

    /// Handles one message from Victor (or the server). `unpaired` forgets the run so far: the
    /// next Victor's `start` begins a new one.
    pub fn handle<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        message: Message,
    ) -> Result<Step<PeggyEvent>, ProtocolError> {
        let k = self.prover.k();
        match message {
            Message::Paired { .. } => Ok(Step::default()),
            Message::Error { message, .. } => Err(ProtocolError::new(message)),
            Message::Unpaired { message } => {
                self.rounds = 0;
                self.round = 0;
                self.pending = None;
                self.finished = false;
                Ok(Step::new(vec![PeggyEvent::Unpaired { message }], vec![]))
            }
            Message::Start { rounds } if self.round == 0 && !self.finished => {
                check_rounds(rounds)?;
                self.rounds = rounds;
                let (event, send) = self.commit(rng)?;
                Ok(Step::new(
                    vec![PeggyEvent::Started { rounds }, event],
                    vec![send],
                ))
            }
            Message::Challenge { round, e } if self.pending.is_some() => {
                check_round("a challenge", round, self.round)?;
                check_challenge(&e, k, round)?;
                let pending = self
                    .pending
                    .take()
                    .ok_or_else(|| ProtocolError::new("a challenge arrived before a commitment"))?;
                let (response, guessed) = pending
                    .respond(e.challenge())
                    .map_err(|err| ProtocolError::value("the challenge", round, err))?;
                let y = WireNumber::new(response.y().clone());
                Ok(Step::new(
                    vec![PeggyEvent::Answered {
                        round,
                        e,
                        y: y.clone(),
                        guessed,
                    }],
                    vec![Message::Response { round, y }],
                ))
            }
            Message::Result { round, passed }
                if self.pending.is_none() && self.round > 0 && !self.finished =>
            {
                check_round("a result", round, self.round)?;
                let mut events = vec![PeggyEvent::Checked { round, passed }];
                let mut send = Vec::new();
                if passed && round < self.rounds {
                    let (event, message) = self.commit(rng)?;
                    events.push(event);
                    send.push(message);
                }
                Ok(Step::new(events, send))
            }
            Message::Verdict {
                accepted,
                rounds_passed,
                rounds,
            } if self.round > 0 && !self.finished => {
                self.finished = true;
                self.pending = None;
                Ok(Step::new(
                    vec![PeggyEvent::Finished {
                        accepted,
                        rounds_passed,
                        rounds,
                    }],
                    vec![Message::Ack],
                ))
            }
            other => Err(ProtocolError::new(format!(
                "Victor sent \"{}\" out of order (round {})",
                other.kind(),
                self.round
            ))),
        }
    }

    /// Whether the verdict arrived.
    pub fn is_finished(&self) -> bool {
        self.finished
    }
}

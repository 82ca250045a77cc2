//! Identify's wire protocol: the messages Peggy, Victor and the server exchange on a paired run,
//! and the three state machines that speak it.
//!
//! - [`Message`] — one JSON object per WebSocket text message, tagged by `"type"`.
//! - [`PeggyRun`] — the prover's side: answers `start`, `challenge`, `result` and `verdict`,
//!   with her secrets or, as a cheater who has only the public key, by guessing each challenge.
//! - [`VictorRun`] — the verifier's side on [`VictorRun::new`]'s `start`: takes commitments,
//!   issues challenges (random or chosen bit by bit), checks responses, sends the verdict.
//! - [`Referee`] — the server's view of one pairing: the order of the messages and the shape and
//!   range of every value, so a forged or out-of-order message ends the run with one clear error;
//!   and whose turn it is, so a stalled run blames the right party.
//!
//! One run, t rounds (i = 1 … t):
//!
//! ```text
//! Victor → Peggy   start     {rounds: t}
//! Peggy  → Victor  commit    {round: i, x}          x = ±r² mod n
//! Victor → Peggy   challenge {round: i, e}          e ∈ {0,1}^k as a string of k '0'/'1'
//! Peggy  → Victor  response  {round: i, y}          y = r·∏ s_j^{e_j} mod n
//! Victor → Peggy   result    {round: i, passed}     next round while passed and i < t
//! Victor → Peggy   verdict   {accepted, rounds_passed, rounds}
//! Peggy  → Victor  ack
//! ```
//!
//! When Victor's seat ends before the verdict the server tells Peggy `unpaired`; her
//! [`PeggyRun`] then starts afresh for the next Victor, who gets a new referee.
//!
//! Numbers are the FFS core's canonical lowercase hex ([`ffs::wire`]). Every function here is
//! pure: the state machines take an RNG from the caller and return the messages to send.

use super::ffs::{
    self, BlumModulus, Challenge, Cheater, CheaterRound, Commitment, PendingRound, Prover,
    PublicKey, Response, SecretKey, VerifierSession, rand_core::CryptoRng, wire,
};
use core::fmt;
use serde::{Deserialize, Serialize};

pub mod readable;
mod referee;
pub mod soundness;

pub use referee::{Progress, Referee};

/// Largest message a client may send (the largest honest one, a 4096-bit y, is about 1.1 KB).
pub const MAX_CLIENT_MESSAGE_BYTES: usize = 16 * 1024;

/// Who sent a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Party {
    Peggy,
    Victor,
}

impl fmt::Display for Party {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Peggy => "Peggy",
            Self::Victor => "Victor",
        })
    }
}

/// The Peggy a Victor is paired with, as the server describes her.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeggyCard {
    pub peggy_id: String,
    pub name: String,
    pub bits: u32,
    pub k: u32,
}

/// One message of a run. Its JSON is an object whose `"type"` names the variant in snake case;
/// unknown types and unknown or missing fields are refused.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Message {
    /// Server → both: the run has its two seats. Victor's copy names the Peggy and carries her
    /// registered public key; Peggy's copy has neither.
    Paired {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        peggy: Option<PeggyCard>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        public_key: Option<PublicKey>,
    },
    /// Server → client: the run ended because of `message`; the socket closes next.
    Error { code: String, message: String },
    /// Server → Peggy: her Victor's seat ended before the verdict because of `message`. She stays
    /// registered and connected, and waits for the next Victor (a new `paired`).
    Unpaired { message: String },
    /// Victor → Peggy: run `rounds` rounds.
    Start { rounds: u32 },
    /// Peggy → Victor: round `round`'s commitment x.
    Commit { round: u32, x: String },
    /// Victor → Peggy: round `round`'s challenge, k characters `0`/`1`.
    Challenge { round: u32, e: String },
    /// Peggy → Victor: round `round`'s response y.
    Response { round: u32, y: String },
    /// Victor → Peggy: whether round `round` passed.
    Result { round: u32, passed: bool },
    /// Victor → Peggy: the outcome of the run.
    Verdict {
        accepted: bool,
        rounds_passed: u32,
        rounds: u32,
    },
    /// Peggy → Victor: the verdict arrived; the run is over.
    Ack,
}

impl Message {
    /// The `"type"` of this message.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Paired { .. } => "paired",
            Self::Error { .. } => "error",
            Self::Unpaired { .. } => "unpaired",
            Self::Start { .. } => "start",
            Self::Commit { .. } => "commit",
            Self::Challenge { .. } => "challenge",
            Self::Response { .. } => "response",
            Self::Result { .. } => "result",
            Self::Verdict { .. } => "verdict",
            Self::Ack => "ack",
        }
    }

    /// Parses one message, refusing anything longer than `max_bytes` before reading it.
    pub fn parse(text: &str, max_bytes: usize) -> Result<Self, ProtocolError> {
        if text.len() > max_bytes {
            return Err(ProtocolError::new(format!(
                "a message of {} bytes is larger than the {max_bytes} allowed",
                text.len()
            )));
        }
        serde_json::from_str(text).map_err(|e| {
            let detail = e.to_string();
            if detail.contains("unknown variant") {
                ProtocolError::new(format!("unknown message type ({detail})"))
            } else {
                ProtocolError::new(format!("malformed message: {detail}"))
            }
        })
    }

    /// The JSON text of this message.
    pub fn to_json(&self) -> String {
        // Serializing these types cannot fail: every field is a string, a number, a bool or a
        // key whose wire form is strings and numbers.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Why a run cannot go on: a message out of order, malformed or out of range. The text is for
/// people and names the offending message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtocolError(String);

impl ProtocolError {
    fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }

    fn value(what: &str, round: u32, error: ffs::Error) -> Self {
        Self(format!("{what} of round {round} is invalid: {error}"))
    }

    /// The sentence.
    pub fn message(&self) -> &str {
        &self.0
    }
}

impl From<String> for ProtocolError {
    fn from(message: String) -> Self {
        Self(message)
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl core::error::Error for ProtocolError {}

/// Checks a number for this run: canonical hex, at most |n| bits, in [1, n − 1].
fn number_in_range(text: &str, n: &BlumModulus) -> Result<(), ffs::Error> {
    n.check_range(&wire::decode(text, n.bits())?)
}

fn check_rounds(rounds: u32) -> Result<(), ProtocolError> {
    if (1..=ffs::MAX_ROUNDS).contains(&rounds) {
        Ok(())
    } else {
        Err(ProtocolError::new(format!(
            "start asks for {rounds} rounds; allowed are 1 to {}",
            ffs::MAX_ROUNDS
        )))
    }
}

fn check_round(kind: &str, got: u32, expected: u32) -> Result<(), ProtocolError> {
    if got == expected {
        Ok(())
    } else {
        Err(ProtocolError::new(format!(
            "{kind} for round {got} arrived during round {expected}"
        )))
    }
}

fn challenge_of(e: &str, k: usize, round: u32) -> Result<Challenge, ProtocolError> {
    let bits = e
        .bytes()
        .take(ffs::MAX_K + 1)
        .map(|c| match c {
            b'0' => Ok(false),
            b'1' => Ok(true),
            _ => Err(ffs::Error::ChallengeLength),
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| ProtocolError::value("the challenge", round, err))?;
    if bits.len() != k || e.len() != k {
        return Err(ProtocolError::new(format!(
            "the challenge of round {round} has {} bits; this key has k = {k}",
            e.len()
        )));
    }
    Challenge::from_bits(bits).map_err(|err| ProtocolError::value("the challenge", round, err))
}

fn bits_text(challenge: &Challenge) -> String {
    challenge
        .bits()
        .iter()
        .map(|&b| if b { '1' } else { '0' })
        .collect()
}

fn unexpected(from: Party, message: &Message, expected: &str) -> ProtocolError {
    ProtocolError::new(format!(
        "{from} sent \"{}\" but the run expects {expected}",
        message.kind()
    ))
}

// ------------------------------------------------------------------ Peggy

/// Something Peggy's page shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeggyEvent {
    /// Victor asked for `rounds` rounds.
    Started { rounds: u32 },
    /// She committed x in `round`. A cheater also says which challenge ê she bet on; on a
    /// demo-sized modulus an honest Peggy's page also gets the nonce, to show x = ±r².
    Committed {
        round: u32,
        x: String,
        guess: Option<String>,
        nonce: Option<Nonce>,
    },
    /// She answered Victor's challenge e with y. A cheater's `guessed` says whether e was her ê,
    /// that is, whether this round will pass.
    Answered {
        round: u32,
        e: String,
        y: String,
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

/// A round's nonce r (wire hex) and the sign σ of x = (−1)^σ · r², for Peggy's own page.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Nonce {
    pub r: String,
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
enum Proving {
    Honest(Prover),
    Cheating(Cheater),
}

/// A committed round, waiting for its challenge.
enum Pending {
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

    fn commit<R: CryptoRng + ?Sized>(&self, rng: &mut R) -> (Pending, Commitment) {
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
                    r: wire::encode(&r),
                    negative,
                })
            }
            Self::Cheating(_) => None,
        }
    }

    /// The cheater's bet ê, as wire bits.
    fn guess(&self) -> Option<String> {
        match self {
            Self::Honest(_) => None,
            Self::Cheating(round) => Some(bits_text(round.guess())),
        }
    }

    /// y, and for a cheater whether the challenge was her guess.
    fn respond(self, challenge: &Challenge) -> Result<(Response, Option<bool>), ffs::Error> {
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
    fn new(events: Vec<E>, send: Vec<Message>) -> Self {
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
        let x = wire::encode(commitment.x());
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
                let challenge = challenge_of(&e, k, round)?;
                let pending = self
                    .pending
                    .take()
                    .ok_or_else(|| ProtocolError::new("a challenge arrived before a commitment"))?;
                let (response, guessed) = pending
                    .respond(&challenge)
                    .map_err(|err| ProtocolError::value("the challenge", round, err))?;
                let y = wire::encode(response.y());
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

// ------------------------------------------------------------------ Victor

/// Something Victor's page shows.
#[derive(Clone, Debug, PartialEq)]
pub enum VictorEvent {
    /// Peggy committed x in `round`; a challenge is due.
    Committed { round: u32, x: String },
    /// Victor challenged with e.
    Challenged { round: u32, e: String },
    /// Peggy answered y; the check passed or failed.
    Checked { round: u32, y: String, passed: bool },
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
                let value =
                    wire::decode(&x, n_bits).map_err(|e| ProtocolError::value("x", round, e))?;
                self.session
                    .receive_commitment(&Commitment::new(value))
                    .map_err(|e| ProtocolError::value("x", round, e))?;
                self.awaiting_challenge = true;
                Ok(Step::new(vec![VictorEvent::Committed { round, x }], vec![]))
            }
            Message::Response { round: r, y } if self.awaiting_response => {
                check_round("a response", r, round)?;
                let value =
                    wire::decode(&y, n_bits).map_err(|e| ProtocolError::value("y", round, e))?;
                self.awaiting_response = false;
                let passed = self.session.receive_response(&Response::new(value)).is_ok();
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
        Ok(self.challenged(&challenge))
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
        Ok(self.challenged(&challenge))
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

    fn challenged(&mut self, challenge: &Challenge) -> (VictorEvent, Message) {
        self.awaiting_challenge = false;
        self.awaiting_response = true;
        let e = bits_text(challenge);
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

#[cfg(test)]
mod tests;

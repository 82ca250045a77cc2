//! The server's referee: its view of one pairing of a run.
//!
//! Every client message must be the one the run expects next, from the party that sends it, with
//! values of the right shape and range. The referee does not verify the mathematics (Victor
//! does); it keeps either side from confusing the other, and it says whose turn it is
//! ([`Referee::expecting`]), so the server can blame the right party when a step times out, and
//! whether Peggy still owes a reply when her Victor leaves.

use super::{
    MAX_CLIENT_MESSAGE_BYTES, Message, Party, ProtocolError,
    message::{check_challenge, check_round, check_rounds, unexpected},
};
use crate::protocol::ffs::{BlumModulus, PublicKey};
use std::collections::HashSet;

/// Where a run stands, as the server sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Start,
    Commit,
    Challenge,
    Response,
    Result,
    Verdict,
    Ack,
    Done,
}

/// What the server does with a message the referee let through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// Forward it; the run goes on.
    Continue,
    /// Forward it; the run is over (Peggy acknowledged the verdict).
    Finished,
}

/// The server's check of a run in progress (see the module documentation).
#[derive(Clone, Debug)]
pub struct Referee {
    n: BlumModulus,
    k: usize,
    stage: Stage,
    round: u32,
    rounds: u32,
    passed: u32,
    /// Every x of the run, as its canonical bytes (one byte string per value): a repeat is
    /// found in O(1).
    seen: HashSet<Box<[u8]>>,
}

impl Referee {
    /// A referee for a run against `public`.
    pub fn new(public: &PublicKey) -> Self {
        Self {
            n: public.modulus().clone(),
            k: public.k(),
            stage: Stage::Start,
            round: 0,
            rounds: 0,
            passed: 0,
            seen: HashSet::new(),
        }
    }

    /// Checks one message `from` a party; `Err` ends the run.
    pub fn check(&mut self, from: Party, text: &str) -> Result<Progress, ProtocolError> {
        let message = Message::parse(text, MAX_CLIENT_MESSAGE_BYTES)?;
        self.check_message(from, &message)
    }

    /// Checks one parsed message `from` a party; `Err` ends the run. A refused message leaves
    /// the referee as it was.
    pub fn check_message(
        &mut self,
        from: Party,
        message: &Message,
    ) -> Result<Progress, ProtocolError> {
        use Party::{Peggy, Victor};
        let round = self.round;
        match (self.stage, from, message) {
            (_, _, Message::Paired { .. } | Message::Unpaired { .. } | Message::Error { .. }) => {
                return Err(ProtocolError::new(format!(
                    "{from} sent \"{}\", which only the server sends",
                    message.kind()
                )));
            }
            (Stage::Start, Victor, Message::Start { rounds }) => {
                check_rounds(*rounds)?;
                self.rounds = *rounds;
                self.round = 1;
                self.stage = Stage::Commit;
            }
            (Stage::Commit, Peggy, Message::Commit { round: r, x }) => {
                check_round("a commitment", *r, round)?;
                x.check_range(&self.n)
                    .map_err(|e| ProtocolError::value("x", round, e))?;
                if !self.seen.insert(x.canonical_bytes()) {
                    return Err(ProtocolError::new(format!(
                        "x of round {round} repeats an earlier commitment of this run"
                    )));
                }
                self.stage = Stage::Challenge;
            }
            (Stage::Challenge, Victor, Message::Challenge { round: r, e }) => {
                check_round("a challenge", *r, round)?;
                check_challenge(e, self.k, round)?;
                self.stage = Stage::Response;
            }
            (Stage::Response, Peggy, Message::Response { round: r, y }) => {
                check_round("a response", *r, round)?;
                y.check_range(&self.n)
                    .map_err(|e| ProtocolError::value("y", round, e))?;
                self.stage = Stage::Result;
            }
            (Stage::Result, Victor, Message::Result { round: r, passed }) => {
                check_round("a result", *r, round)?;
                if *passed {
                    self.passed += 1;
                }
                if *passed && round < self.rounds {
                    self.round += 1;
                    self.stage = Stage::Commit;
                } else {
                    self.stage = Stage::Verdict;
                }
            }
            (
                Stage::Verdict,
                Victor,
                Message::Verdict {
                    accepted,
                    rounds_passed,
                    rounds,
                },
            ) => {
                let honest = *accepted == (self.passed == self.rounds)
                    && *rounds_passed == self.passed
                    && *rounds == self.rounds;
                if !honest {
                    return Err(ProtocolError::new(format!(
                        "the verdict does not match the run: {} of {} rounds passed",
                        self.passed, self.rounds
                    )));
                }
                self.stage = Stage::Ack;
            }
            (Stage::Ack, Peggy, Message::Ack) => {
                self.stage = Stage::Done;
                return Ok(Progress::Finished);
            }
            (_, from, message) => return Err(unexpected(from, message, &self.expected())),
        }
        Ok(Progress::Continue)
    }

    /// Whose message the run waits for: Victor's start, challenge, result or verdict; Peggy's
    /// commitment, response or acknowledgement; `None` once the run is over. Each message of
    /// Victor's that Peggy must answer makes it her turn, so when it is her turn she owes
    /// exactly one message to what was forwarded to her.
    pub fn expecting(&self) -> Option<Party> {
        match self.stage {
            Stage::Start | Stage::Challenge | Stage::Result | Stage::Verdict => Some(Party::Victor),
            Stage::Commit | Stage::Response | Stage::Ack => Some(Party::Peggy),
            Stage::Done => None,
        }
    }

    /// The message the run waits for, in words ("Victor's challenge for round 2").
    pub fn expected(&self) -> String {
        let round = self.round;
        match self.stage {
            Stage::Start => "Victor's start".to_owned(),
            Stage::Commit => format!("Peggy's commitment for round {round}"),
            Stage::Challenge => format!("Victor's challenge for round {round}"),
            Stage::Response => format!("Peggy's response for round {round}"),
            Stage::Result => format!("Victor's result for round {round}"),
            Stage::Verdict => "Victor's verdict".to_owned(),
            Stage::Ack => "Peggy's acknowledgement".to_owned(),
            Stage::Done => "nothing more".to_owned(),
        }
    }

    /// Whether Victor's verdict went through (Peggy knows the outcome).
    pub fn verdict_sent(&self) -> bool {
        matches!(self.stage, Stage::Ack | Stage::Done)
    }

    /// Whether the run is over.
    pub fn is_done(&self) -> bool {
        self.stage == Stage::Done
    }
}

//! The messages of a run, who sends them, and why one is refused.

use super::wire::{ChallengeBits, Lexed, WireNumber};
use crate::protocol::ffs::{self, PublicKey};
use core::fmt;
use serde::{Deserialize, Serialize};

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
/// unknown types and unknown or missing fields are refused. Numbers are [`WireNumber`]s and
/// challenges [`ChallengeBits`], parsed once when the message is read.
pub type Message = MessageOf<WireNumber, ChallengeBits>;

/// A [`Message`] with its numbers of type `N` and its challenge of type `E`: parsed values in a
/// [`Message`]; while [`Message::parse`] reads one, each value's own outcome, so a malformed value
/// is refused naming its round.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum MessageOf<N, E> {
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
    Commit { round: u32, x: N },
    /// Victor → Peggy: round `round`'s challenge, k characters `0`/`1`.
    Challenge { round: u32, e: E },
    /// Peggy → Victor: round `round`'s response y.
    Response { round: u32, y: N },
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

impl<N, E> MessageOf<N, E> {
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
}

impl Message {
    /// Parses one message, refusing anything longer than `max_bytes` before reading it. Every
    /// number and challenge is parsed here, once, its length bounded before it is decoded; a
    /// malformed one is refused naming its round.
    pub fn parse(text: &str, max_bytes: usize) -> Result<Self, ProtocolError> {
        if text.len() > max_bytes {
            return Err(ProtocolError::new(format!(
                "a message of {} bytes is larger than the {max_bytes} allowed",
                text.len()
            )));
        }
        serde_json::from_str::<MessageOf<Lexed<WireNumber>, Lexed<ChallengeBits>>>(text)
            .map_err(|e| {
                let detail = e.to_string();
                if detail.contains("unknown variant") {
                    ProtocolError::new(format!("unknown message type ({detail})"))
                } else {
                    ProtocolError::new(format!("malformed message: {detail}"))
                }
            })?
            .checked()
    }

    /// The JSON text of this message.
    pub fn to_json(&self) -> String {
        // Serializing these types cannot fail: every field is a string, a number, a bool or a
        // key whose wire form is strings and numbers.
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl MessageOf<Lexed<WireNumber>, Lexed<ChallengeBits>> {
    /// The message with its values, or the first value that is not one.
    fn checked(self) -> Result<Message, ProtocolError> {
        fn value<T>(what: &str, round: u32, lexed: Lexed<T>) -> Result<T, ProtocolError> {
            lexed
                .0
                .map_err(|error| ProtocolError::value(what, round, error))
        }
        Ok(match self {
            Self::Paired { peggy, public_key } => Message::Paired { peggy, public_key },
            Self::Error { code, message } => Message::Error { code, message },
            Self::Unpaired { message } => Message::Unpaired { message },
            Self::Start { rounds } => Message::Start { rounds },
            Self::Commit { round, x } => Message::Commit {
                round,
                x: value("x", round, x)?,
            },
            Self::Challenge { round, e } => Message::Challenge {
                round,
                e: value("the challenge", round, e)?,
            },
            Self::Response { round, y } => Message::Response {
                round,
                y: value("y", round, y)?,
            },
            Self::Result { round, passed } => Message::Result { round, passed },
            Self::Verdict {
                accepted,
                rounds_passed,
                rounds,
            } => Message::Verdict {
                accepted,
                rounds_passed,
                rounds,
            },
            Self::Ack => Message::Ack,
        })
    }
}

/// Why a run cannot go on: a message out of order, malformed or out of range. The text is for
/// people and names the offending message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtocolError(String);

impl ProtocolError {
    pub(super) fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }

    pub(super) fn value(what: &str, round: u32, error: ffs::Error) -> Self {
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

pub(super) fn check_rounds(rounds: u32) -> Result<(), ProtocolError> {
    if (1..=ffs::MAX_ROUNDS).contains(&rounds) {
        Ok(())
    } else {
        Err(ProtocolError::new(format!(
            "start asks for {rounds} rounds; allowed are 1 to {}",
            ffs::MAX_ROUNDS
        )))
    }
}

pub(super) fn check_round(kind: &str, got: u32, expected: u32) -> Result<(), ProtocolError> {
    if got == expected {
        Ok(())
    } else {
        Err(ProtocolError::new(format!(
            "{kind} for round {got} arrived during round {expected}"
        )))
    }
}

/// Checks that a challenge has this key's k bits.
pub(super) fn check_challenge(
    e: &ChallengeBits,
    k: usize,
    round: u32,
) -> Result<(), ProtocolError> {
    if e.k() == k {
        Ok(())
    } else {
        Err(ProtocolError::new(format!(
            "the challenge of round {round} has {} bits; this key has k = {k}",
            e.k()
        )))
    }
}

pub(super) fn unexpected(from: Party, message: &Message, expected: &str) -> ProtocolError {
    ProtocolError::new(format!(
        "{from} sent \"{}\" but the run expects {expected}",
        message.kind()
    ))
}

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
//! Numbers are [`WireNumber`]s (the FFS core's canonical lowercase hex) and challenges
//! [`ChallengeBits`], each parsed once, when [`Message::parse`] reads its message. Every function
//! here is pure: the state machines take an RNG from the caller and return the messages to send.

mod message;
mod peggy;
pub mod readable;
mod referee;
pub mod soundness;
mod victor;
mod wire;

pub use message::{MAX_CLIENT_MESSAGE_BYTES, Message, MessageOf, Party, PeggyCard, ProtocolError};
pub use peggy::{Nonce, PeggyEvent, PeggyRun, Step};
pub use referee::{Progress, Referee};
pub use victor::{VictorEvent, VictorRun};
pub use wire::{ChallengeBits, WireNumber};

#[cfg(test)]
mod tests;

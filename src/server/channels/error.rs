//! Why the channel table refused a call, and what the client hears of it: the one place where
//! table failures become [`ApiError`]s.

use super::MAX_NAME_LEN;
use crate::api::{ApiError, ErrorCode};

/// A refusal of the channel table itself (a use's own refusals are [`ApiError`]s already).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ChannelError {
    /// No such channel, or one this address may not use: the two read the same.
    #[error("no such channel, or it is not open to you")]
    NotYours,
    /// The uuid proves no seat on the channel.
    #[error("the uuid does not hold a seat on this channel")]
    NotYourSeat,
    /// The channel ended while the caller waited on it.
    #[error("the channel was closed")]
    Closed,
    /// The table holds its most channels.
    #[error("the relay is full")]
    Full,
    /// A channel of that name is open.
    #[error("a channel with this name is open already")]
    NameTaken,
    /// The seat asked for is taken (asked from an address already on the channel).
    #[error("that seat of the channel is already taken")]
    SeatTaken,
    /// The name is not 1–64 of `a-z A-Z 0-9 - _`.
    #[error("a bad channel name")]
    BadName,
}

impl From<ChannelError> for ApiError {
    fn from(err: ChannelError) -> Self {
        use ChannelError::*;
        match err {
            NotYours => ApiError::new(
                ErrorCode::NotFound,
                "no such channel, or it is not open to you: check the phrase; if it is right, \
                 someone else joined this channel — ask the sender to start again",
            ),
            NotYourSeat => ApiError::new(
                ErrorCode::Forbidden,
                "the uuid does not hold a seat on this channel",
            ),
            Closed => ApiError::new(ErrorCode::NotFound, "the channel was closed"),
            Full => ApiError::new(ErrorCode::Unavailable, "the relay is full; try again later"),
            NameTaken => ApiError::new(
                ErrorCode::Conflict,
                "a channel with this name is open already",
            ),
            SeatTaken => ApiError::new(
                ErrorCode::Conflict,
                "that seat of the channel is already taken",
            ),
            BadName => ApiError::invalid(format!(
                "a channel name is 1 to {MAX_NAME_LEN} letters, digits, '-' or '_'"
            )),
        }
    }
}

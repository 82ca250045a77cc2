//! What lets a cut transfer go on (data version 3, docs/PROTOCOL.md "Resume"): how an attempt
//! fails ([`Failure`]: a dropped connection is tried again, anything else is final), how often
//! and how soon to reconnect ([`reconnect_after`]), a new data connection of the same seat
//! ([`Link`]), the per-connection keys from fresh nonces ([`Keys::exchange`]),
//! and content a sender can read again from the start ([`Content`]).

use super::{Api, Endpoint, connect_data};
use crate::{
    api::relay::{RelayClient, Seat, TransferError, handshake::Confirmed},
    protocol::relay::{CONNECTION_NONCE, Direction, SharedKey},
};
use rand::{RngCore, rngs::OsRng};
use std::{
    io::{self, Cursor, Read, Seek},
    time::Duration,
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// Reconnections after dropped data connections, per transfer.
const RECONNECTS: u32 = 5;
/// Wait before the first reconnection; doubled for each next one (0.5, 1, 2, 4, 8 s).
const FIRST_BACKOFF: Duration = Duration::from_millis(500);

/// Why one data connection's attempt ended without the transfer being done.
#[derive(Debug)]
pub(super) enum Failure {
    /// The connection broke (reset, closed early, stalled): reconnect and resume.
    Dropped(String),
    /// Anything else (a forged frame, a refusal, a mismatch): give up with this error.
    Fatal(TransferError),
}

impl Failure {
    /// The error to report when no further attempt is made.
    pub(super) fn into_error(self) -> TransferError {
        match self {
            Failure::Dropped(why) => why.into(),
            Failure::Fatal(e) => e,
        }
    }
}

impl From<TransferError> for Failure {
    fn from(e: TransferError) -> Self {
        Failure::Fatal(e)
    }
}

impl From<String> for Failure {
    fn from(e: String) -> Self {
        Failure::Fatal(e.into())
    }
}

impl From<&str> for Failure {
    fn from(e: &str) -> Self {
        Failure::Fatal(e.into())
    }
}

/// The data version the relay said both sides speak, and the two keys of this connection.
pub(super) struct Keys {
    /// 2 (no resume, no trailer) or 3.
    pub(super) version: u8,
    pub(super) sender_to_recipient: [u8; 32],
    pub(super) recipient_to_sender: [u8; 32],
}

impl Keys {
    /// Version 2: the channel's one pair of data keys.
    pub(super) fn v2(key: &SharedKey, channel: &str) -> Self {
        Self {
            version: 2,
            sender_to_recipient: key.data_key(channel, Direction::SenderToRecipient),
            recipient_to_sender: key.data_key(channel, Direction::RecipientToSender),
        }
    }

    /// Version 3: each side sends [`CONNECTION_NONCE`] fresh random bytes in clear, and this
    /// connection's keys are derived from k with both (`SharedKey::connection_key`).
    pub(super) async fn exchange(
        stream: &mut TcpStream,
        key: &SharedKey,
        channel: &str,
        sender: bool,
    ) -> Result<Self, Failure> {
        let mut mine = [0u8; CONNECTION_NONCE];
        OsRng.fill_bytes(&mut mine);
        let mut theirs = [0u8; CONNECTION_NONCE];
        let exchanged = async {
            stream.write_all(&mine).await?;
            stream.read_exact(&mut theirs).await.map(|_| ())
        };
        tokio::time::timeout(Duration::from_secs(30), exchanged)
            .await
            .map_err(|_| Failure::Dropped("the other side sent no connection nonce".into()))?
            .map_err(|e| Failure::Dropped(format!("starting the connection: {e}")))?;
        let (s, r) = if sender {
            (&mine, &theirs)
        } else {
            (&theirs, &mine)
        };
        Ok(Self {
            version: 3,
            sender_to_recipient: key.connection_key(channel, Direction::SenderToRecipient, s, r),
            recipient_to_sender: key.connection_key(channel, Direction::RecipientToSender, s, r),
        })
    }
}

/// What every data connection of one transfer is made from: the relay, the seat and the
/// confirmed key.
pub(super) struct Link<'a> {
    pub(super) api: &'a RelayClient<Api>,
    pub(super) endpoint: &'a Endpoint,
    pub(super) seat: &'a Seat,
    pub(super) confirmed: &'a Confirmed,
}

impl Link<'_> {
    /// A new data connection with its keys, as a blocking socket.
    pub(super) async fn connect(
        &self,
        sender: bool,
    ) -> std::result::Result<(std::net::TcpStream, Keys), Failure> {
        let (mut stream, version) =
            connect_data(self.api, self.endpoint, self.seat, &self.confirmed.h_k).await?;
        let channel = &self.seat.channel;
        let keys = match version {
            3 => Keys::exchange(&mut stream, &self.confirmed.key, channel, sender).await?,
            _ => Keys::v2(&self.confirmed.key, channel),
        };
        Ok((super::frames::blocking(stream)?, keys))
    }
}

impl Link<'_> {
    /// Runs `state`'s half of the transfer (`run`, on a blocking thread) over as many data
    /// connections as it takes: until it succeeds, fails for good, or drops once too often.
    /// Hands the state back (unless its thread failed) for the caller to use or discard.
    pub(super) async fn carry<S: Send + 'static>(
        &self,
        sender: bool,
        mut state: S,
        run: fn(&mut S, std::net::TcpStream, &Keys) -> Result<(), Failure>,
    ) -> (Option<S>, super::Result<()>) {
        let mut reconnects = 0;
        loop {
            let failure = match self.connect(sender).await {
                Ok((stream, keys)) => {
                    let joined = tokio::task::spawn_blocking(move || {
                        let result = run(&mut state, stream, &keys);
                        (state, result.map_err(|f| (f, keys.version)))
                    })
                    .await;
                    let Ok((back, result)) = joined else {
                        return (None, Err("the data connection's thread failed".into()));
                    };
                    state = back;
                    match result {
                        Ok(()) => return (Some(state), Ok(())),
                        // Version 2 cannot resume.
                        Err((failure, 2)) => return (Some(state), Err(failure.into_error())),
                        Err((failure, _)) => failure,
                    }
                }
                Err(failure) => failure,
            };
            if let Err(e) = reconnect_after(&mut reconnects, failure).await {
                return (Some(state), Err(e));
            }
        }
    }
}

/// Waits before the next reconnection after `failure`, or says why there is none.
async fn reconnect_after(reconnects: &mut u32, failure: Failure) -> super::Result<()> {
    match failure {
        Failure::Dropped(why) if *reconnects < RECONNECTS => {
            let wait = FIRST_BACKOFF * 2u32.pow(*reconnects);
            *reconnects += 1;
            eprintln!(
                "the data connection dropped ({why}); reconnecting in {:.1} s ({} of {RECONNECTS})",
                wait.as_secs_f64(),
                *reconnects
            );
            tokio::time::sleep(wait).await;
            Ok(())
        }
        Failure::Dropped(why) => {
            Err(format!("{why} (gave up after {RECONNECTS} reconnections)").into())
        }
        Failure::Fatal(e) => Err(e),
    }
}

/// What a sender sends, readable again from its start: a file, the bytes of a text or of
/// standard input (kept in memory, so they can be sent again), or several files back to back.
pub(super) trait Content: Read + Send {
    /// Goes back to the first byte.
    fn restart(&mut self) -> io::Result<()>;
}

impl Content for std::fs::File {
    fn restart(&mut self) -> io::Result<()> {
        self.rewind()
    }
}

impl Content for Cursor<Vec<u8>> {
    fn restart(&mut self) -> io::Result<()> {
        self.set_position(0);
        Ok(())
    }
}

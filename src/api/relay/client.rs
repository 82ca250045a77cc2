//! The one client of the Relay's routes, typed by [`super`]'s contract, over a caller's
//! [`Transport`]: reqwest in the CLI and the tests, `fetch` in the browser.

use super::{
    ChannelValues, CloseRequest, DataOpen, Done, HkReply, OpenRequest, Opened, PostHk, PostValues,
    Role, RoleField, YReply,
};
use crate::{
    api::{ApiError, ErrorCode},
    protocol::relay,
};
use serde::{
    Deserialize, Serialize,
    de::{DeserializeOwned, IntoDeserializer, value::StrDeserializer},
};

/// Long-poll length per request (the server caps it at [`super::MAX_WAIT_SECS`]).
pub const POLL_SECS: u64 = 25;

/// How a client reaches the relay: one HTTP request, a JSON body or none.
// The futures need not be `Send`: the browser's are not, and each client awaits them in place.
#[allow(async_fn_in_trait)]
pub trait Transport {
    /// `POST path` with `body` (JSON text) when there is one, else `GET path`. Returns the HTTP
    /// status and the reply's text; fails only when the relay could not be reached.
    async fn request(&self, path: &str, body: Option<String>) -> Result<(u16, String), String>;
}

/// Whom a long poll waits for (named in [`TransferError::GaveUp`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    Sender,
    Recipient,
    SendersConfirmation,
}

impl Peer {
    fn describe(self) -> &'static str {
        match self {
            Peer::Sender => "the sender",
            Peer::Recipient => "the recipient",
            Peer::SendersConfirmation => "the sender's confirmation",
        }
    }
}

/// Why a transfer failed, as the person at either end should hear it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransferError {
    #[error("cannot reach the relay: {0}")]
    Unreachable(String),
    #[error("the relay sent something unreadable")]
    Unreadable,
    #[error("the relay refused: {0}")]
    Refused(ApiError),
    #[error("gave up waiting for {}", .0.describe())]
    GaveUp(Peer),
    /// The sender's exchange failed: the recipient's half did not match the code.
    #[error("{}", someone_else_joined(*contested))]
    SomeoneElseJoined { contested: bool },
    /// The recipient's channel went away before the sender confirmed.
    #[error("the sender ended the exchange: probably a wrong code")]
    SenderEnded,
    /// The recipient's key confirmation failed.
    #[error("the sender used a different code; nothing was received")]
    WrongCode,
    #[error("{0}")]
    Protocol(#[from] relay::Error),
    /// Anything on this side: a file, the data connection, the page.
    #[error("{0}")]
    Local(String),
}

impl TransferError {
    /// Whether starting again on a fresh channel (and code) is the remedy.
    pub fn start_again(&self) -> bool {
        matches!(self, TransferError::SomeoneElseJoined { .. })
    }
}

/// Starts every message of a failed exchange on the sender's side.
pub const START_AGAIN: &str = "someone else joined this channel";

fn someone_else_joined(contested: bool) -> String {
    if contested {
        format!("{START_AGAIN} — start again (your recipient was turned away; nothing was sent)")
    } else {
        format!("{START_AGAIN}, or the code was mistyped — start again (nothing was sent)")
    }
}

impl From<String> for TransferError {
    fn from(text: String) -> Self {
        TransferError::Local(text)
    }
}

impl From<&str> for TransferError {
    fn from(text: &str) -> Self {
        TransferError::Local(text.to_owned())
    }
}

impl From<TransferError> for String {
    fn from(err: TransferError) -> Self {
        err.to_string()
    }
}

/// A seat on a channel: its name and the uuid that proves the seat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seat {
    pub channel: String,
    pub uuid: String,
    pub role: Role,
}

/// What every reply starts with; a failure adds its code.
#[derive(Deserialize)]
struct Envelope {
    success: bool,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// Reads a reply: its fields when the relay says `success`, else the relay's refusal.
fn read_reply<R: DeserializeOwned>(status: u16, text: &str) -> Result<R, TransferError> {
    let envelope: Envelope = serde_json::from_str(text).map_err(|_| TransferError::Unreadable)?;
    if envelope.success && (200..300).contains(&status) {
        return serde_json::from_str(text).map_err(|_| TransferError::Unreadable);
    }
    // A code this client does not know yet reads as the server's own failure.
    let code = envelope
        .code
        .and_then(|c| {
            let de: StrDeserializer<'_, serde::de::value::Error> = c.as_str().into_deserializer();
            ErrorCode::deserialize(de).ok()
        })
        .unwrap_or(ErrorCode::Internal);
    Err(TransferError::Refused(ApiError::new(
        code,
        envelope
            .message
            .unwrap_or_else(|| format!("status {status}")),
    )))
}

/// The Relay's routes over `T`.
pub struct RelayClient<T> {
    transport: T,
    /// Long polls before a wait gives up; `None`: wait as long as the person does.
    max_polls: Option<u32>,
}

impl<T: Transport> RelayClient<T> {
    pub fn new(transport: T) -> Self {
        Self {
            transport,
            max_polls: None,
        }
    }

    /// Gives up a wait for the other side after about `secs` seconds of long polls.
    pub fn giving_up_after(mut self, secs: u64) -> Self {
        self.max_polls = Some(secs.div_ceil(POLL_SECS).max(1) as u32);
        self
    }

    async fn call<R: DeserializeOwned>(
        &self,
        path: &str,
        body: Option<&impl Serialize>,
    ) -> Result<R, TransferError> {
        let body = match body {
            Some(b) => Some(serde_json::to_string(b).map_err(|e| e.to_string())?),
            None => None,
        };
        let (status, text) = self
            .transport
            .request(path, body)
            .await
            .map_err(TransferError::Unreachable)?;
        read_reply(status, &text)
    }

    async fn post<R: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> Result<R, TransferError> {
        self.call(path, Some(body)).await
    }

    async fn get<R: DeserializeOwned>(&self, path: &str) -> Result<R, TransferError> {
        self.call(path, None::<&Done>).await
    }

    /// Long-polls `path` (which has its query already) until the value is there.
    async fn wait<R: DeserializeOwned>(&self, path: &str, peer: Peer) -> Result<R, TransferError> {
        let mut polls = 0u32;
        loop {
            match self.get(&format!("{path}&wait={POLL_SECS}")).await {
                Err(TransferError::Refused(e)) if e.code == ErrorCode::NotYet => {}
                done => return done,
            }
            polls += 1;
            if self.max_polls.is_some_and(|max| polls >= max) {
                return Err(TransferError::GaveUp(peer));
            }
        }
    }

    /// Takes the sender's seat: on `channel` if given, else on a new random channel.
    pub async fn open_sender(&self, channel: Option<&str>) -> Result<Seat, TransferError> {
        self.open(channel, Role::Sender).await
    }

    /// Takes the recipient's seat on `channel`.
    pub async fn open_recipient(&self, channel: &str) -> Result<Seat, TransferError> {
        self.open(Some(channel), Role::Recipient).await
    }

    /// Takes `role`'s seat; without a channel (a sender only) the request is `{}`.
    async fn open(&self, channel: Option<&str>, role: Role) -> Result<Seat, TransferError> {
        let request = OpenRequest {
            channel: channel.map(str::to_owned),
            role: channel.map(|_| RoleField::Known(role)),
        };
        let opened: Opened = self.post("/open", &request).await?;
        if channel.is_some_and(|asked| asked != opened.channel) {
            return Err(TransferError::Unreadable);
        }
        Ok(Seat {
            channel: opened.channel,
            uuid: opened.uuid,
            role,
        })
    }

    /// Posts this seat's SPAKE2 values.
    pub async fn post_values(&self, seat: &Seat, values: &PostValues) -> Result<(), TransferError> {
        let _: Done = self
            .post(&format!("/channel/{}", seat.channel), values)
            .await?;
        Ok(())
    }

    /// The recipient waits for the sender's `x`.
    pub async fn wait_values(&self, seat: &Seat) -> Result<ChannelValues, TransferError> {
        let path = format!("/channel/{}?uuid={}", seat.channel, seat.uuid);
        self.wait(&path, Peer::Sender).await
    }

    /// The sender waits for the recipient's `y` and `hh_k`.
    pub async fn wait_y(&self, seat: &Seat) -> Result<YReply, TransferError> {
        let path = format!("/sender/{}/y?uuid={}", seat.channel, seat.uuid);
        self.wait(&path, Peer::Recipient).await
    }

    /// The sender confirms the key.
    pub async fn post_h_k(&self, seat: &Seat, h_k: &str) -> Result<(), TransferError> {
        let body = PostHk {
            uuid: seat.uuid.clone(),
            h_k: h_k.to_owned(),
        };
        let _: Done = self
            .post(&format!("/sender/{}/h_k", seat.channel), &body)
            .await?;
        Ok(())
    }

    /// The recipient waits for the sender's confirmation.
    pub async fn wait_h_k(&self, seat: &Seat) -> Result<HkReply, TransferError> {
        let path = format!("/recipient/{}/h_k?uuid={}", seat.channel, seat.uuid);
        self.wait(&path, Peer::SendersConfirmation).await
    }

    /// Asks the relay to open the data plane for this seat.
    pub async fn open_data(&self, seat: &Seat) -> Result<DataOpen, TransferError> {
        let path = format!(
            "/{}/{}/open?uuid={}",
            seat.role.as_str(),
            seat.channel,
            seat.uuid
        );
        self.get(&path).await
    }

    /// Closes the channel (either seat may); failures are ignored, the channel expires anyway.
    pub async fn close(&self, seat: &Seat) {
        let body = CloseRequest {
            uuid: seat.uuid.clone(),
        };
        let _ = self
            .post::<Done>(&format!("/close/{}", seat.channel), &body)
            .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::{cell::RefCell, collections::VecDeque};

    /// A relay that answers from a script and records what it was asked.
    #[derive(Default)]
    struct Scripted {
        replies: RefCell<VecDeque<(u16, &'static str)>>,
        asked: RefCell<Vec<(String, Option<String>)>>,
    }

    impl Transport for &Scripted {
        async fn request(&self, path: &str, body: Option<String>) -> Result<(u16, String), String> {
            self.asked.borrow_mut().push((path.to_owned(), body));
            let (status, text) = self
                .replies
                .borrow_mut()
                .pop_front()
                .ok_or("connection refused")?;
            Ok((status, text.to_owned()))
        }
    }

    /// Polls a future that never waits on anything but the script to its end.
    fn run<F: Future>(f: F) -> F::Output {
        use std::task::{Context, Poll, Waker};
        let mut f = std::pin::pin!(f);
        let mut cx = Context::from_waker(Waker::noop());
        loop {
            if let Poll::Ready(out) = f.as_mut().poll(&mut cx) {
                return out;
            }
        }
    }

    const NOT_YET: &str = r#"{"success":false,"code":"not_yet","message":"y is not there yet"}"#;

    #[test]
    fn a_long_poll_asks_again_on_not_yet_and_gives_up_when_told() {
        let relay = Scripted::default();
        relay.replies.borrow_mut().extend([
            (404, NOT_YET),
            (404, NOT_YET),
            (
                200,
                r#"{"success":true,"message":"got y","y":"42ab","hh_k":"cd","contested":true}"#,
            ),
        ]);
        let client = RelayClient::new(&relay);
        let seat = Seat {
            channel: "482193-cedar".into(),
            uuid: "u1".into(),
            role: Role::Sender,
        };
        let y = run(client.wait_y(&seat)).unwrap();
        assert_eq!(
            y,
            YReply {
                y: "42ab".into(),
                hh_k: "cd".into(),
                contested: true
            }
        );
        assert_eq!(relay.asked.borrow().len(), 3);
        assert_eq!(
            relay.asked.borrow()[0].0,
            format!("/sender/482193-cedar/y?uuid=u1&wait={POLL_SECS}")
        );

        // Two polls' worth of patience: the third "not yet" is never asked for.
        relay.replies.borrow_mut().extend([(404, NOT_YET); 3]);
        let patient = RelayClient::new(&relay).giving_up_after(2 * POLL_SECS);
        assert_eq!(
            run(patient.wait_y(&seat)).unwrap_err(),
            TransferError::GaveUp(Peer::Recipient)
        );
        assert_eq!(relay.replies.borrow().len(), 1);
    }

    #[test]
    fn refusals_carry_the_relays_code_and_a_not_found_is_not_a_not_yet() {
        let relay = Scripted::default();
        relay.replies.borrow_mut().extend([
            (
                404,
                r#"{"success":false,"code":"not_found","message":"no such channel"}"#,
            ),
            (
                400,
                r#"{"success":false,"code":"from_the_future","message":"new"}"#,
            ),
            (
                200,
                r#"{"success":true,"message":"got channel","channel":"1"}"#,
            ),
            (502, "<html>bad gateway</html>"),
        ]);
        let client = RelayClient::new(&relay);
        let seat = Seat {
            channel: "c".into(),
            uuid: "u".into(),
            role: Role::Recipient,
        };
        let gone = run(client.wait_h_k(&seat)).unwrap_err();
        assert_eq!(
            gone,
            TransferError::Refused(ApiError::new(ErrorCode::NotFound, "no such channel"))
        );
        assert_eq!(relay.asked.borrow().len(), 1);
        let TransferError::Refused(unknown) = run(client.open_sender(None)).unwrap_err() else {
            panic!("a refusal");
        };
        assert_eq!(
            (unknown.code, unknown.message.as_str()),
            (ErrorCode::Internal, "new")
        );
        // A success without the reply's fields, and a page that is not JSON, are unreadable.
        assert_eq!(
            run(client.open_sender(None)).unwrap_err(),
            TransferError::Unreadable
        );
        assert_eq!(
            run(client.open_data(&seat)).unwrap_err(),
            TransferError::Unreadable
        );
        assert!(matches!(
            run(client.open_data(&seat)).unwrap_err(),
            TransferError::Unreachable(_)
        ));
        // The bodies sent are the contract's: the open without a channel is `{}`.
        assert_eq!(
            relay.asked.borrow()[1],
            ("/open".to_owned(), Some("{}".to_owned()))
        );
    }

    #[test]
    fn the_start_again_error_is_known_by_its_variant_and_reads_as_before() {
        let err = TransferError::SomeoneElseJoined { contested: false };
        assert!(err.start_again());
        assert!(err.to_string().starts_with(START_AGAIN));
        assert!(err.to_string().contains("mistyped"));
        assert!(!TransferError::WrongCode.start_again());
    }
}

//! The Relay's HTTP contract: every request body and reply of the routes in
//! `server::relay`, as types the server, the CLI and the browser all compile.
//!
//! A reply is one JSON object. On success it is `{"success": true, "message": …}` plus the
//! fields of its reply type (flattened, so the wire stays what docs/PROTOCOL.md shows); on failure
//! `{"success": false, "code", "message"}` with the [`ErrorCode`]'s status. A long poll whose value
//! is not there yet fails with [`ErrorCode::NotYet`]: clients ask again, nobody reads the text.
//!
//! [`RelayClient`] is the one client of these routes, over any [`Transport`] (reqwest in the CLI,
//! `fetch` in the browser); [`handshake`] runs SPAKE2 and key confirmation over it.

use super::{ApiError, ErrorCode};
use serde::{Deserialize, Serialize};

mod client;
pub mod handshake;

pub use client::{POLL_SECS, Peer, RelayClient, START_AGAIN, Seat, TransferError, Transport};

/// Longest a GET waits (`wait` query parameter, seconds) for a value to appear.
pub const MAX_WAIT_SECS: u64 = 30;

/// Which seat of a channel: the sender (seat A) or the recipient (seat B).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Sender,
    Recipient,
}

impl Role {
    /// The role as it appears in paths (`/sender/…`, `/recipient/…`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Sender => "sender",
            Role::Recipient => "recipient",
        }
    }

    /// The role named in a path, if it is one.
    pub fn from_path(segment: &str) -> Option<Role> {
        match segment {
            "sender" => Some(Role::Sender),
            "recipient" => Some(Role::Recipient),
            _ => None,
        }
    }
}

// ------------------------------------------------------------------ requests

/// `POST /open`: take a seat. No channel and no role: the sender's seat on a new random channel.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<RoleField>,
}

/// The role a request names: one of ours, or a string the server refuses as an invalid value
/// (not as a malformed body).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RoleField {
    Known(Role),
    Other(String),
}

/// `POST /channel/{channel}`: the sender posts `x` and `curve`, the recipient `y` and `hh_k`.
/// One type for both so the server can tell a wrong combination from a malformed body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostValues {
    pub uuid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub curve: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hh_k: Option<String>,
}

impl PostValues {
    /// The sender's SPAKE2 message.
    pub fn sender(uuid: &str, x: String, curve: &str) -> Self {
        Self {
            uuid: uuid.to_owned(),
            x: Some(x),
            curve: Some(curve.to_owned()),
            y: None,
            hh_k: None,
        }
    }

    /// The recipient's SPAKE2 message and its key confirmation.
    pub fn recipient(uuid: &str, y: String, hh_k: String) -> Self {
        Self {
            uuid: uuid.to_owned(),
            x: None,
            curve: None,
            y: Some(y),
            hh_k: Some(hh_k),
        }
    }
}

/// `POST /sender/{channel}/h_k`: the sender's key confirmation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostHk {
    pub uuid: String,
    pub h_k: String,
}

/// `POST /close/{channel}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    pub uuid: String,
}

/// The query of every seat's GET: `?uuid=…[&wait=seconds]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeatQuery {
    pub uuid: String,
    #[serde(default)]
    pub wait: Option<u64>,
}

// ------------------------------------------------------------------ replies

/// A successful reply: `success: true`, a sentence, and the reply's own fields beside them.
#[derive(Debug, Clone, Serialize)]
pub struct Reply<T> {
    pub success: bool,
    pub message: &'static str,
    #[serde(flatten)]
    pub body: T,
}

impl<T> Reply<T> {
    pub fn ok(message: &'static str, body: T) -> Self {
        Self {
            success: true,
            message,
            body,
        }
    }
}

/// A failed reply: `{"success": false, "code", "message"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub success: bool,
    pub code: ErrorCode,
    pub message: String,
}

impl From<ApiError> for Failure {
    fn from(err: ApiError) -> Self {
        Self {
            success: false,
            code: err.code,
            message: err.message,
        }
    }
}

/// A reply with nothing but `success` and `message`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Done {}

/// `POST /open`: the seat taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Opened {
    pub channel: String,
    pub uuid: String,
}

/// `GET /channel/{channel}`: the channel's public values so far (`null` until set).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelValues {
    pub channel: String,
    pub curve: Option<String>,
    pub x: Option<String>,
    pub y: Option<String>,
    pub hh_k: Option<String>,
    pub h_k: Option<String>,
    pub isready: bool,
}

/// `GET /sender/{channel}/y`: the recipient's message, and whether a stranger was turned away.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct YReply {
    pub y: String,
    pub hh_k: String,
    /// Older relays do not say; absent reads as not contested.
    #[serde(default)]
    pub contested: bool,
}

/// `GET /recipient/{channel}/h_k`: the sender's key confirmation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HkReply {
    pub h_k: String,
}

/// `GET /{role}/{channel}/open`: where the data connection goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataOpen {
    /// The raw TCP data port (`None` when the server has none).
    pub data_port: Option<u16>,
    /// The WebSocket path for browsers.
    pub data_path: String,
}

/// `GET /{role}/{channel}/isready`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ready {
    pub isready: bool,
}

/// The error for a long poll whose value has not arrived: `what` names it.
pub fn not_yet(what: &str) -> ApiError {
    ApiError::new(ErrorCode::NotYet, format!("{what} is not there yet"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_flatten_to_the_documented_objects() {
        let reply = Reply::ok(
            "got y",
            YReply {
                y: "42aa".into(),
                hh_k: "bb".into(),
                contested: false,
            },
        );
        assert_eq!(
            serde_json::to_string(&reply).unwrap(),
            r#"{"success":true,"message":"got y","y":"42aa","hh_k":"bb","contested":false}"#
        );
        let failure = Failure::from(not_yet("y"));
        assert_eq!(
            serde_json::to_string(&failure).unwrap(),
            r#"{"success":false,"code":"not_yet","message":"y is not there yet"}"#
        );
        assert_eq!(
            serde_json::to_string(&Reply::ok("stored", Done {})).unwrap(),
            r#"{"success":true,"message":"stored"}"#
        );
    }

    #[test]
    fn requests_serialize_only_what_each_side_sends_and_refuse_strays() {
        let x = PostValues::sender("u1", "41ab".into(), "ed25519");
        assert_eq!(
            serde_json::to_string(&x).unwrap(),
            r#"{"uuid":"u1","x":"41ab","curve":"ed25519"}"#
        );
        let y = PostValues::recipient("u2", "42cd".into(), "ee".into());
        assert_eq!(
            serde_json::to_string(&y).unwrap(),
            r#"{"uuid":"u2","y":"42cd","hh_k":"ee"}"#
        );
        assert_eq!(
            serde_json::to_string(&OpenRequest::default()).unwrap(),
            "{}"
        );
        let open = OpenRequest {
            channel: Some("482193-cedar".into()),
            role: Some(RoleField::Known(Role::Recipient)),
        };
        assert_eq!(
            serde_json::to_string(&open).unwrap(),
            r#"{"channel":"482193-cedar","role":"recipient"}"#
        );
        for stray in [
            r#"{"uuid":"u","h_k":"aa","extra":1}"#,
            r#"{"uuid":"u"}"#,
            r#"{"uuid":1,"h_k":"aa"}"#,
        ] {
            assert!(serde_json::from_str::<PostHk>(stray).is_err(), "{stray}");
        }
        let boss: OpenRequest = serde_json::from_str(r#"{"role":"boss"}"#).unwrap();
        assert_eq!(boss.role, Some(RoleField::Other("boss".into())));
        assert!(serde_json::from_str::<OpenRequest>(r#"{"role":7}"#).is_err());
        // An old relay that does not say whether the seat was contested.
        let old: YReply =
            serde_json::from_str(r#"{"success":true,"message":"got y","y":"42","hh_k":"aa"}"#)
                .unwrap();
        assert!(!old.contested);
    }

    #[test]
    fn roles_read_from_paths() {
        for role in [Role::Sender, Role::Recipient] {
            assert_eq!(Role::from_path(role.as_str()), Some(role));
        }
        assert_eq!(Role::from_path("boss"), None);
        assert_eq!(Role::from_path("Sender"), None);
    }
}

//! The data connection's own messages: the hello that opens it, the recipient's answer to a
//! manifest (stream version 2) and its acknowledgement (the plaintexts of its sealed frames
//! back); for data version 3 (resumable) the recipient's [`Resume`] that opens every
//! connection and the sender's [`Trailer`] that ends the content with its SHA-256.

use crate::protocol::hex;
use serde::{Deserialize, Serialize};

/// The data-connection version this code speaks: 2 = the AES-256-GCM frames of [`super::Sealer`].
pub const DATA_VERSION: &str = "2";

/// The resumable data version: each connection starts with fresh [`CONNECTION_NONCE`] bytes
/// from both sides (keys of its own, [`super::SharedKey::connection_key`]), the recipient says
/// where to go on ([`Resume`]), and the content ends with a [`Trailer`].
pub const RESUMABLE_DATA_VERSION: &str = "3";
/// Random bytes each side sends in clear right after the relay's `ok 3`.
pub const CONNECTION_NONCE: usize = 32;
/// Largest [`Resume`] or [`Trailer`] plaintext read.
pub const MAX_CONTROL: usize = 1024;

/// The hello that opens a data connection (a line on TCP, without its `\n`; a text message on
/// WebSocket): the seat it claims and the key confirmation that proves the exchange.
pub fn data_hello(channel: &str, uuid: &str, h_k: &str) -> String {
    format!("zkrelay-data {DATA_VERSION} {channel} {uuid} {h_k}")
}

/// The hello of a resumable (version 3) data connection; the relay answers `ok 3` if the other
/// side said 3 too, `ok 2` if it speaks version 2 (then so does this side, without resume).
pub fn resumable_data_hello(channel: &str, uuid: &str, h_k: &str) -> String {
    format!("zkrelay-data {RESUMABLE_DATA_VERSION} {channel} {uuid} {h_k}")
}

/// The recipient's first sealed frame on every version-3 connection: `offset` = bytes of
/// content it has verified and kept, or `null` when it has no header (or no accepted manifest)
/// yet and the sender starts from the beginning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resume {
    pub offset: Option<u64>,
}

impl Resume {
    pub fn encode(self) -> Vec<u8> {
        serde_json::to_vec(&self).unwrap_or_default()
    }

    /// A received resume message (at most [`MAX_CONTROL`] bytes, no other fields).
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        (bytes.len() <= MAX_CONTROL)
            .then(|| serde_json::from_slice(bytes).ok())
            .flatten()
    }
}

/// The sender's final frame in version 3, after the content (whose frames are all non-final):
/// the SHA-256 of the whole content once the transfer has resumed, so that a file resumed from
/// a kept partial is proven identical to the sender's; `null` for a transfer that never
/// resumed, which its one connection's frames prove alone (and which then costs no hashing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trailer {
    /// 64 lowercase hex digits, or `null`.
    pub sha256: Option<String>,
}

impl Trailer {
    pub fn encode(digest: Option<&[u8; 32]>) -> Vec<u8> {
        serde_json::to_vec(&Trailer {
            sha256: digest.map(|d| hex::encode(d)),
        })
        .unwrap_or_default()
    }

    /// The digest a received trailer names (`Some(None)` for `null`); `None` if it is not a
    /// trailer.
    pub fn decode(bytes: &[u8]) -> Option<Option<[u8; 32]>> {
        if bytes.len() > MAX_CONTROL {
            return None;
        }
        let trailer: Trailer = serde_json::from_slice(bytes).ok()?;
        let Some(text) = trailer.sha256 else {
            return Some(None);
        };
        let mut digest = [0u8; 32];
        hex::decode_lower(&text, &mut digest).map(|()| Some(digest))
    }
}

/// The recipient's acknowledgement: everything arrived (`ok`) and how many bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    pub ok: bool,
    pub received: u64,
}

impl Ack {
    /// The acknowledgement for `received` bytes, as JSON.
    pub fn for_received(received: u64) -> Vec<u8> {
        serde_json::to_vec(&Ack { ok: true, received }).unwrap_or_default()
    }

    /// The refusal of a complete stream whose content does not match the sender's digest.
    pub fn mismatch(received: u64) -> Vec<u8> {
        serde_json::to_vec(&Ack {
            ok: false,
            received,
        })
        .unwrap_or_default()
    }

    /// Whether `plaintext` acknowledges exactly `total` bytes.
    pub fn confirms(plaintext: &[u8], total: u64) -> bool {
        serde_json::from_slice::<Ack>(plaintext).is_ok_and(|ack| ack.ok && ack.received == total)
    }
}

/// The recipient's answer to a manifest, before any content is sent: `{"accepted": true}` in a
/// frame that is not final (the content follows, then the [`Ack`] as the final frame), or
/// `{"accepted": false}` as the final frame (nothing more comes; the sender stops).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    pub accepted: bool,
}

impl Answer {
    pub fn encode(accepted: bool) -> Vec<u8> {
        serde_json::to_vec(&Answer { accepted }).unwrap_or_default()
    }

    /// Whether `plaintext` is an answer that accepts; anything else is a refusal.
    pub fn accepts(plaintext: &[u8]) -> bool {
        serde_json::from_slice::<Answer>(plaintext).is_ok_and(|a| a.accepted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ack_confirms_its_own_count_only() {
        let ack = Ack::for_received(5);
        assert_eq!(ack, br#"{"ok":true,"received":5}"#);
        assert!(Ack::confirms(&ack, 5));
        assert!(!Ack::confirms(&ack, 6));
        assert!(!Ack::confirms(br#"{"ok":false,"received":5}"#, 5));
        assert!(!Ack::confirms(br#"{"received":5}"#, 5));
        assert!(!Ack::confirms(b"", 0));
        assert_eq!(data_hello("c", "u", "h"), "zkrelay-data 2 c u h");
        assert_eq!(Answer::encode(true), br#"{"accepted":true}"#);
        assert!(Answer::accepts(&Answer::encode(true)));
        assert!(!Answer::accepts(&Answer::encode(false)));
        assert!(!Answer::accepts(br#"{"accepted":true,"x":1}"#));
        assert!(!Answer::accepts(b""));
    }

    #[test]
    fn resume_and_trailer_messages_are_strict() {
        let resume = Resume { offset: Some(7) };
        assert_eq!(resume.encode(), br#"{"offset":7}"#);
        assert_eq!(Resume::decode(&resume.encode()), Some(resume));
        assert_eq!(
            Resume::decode(br#"{"offset":null}"#),
            Some(Resume { offset: None })
        );
        assert_eq!(Resume::decode(br#"{"offset":1,"x":2}"#), None);
        assert_eq!(Resume::decode(br#"{"offset":-1}"#), None);
        let digest = [0xab; 32];
        assert_eq!(
            Trailer::decode(&Trailer::encode(Some(&digest))),
            Some(Some(digest))
        );
        assert_eq!(Trailer::decode(br#"{"sha256":null}"#), Some(None));
        assert_eq!(Trailer::decode(br#"{}"#), Some(None));
        let upper = format!(r#"{{"sha256":"{}"}}"#, "AB".repeat(32));
        assert_eq!(Trailer::decode(upper.as_bytes()), None);
        assert_eq!(Trailer::decode(br#"{"sha256":"ab"}"#), None);
        assert!(!Ack::confirms(&Ack::mismatch(3), 3));
        assert_eq!(resumable_data_hello("c", "u", "h"), "zkrelay-data 3 c u h");
    }
}

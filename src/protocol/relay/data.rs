//! The data connection's own messages: the hello that opens it, the recipient's answer to a
//! manifest (stream version 2) and its acknowledgement (the plaintexts of its sealed frames
//! back).

use serde::{Deserialize, Serialize};

/// The data-connection version this code speaks: 2 = the AES-256-GCM frames of [`super::Sealer`].
pub const DATA_VERSION: &str = "2";

/// The hello that opens a data connection (a line on TCP, without its `\n`; a text message on
/// WebSocket): the seat it claims and the key confirmation that proves the exchange.
pub fn data_hello(channel: &str, uuid: &str, h_k: &str) -> String {
    format!("zkrelay-data {DATA_VERSION} {channel} {uuid} {h_k}")
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
}

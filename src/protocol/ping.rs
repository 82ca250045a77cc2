//! The reachability check: the page sends `ping`, the server answers `pong` with the same nonce.
//!
//! It is the smallest message exchange over the server's WebSocket, used by the home page to show
//! that the relay answers and how long a round trip takes.

use serde::{Deserialize, Serialize};

/// Largest ping message the server accepts; a longer one is refused (close code 1008) unparsed.
pub const MAX_PING_FRAME: usize = 256;

/// A message of the ping socket, as JSON text: `{"type":"ping","nonce":7}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum PingMessage {
    /// Page → server.
    Ping {
        /// Chosen by the page to match the answer to its question.
        nonce: u64,
    },
    /// Server → page, echoing the nonce.
    Pong { nonce: u64 },
}

impl PingMessage {
    /// Decodes one text frame, bounding its size first.
    pub fn decode(text: &str) -> Option<Self> {
        if text.len() > MAX_PING_FRAME {
            return None;
        }
        serde_json::from_str(text).ok()
    }

    /// The server's answer to a message: a `pong` for a `ping`, nothing for anything else.
    pub fn answer(self) -> Option<Self> {
        match self {
            PingMessage::Ping { nonce } => Some(PingMessage::Pong { nonce }),
            PingMessage::Pong { .. } => None,
        }
    }

    /// The JSON text of this message.
    pub fn encode(&self) -> String {
        // Serializing a two-field enum to a String cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ping_is_answered_with_its_nonce() {
        let ping = PingMessage::decode(r#"{"type":"ping","nonce":42}"#).unwrap();
        assert_eq!(ping.answer(), Some(PingMessage::Pong { nonce: 42 }));
        assert_eq!(
            ping.answer().unwrap().encode(),
            r#"{"type":"pong","nonce":42}"#
        );
    }

    #[test]
    fn bad_frames_are_refused() {
        assert_eq!(PingMessage::decode("not json"), None);
        assert_eq!(PingMessage::decode(r#"{"type":"ping"}"#), None);
        assert_eq!(PingMessage::decode(r#"{"type":"ping","nonce":-1}"#), None);
        assert_eq!(
            PingMessage::decode(r#"{"type":"ping","nonce":1,"x":2}"#),
            None
        );
        let long = format!(
            r#"{{"type":"ping","nonce":1{}}}"#,
            " ".repeat(MAX_PING_FRAME)
        );
        assert_eq!(PingMessage::decode(&long), None);
        assert_eq!(PingMessage::Pong { nonce: 1 }.answer(), None);
    }
}

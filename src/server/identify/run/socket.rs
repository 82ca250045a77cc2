//! What the server says down a run socket besides forwarded messages: its own `error` messages,
//! close frames (closed politely, so the client reads them), and the one refusal made before the
//! upgrade.

use crate::{api::ApiError, protocol::identify::Message as Wire};
use axum::{
    Json,
    extract::ws::{CloseFrame, Message, WebSocket},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use std::time::Duration;

/// How long a closing socket waits for the client's close frame.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// A refusal before the upgrade (the rate limit): the JSON error with its status. Every other
/// refusal happens after the upgrade, as an `error` message and a close frame, so browsers
/// (which cannot read a refused handshake) can show why.
pub(super) fn refuse(err: &ApiError) -> Response {
    let status =
        StatusCode::from_u16(err.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::json!({ "success": false, "code": err.code, "message": err.message });
    (status, Json(body)).into_response()
}

/// WebSocket close codes the runs use.
pub(super) mod close_code {
    pub use axum::extract::ws::close_code::{AWAY, NORMAL, POLICY};
}

/// The close reason of a finished run.
pub(super) const FINISHED: &str = "identification finished";

pub(super) fn text(t: String) -> Message {
    Message::Text(t.into())
}

pub(super) fn error_json(code: &str, message: &str) -> String {
    Wire::Error {
        code: code.to_owned(),
        message: message.to_owned(),
    }
    .to_json()
}

pub(super) fn error_message(err: &ApiError) -> String {
    serde_json::json!({ "type": "error", "code": err.code, "message": err.message }).to_string()
}

pub(super) async fn close(mut socket: WebSocket, code: u16, reason: &str) {
    close_in_place(&mut socket, code, reason).await;
}

/// Sends a close frame and waits (briefly) for the client's: closing first and hanging up at
/// once would let the kernel answer the client's close with a reset, and a reset can discard the
/// error message and close frame before the client reads them.
pub(super) async fn close_in_place(socket: &mut WebSocket, code: u16, reason: &str) {
    // A close reason is at most 123 bytes.
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let frame = CloseFrame {
        code,
        reason: reason[..end].into(),
    };
    if socket.send(Message::Close(Some(frame))).await.is_err() {
        return;
    }
    let _ = tokio::time::timeout(CLOSE_GRACE, async {
        while let Some(Ok(message)) = socket.recv().await {
            if matches!(message, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
}

/// What one socket is told as its part ends: an `error` (code, message) if any, then a close.
pub(super) struct Farewell {
    pub(super) error: Option<(&'static str, String)>,
    pub(super) code: u16,
    pub(super) reason: String,
}

impl Farewell {
    /// An `error` of `kind` saying `why`, then a close with `code` and the same reason.
    pub(super) fn error(kind: &'static str, code: u16, why: &str) -> Self {
        Self {
            error: Some((kind, why.to_owned())),
            code,
            reason: why.to_owned(),
        }
    }

    pub(super) async fn send(self, mut socket: WebSocket) {
        if let Some((kind, message)) = &self.error {
            let _ = socket.send(text(error_json(kind, message))).await;
        }
        close_in_place(&mut socket, self.code, &self.reason).await;
    }
}

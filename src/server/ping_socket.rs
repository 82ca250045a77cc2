//! `/ws/ping`: the reachability WebSocket (see [`crate::protocol::ping`]).

use super::AppState;
use crate::protocol::ping::{MAX_PING_FRAME, PingMessage};
use axum::{
    extract::{
        State, WebSocketUpgrade,
        ws::{CloseFrame, Message, WebSocket, close_code},
    },
    response::Response,
};
use std::time::Duration;

pub async fn upgrade(ws: WebSocketUpgrade, State(state): State<AppState>) -> Response {
    let idle = Duration::from_secs(state.config.relay.idle_timeout_secs);
    ws.max_message_size(MAX_PING_FRAME)
        .max_frame_size(MAX_PING_FRAME)
        .on_upgrade(move |socket| serve(socket, idle))
}

/// Answers each `ping` with a `pong`; closes on anything else, on silence, or when the peer does.
async fn serve(mut socket: WebSocket, idle: Duration) {
    loop {
        let msg = match tokio::time::timeout(idle, socket.recv()).await {
            Ok(Some(Ok(msg))) => msg,
            Ok(_) => return,
            Err(_) => return close(socket, close_code::AWAY, "idle timeout").await,
        };
        match msg {
            Message::Text(text) => match PingMessage::decode(&text).and_then(PingMessage::answer) {
                Some(pong) => {
                    if socket
                        .send(Message::Text(pong.encode().into()))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
                None => {
                    return close(
                        socket,
                        close_code::POLICY,
                        "expected {\"type\":\"ping\",\"nonce\":N}",
                    )
                    .await;
                }
            },
            Message::Binary(_) => {
                return close(socket, close_code::UNSUPPORTED, "text frames only").await;
            }
            Message::Close(_) => return,
            Message::Ping(_) | Message::Pong(_) => {}
        }
    }
}

async fn close(mut socket: WebSocket, code: u16, reason: &'static str) {
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
}

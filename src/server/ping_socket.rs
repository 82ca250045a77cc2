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

/// Read and write buffers, and the largest frame or message the WebSocket layer reads: the socket
/// carries only tiny messages. One over [`MAX_PING_FRAME`] but within this is read and refused
/// with a close frame; a larger one ends the connection in the WebSocket layer.
const SOCKET_BUFFER: usize = 4096;
/// How long a refused client has to answer the close frame.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

pub async fn upgrade(ws: WebSocketUpgrade, State(state): State<AppState>) -> Response {
    let idle = Duration::from_secs(state.config.relay.idle_timeout_secs);
    ws.read_buffer_size(SOCKET_BUFFER)
        .write_buffer_size(SOCKET_BUFFER)
        .max_message_size(SOCKET_BUFFER)
        .max_frame_size(SOCKET_BUFFER)
        .on_upgrade(move |socket| serve(socket, idle))
}

/// Answers each `ping` with a `pong`; closes on anything else, on silence, or when the peer does.
async fn serve(mut socket: WebSocket, idle: Duration) {
    loop {
        let msg = match tokio::time::timeout(idle, socket.recv()).await {
            Ok(Some(Ok(msg))) => msg,
            Ok(_) => return,
            Err(_) => return close(socket, close_code::AWAY, "idle timeout".into()).await,
        };
        match msg {
            Message::Text(text) if text.len() > MAX_PING_FRAME => {
                let reason = format!("a message may be at most {MAX_PING_FRAME} bytes");
                return close(socket, close_code::POLICY, reason).await;
            }
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
                    let reason = "expected {\"type\":\"ping\",\"nonce\":N}".into();
                    return close(socket, close_code::POLICY, reason).await;
                }
            },
            Message::Binary(_) => {
                return close(socket, close_code::UNSUPPORTED, "text frames only".into()).await;
            }
            Message::Close(_) => return,
            Message::Ping(_) | Message::Pong(_) => {}
        }
    }
}

/// Sends a close frame, then lets the client's answer arrive (briefly) before the connection
/// goes, so that nothing left unread resets it before the client has read the frame.
async fn close(mut socket: WebSocket, code: u16, reason: String) {
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    if socket.send(Message::Close(Some(frame))).await.is_ok() {
        let _ = tokio::time::timeout(CLOSE_WAIT, async {
            while let Some(Ok(_)) = socket.recv().await {}
        })
        .await;
    }
}

//! `/ws/ping` against a real server: the 256-byte limit of docs/PROTOCOL.md, exactly.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

mod common;

use common::TestServer;
use futures::{SinkExt, StreamExt};
use tokio_tungstenite::{
    connect_async,
    tungstenite::{Message, protocol::frame::coding::CloseCode},
};
use zkrelay::protocol::ping::MAX_PING_FRAME;

/// A valid ping of exactly `len` bytes (JSON padded with spaces).
fn ping_of(len: usize, nonce: u64) -> String {
    let ping = format!(r#"{{"type":"ping","nonce":{nonce}}}"#);
    format!("{ping}{}", " ".repeat(len - ping.len()))
}

/// Sends `text` and returns the server's answer.
async fn answer(url: &str, text: String) -> Option<Message> {
    let (mut ws, _) = connect_async(url).await.unwrap();
    ws.send(Message::text(text)).await.unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(10), ws.next())
        .await
        .unwrap()
        .map(Result::unwrap)
}

#[tokio::test]
async fn a_ping_of_the_largest_size_is_answered() {
    let server = TestServer::start(|_| {}).await;
    let url = format!("ws://{}/ws/ping", server.addr);
    let reply = answer(&url, ping_of(MAX_PING_FRAME, 9)).await.unwrap();
    let reply: serde_json::Value = serde_json::from_str(reply.to_text().unwrap()).unwrap();
    assert_eq!(reply, serde_json::json!({"type": "pong", "nonce": 9}));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_message_over_256_bytes_is_refused_with_close_code_1008() {
    assert_eq!(MAX_PING_FRAME, 256, "docs/PROTOCOL.md states 256 bytes");
    let server = TestServer::start(|_| {}).await;
    let url = format!("ws://{}/ws/ping", server.addr);
    // Just over the limit (a well-formed ping otherwise), and well over it.
    for len in [MAX_PING_FRAME + 1, 4000] {
        match answer(&url, ping_of(len, 1)).await {
            Some(Message::Close(Some(frame))) => {
                assert_eq!(frame.code, CloseCode::Policy, "{len} bytes");
                assert!(
                    frame.reason.contains("256 bytes"),
                    "{len}: {}",
                    frame.reason
                );
            }
            other => panic!("{len} bytes: expected a close frame, got {other:?}"),
        }
    }
    // The server still answers a normal ping on a new socket, and more than one on the same.
    let (mut ws, _) = connect_async(&url).await.unwrap();
    for nonce in [1u64, u64::MAX] {
        ws.send(Message::text(format!(
            r#"{{"type":"ping","nonce":{nonce}}}"#
        )))
        .await
        .unwrap();
        let reply = ws.next().await.unwrap().unwrap();
        let reply: serde_json::Value = serde_json::from_str(reply.to_text().unwrap()).unwrap();
        assert_eq!(reply["type"], "pong");
        assert_eq!(reply["nonce"], nonce);
    }
    server.stop().await.unwrap();
}

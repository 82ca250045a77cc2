//! The foundation against a real server: pages, server functions, the ping WebSocket, bad input.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

mod common;

use common::{TestServer, client_from};
use futures::{SinkExt, StreamExt};
use tokio_tungstenite::{connect_async, tungstenite::Message};

#[tokio::test]
async fn pages_are_server_rendered_and_unknown_routes_are_404() {
    let server = TestServer::start(|_| {}).await;
    let http = client_from(1);
    let home = http.get(server.url("/")).send().await.unwrap();
    assert_eq!(home.status(), 200);
    let html = home.text().await.unwrap();
    assert!(
        html.contains("See a zero-knowledge proof happen."),
        "{html}"
    );
    for role in ["/peggy", "/victor", "/send", "/receive"] {
        assert!(
            html.contains(&format!("href=\"{role}\"")),
            "missing link to {role}"
        );
        let page = http.get(server.url(role)).send().await.unwrap();
        assert_eq!(page.status(), 200, "{role}");
    }
    let missing = http.get(server.url("/no/such/page")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    assert!(missing.text().await.unwrap().contains("Page not found"));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn server_functions_answer_and_refuse_malformed_calls_with_4xx() {
    let server = TestServer::start(|c| c.blum.modulus_bits = 1024).await;
    let http = client_from(1);
    let ok = http.post(server.url("/api/status")).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    let status: serde_json::Value = ok.json().await.unwrap();
    assert_eq!(status["modulus_bits"], 1024);
    assert_eq!(status["ready_moduli"], 0);

    // Wrong method, unknown function, garbage body: clear 4xx, JSON error, never a 5xx.
    let get = http.get(server.url("/api/status")).send().await.unwrap();
    assert!(get.status().is_client_error(), "GET gave {}", get.status());
    let unknown = http.post(server.url("/api/nope")).send().await.unwrap();
    assert!(
        unknown.status().is_client_error(),
        "unknown gave {}",
        unknown.status()
    );
    let huge = http
        .post(server.url("/api/status"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(vec![b'a'; 200_000])
        .send()
        .await
        .unwrap();
    assert!(
        huge.status().is_client_error(),
        "oversize gave {}",
        huge.status()
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn the_ping_socket_answers_and_closes_on_garbage() {
    let server = TestServer::start(|_| {}).await;
    let url = format!("ws://{}/ws/ping", server.addr);
    let (mut ws, _) = connect_async(&url).await.unwrap();
    ws.send(Message::text(r#"{"type":"ping","nonce":7}"#))
        .await
        .unwrap();
    let reply = ws.next().await.unwrap().unwrap();
    let reply: serde_json::Value = serde_json::from_str(reply.to_text().unwrap()).unwrap();
    assert_eq!(reply["type"], "pong");
    assert_eq!(reply["nonce"], 7);

    ws.send(Message::text("{not json")).await.unwrap();
    match ws.next().await {
        Some(Ok(Message::Close(Some(frame)))) => assert!(frame.reason.contains("ping")),
        other => panic!("expected a close frame, got {other:?}"),
    }
    // Oversize frames are refused by the socket, and the server keeps serving.
    let (mut ws, _) = connect_async(&url).await.unwrap();
    let _ = ws.send(Message::text("x".repeat(100_000))).await;
    let ended = ws.next().await;
    assert!(!matches!(ended, Some(Ok(Message::Text(_)))), "{ended:?}");
    let still = client_from(1).get(server.url("/")).send().await.unwrap();
    assert_eq!(still.status(), 200);
    server.stop().await.unwrap();
}

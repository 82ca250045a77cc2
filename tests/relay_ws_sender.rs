//! A browser-like sender (WebSocket data connection, which has no half-close) to the CLI
//! receiver through a real relay: the receiver acknowledges the final frame, then keeps the file
//! only once the sender's socket has closed with nothing after that frame.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

mod common;

use common::{Http, TestServer};
use futures::{SinkExt, StreamExt};
use rand::rngs::OsRng;
use std::{net::IpAddr, time::Duration};
use tokio::net::TcpSocket;
use tokio_tungstenite::{client_async, tungstenite::Message};
use zkrelay::api::relay::{RelayClient, handshake};
use zkrelay::cli::transfer::{self, Destination, Endpoint};
use zkrelay::protocol::relay::{Code, Direction, FrameReader, Header, Opener, Sealer, data_hello};

/// Sends a 5-byte file as a page does, reads the acknowledgement, then sends `after_ack` (if
/// any) and closes the socket.
async fn page_sender(server: &TestServer, code: &Code, after_ack: Option<&'static [u8]>) {
    let api = RelayClient::new(Http::new(server, 2));
    let seat = api.open_sender(Some("777777-cedar")).await.unwrap();
    let confirmed = handshake::sender(&api, &seat, code, OsRng, |_| {})
        .await
        .unwrap();
    api.open_data(&seat).await.unwrap();
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(([127, 0, 0, 2], 0).into()).unwrap();
    let tcp = socket.connect(server.addr).await.unwrap();
    let url = format!("ws://{}/ws/data/777777-cedar", server.addr);
    let (mut ws, _) = client_async(url, tcp).await.unwrap();
    let hello = data_hello(&seat.channel, &seat.uuid, &confirmed.h_k);
    ws.send(Message::text(hello)).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("ok"));
    let mut sealer = Sealer::new(
        &confirmed
            .key
            .data_key("777777-cedar", Direction::SenderToRecipient),
    );
    let header = Header::file("page.bin".into(), 5);
    for (bytes, last) in [(header.encode(), false), (b"hello".to_vec(), true)] {
        let frame = sealer.seal(&bytes, last).unwrap();
        ws.send(Message::binary(frame)).await.unwrap();
    }
    // The socket stays open (as a page's does) until the acknowledgement is in.
    let mut opener = Opener::new(
        &confirmed
            .key
            .data_key("777777-cedar", Direction::RecipientToSender),
    );
    let mut frames = FrameReader::new();
    let ack = loop {
        if let Some((prefix, body)) = frames.next_in_place().unwrap() {
            break opener.open_slice(prefix, body).unwrap().to_vec();
        }
        match ws.next().await.unwrap().unwrap() {
            Message::Binary(chunk) => frames.push(&chunk),
            other => panic!("expected the acknowledgement, got {other:?}"),
        }
    };
    let ack: serde_json::Value = serde_json::from_slice(&ack).unwrap();
    assert_eq!(ack, serde_json::json!({"received": 5, "ok": true}));
    if let Some(stray) = after_ack {
        ws.send(Message::binary(stray.to_vec())).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = ws.close(None).await;
}

async fn receive_from_page(after_ack: Option<&'static [u8]>) -> (Result<String, String>, usize) {
    let server = TestServer::start(|_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let code = Code::parse("comet-maple-otter-tulip").unwrap();
    let endpoint = Endpoint {
        server: server.url(""),
        bind: Some(IpAddr::from([127, 0, 0, 3])),
    };
    let dest = Destination::Folder(dir.path().to_owned());
    let receiver = transfer::receive(&endpoint, "777777-cedar-comet-maple-otter-tulip", &dest);
    let ((), got) = tokio::join!(page_sender(&server, &code, after_ack), async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        receiver.await
    });
    let got = got.map_err(String::from).map(|d| {
        let path = d.path.unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"hello");
        path.file_name().unwrap().to_str().unwrap().to_owned()
    });
    let left = std::fs::read_dir(dir.path()).unwrap().count();
    server.stop().await.unwrap();
    (got, left)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_that_closes_after_the_acknowledgement_delivers() {
    let (got, left) = receive_from_page(None).await;
    assert_eq!(got.unwrap(), "page.bin");
    assert_eq!(left, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytes_after_the_acknowledgement_abort_and_keep_nothing() {
    let (got, left) = receive_from_page(Some(b"stray")).await;
    let err = got.unwrap_err();
    assert!(err.contains("after the final frame"), "{err}");
    assert_eq!(left, 0, "a file was kept");
}

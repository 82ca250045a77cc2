//! A browser-like sender (WebSocket data connection, which has no half-close) to the CLI
//! receiver through a real relay: the receiver acknowledges the final frame, then keeps the file
//! only once the sender's socket has closed with nothing after that frame.

#![allow(clippy::unwrap_used)] // tests may unwrap

mod common;

use common::{TestServer, client_from};
use futures::{SinkExt, StreamExt};
use rand::rngs::OsRng;
use serde_json::Value;
use std::{net::IpAddr, time::Duration};
use tokio::net::TcpSocket;
use tokio_tungstenite::{client_async, tungstenite::Message};
use zkrelay::cli::transfer::{self, Destination, Endpoint};
use zkrelay::protocol::relay::{
    Code, Direction, FrameReader, Header, Opener, Sealer,
    handshake::{self, RelayApi},
};

/// The relay's HTTP API from 127.0.0.2.
struct Http {
    http: reqwest::Client,
    base: String,
}

impl Http {
    async fn call(&self, req: reqwest::RequestBuilder) -> Result<Value, String> {
        let reply: Value = req.send().await.unwrap().json().await.unwrap();
        if reply["success"] == true {
            Ok(reply)
        } else {
            Err(reply.to_string())
        }
    }
}

impl RelayApi for Http {
    async fn post(&self, path: &str, body: Value) -> Result<Value, String> {
        self.call(self.http.post(format!("{}{path}", self.base)).json(&body))
            .await
    }
    async fn get(&self, path: &str) -> Result<Value, String> {
        self.call(self.http.get(format!("{}{path}", self.base)))
            .await
    }
    async fn wait(&self, path: &str, _: &str) -> Result<Value, String> {
        self.get(&format!("{path}&wait=10")).await
    }
}

/// Sends a 5-byte file as a page does, reads the acknowledgement, then sends `after_ack` (if
/// any) and closes the socket.
async fn page_sender(server: &TestServer, code: &Code, after_ack: Option<&'static [u8]>) {
    let api = Http {
        http: client_from(2),
        base: server.url(""),
    };
    let seat = handshake::open_sender(&api, Some("777777-cedar"))
        .await
        .unwrap();
    let confirmed = handshake::sender(&api, &seat, code, OsRng, |_| {})
        .await
        .unwrap();
    handshake::open_data(&api, "sender", &seat).await.unwrap();
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(([127, 0, 0, 2], 0).into()).unwrap();
    let tcp = socket.connect(server.addr).await.unwrap();
    let url = format!("ws://{}/ws/data/777777-cedar", server.addr);
    let (mut ws, _) = client_async(url, tcp).await.unwrap();
    let hello = handshake::data_hello(&seat, &confirmed.h_k);
    ws.send(Message::text(hello)).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("ok"));
    let mut sealer = Sealer::new(
        &confirmed
            .key
            .data_key("777777-cedar", Direction::SenderToRecipient),
    );
    let header = Header {
        kind: "file".into(),
        name: Some("page.bin".into()),
        size: 5,
    };
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
    let ack: Value = serde_json::from_slice(&ack).unwrap();
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
    let got = got.map(|d| {
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

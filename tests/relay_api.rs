//! The Relay's HTTP API and data plane against a real server, from several loopback addresses
//! (127.0.0.2 and 127.0.0.3 are the two people, 127.0.0.4 a third party).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

mod common;

use common::{TestServer, client_from};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    net::{TcpSocket, TcpStream},
};

struct Party {
    http: Client,
    base: String,
}

impl Party {
    fn new(server: &TestServer, last: u8) -> Self {
        Self {
            http: client_from(last),
            base: server.url(""),
        }
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        (res.status(), res.json().await.unwrap())
    }

    async fn post_raw(&self, path: &str, body: &'static str) -> (StatusCode, Value) {
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        (res.status(), res.json().await.unwrap())
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let res = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        (res.status(), res.json().await.unwrap())
    }
}

fn hex(prefix: &str, len: usize, fill: char) -> String {
    let mut s = prefix.to_owned();
    while s.len() < len {
        s.push(fill);
    }
    s
}

/// Asserts an error reply: status, `success: false`, the code, a message.
fn refused((status, body): (StatusCode, Value), want: StatusCode, code: &str) {
    assert_eq!(status, want, "{body}");
    assert_eq!(body["success"], false, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

/// Opens a channel (sender at .2, recipient at .3) and runs the public-value exchange with
/// well-formed placeholder values (the relay cannot tell them from real SPAKE2 messages).
async fn exchanged(server: &TestServer) -> (Party, Party, String, String, String, String) {
    let sender = Party::new(server, 2);
    let recipient = Party::new(server, 3);
    let (status, opened) = sender.post("/open", json!({})).await;
    assert_eq!(status, 200, "{opened}");
    assert_eq!(opened["success"], true);
    assert_eq!(opened["message"], "got channel");
    let channel = opened["channel"].as_str().unwrap().to_owned();
    let s_uuid = opened["uuid"].as_str().unwrap().to_owned();
    let (status, joined) = recipient
        .post("/open", json!({"channel": channel, "role": "recipient"}))
        .await;
    assert_eq!(status, 200, "{joined}");
    assert_eq!(joined["channel"], channel.as_str());
    let r_uuid = joined["uuid"].as_str().unwrap().to_owned();

    let x = hex("41", 66, '1');
    let (status, body) = sender
        .post(
            &format!("/channel/{channel}"),
            json!({"uuid": s_uuid, "x": x, "curve": "ed25519"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, values) = recipient
        .get(&format!("/channel/{channel}?uuid={r_uuid}"))
        .await;
    assert_eq!(values["x"], x.as_str());
    assert_eq!(values["curve"], "ed25519");
    let y = hex("42", 66, '2');
    let hh_k = hex("", 64, 'a');
    let (status, body) = recipient
        .post(
            &format!("/channel/{channel}"),
            json!({"uuid": r_uuid, "y": y, "hh_k": hh_k}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, got) = sender
        .get(&format!("/sender/{channel}/y?uuid={s_uuid}"))
        .await;
    assert_eq!(
        (got["y"].as_str(), got["hh_k"].as_str()),
        (Some(y.as_str()), Some(hh_k.as_str()))
    );
    let h_k = hex("", 64, 'b');
    let (status, body) = sender
        .post(
            &format!("/sender/{channel}/h_k"),
            json!({"uuid": s_uuid, "h_k": h_k}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, got) = recipient
        .get(&format!("/recipient/{channel}/h_k?uuid={r_uuid}"))
        .await;
    assert_eq!(got["h_k"], h_k.as_str());
    (sender, recipient, channel, s_uuid, r_uuid, h_k)
}

async fn connect_from(last: u8, addr: std::net::SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(([127, 0, 0, last], 0).into()).unwrap();
    socket.connect(addr).await.unwrap()
}

async fn read_line(stream: &mut BufReader<TcpStream>) -> String {
    let mut line = String::new();
    stream.read_line(&mut line).await.unwrap();
    line
}

#[tokio::test]
async fn the_whole_flow_staples_two_data_connections_and_refuses_a_third_address() {
    let server = TestServer::start(|_| {}).await;
    let (sender, recipient, channel, s_uuid, r_uuid, h_k) = exchanged(&server).await;

    // A third address is refused on every route, exactly as if the channel did not exist; the
    // two already there are unaffected.
    let third = Party::new(&server, 4);
    refused(
        third
            .post("/open", json!({"channel": channel, "role": "recipient"}))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    refused(
        third
            .get(&format!("/channel/{channel}?uuid={s_uuid}"))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    refused(
        third
            .post(&format!("/close/{channel}"), json!({"uuid": r_uuid}))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );

    let (status, open) = sender
        .get(&format!("/sender/{channel}/open?uuid={s_uuid}"))
        .await;
    assert_eq!(status, 200, "{open}");
    assert_eq!(open["data_port"], server.data_addr.port());
    let (status, _) = recipient
        .get(&format!("/recipient/{channel}/open?uuid={r_uuid}"))
        .await;
    assert_eq!(status, 200);
    let (_, ready) = sender
        .get(&format!("/sender/{channel}/isready?uuid={s_uuid}"))
        .await;
    assert_eq!(ready["isready"], false);

    // A forged h_k (or a third address) cannot open a data connection.
    let mut forged = BufReader::new(connect_from(2, server.data_addr).await);
    let bad = hex("", 64, 'c');
    forged
        .get_mut()
        .write_all(format!("zkrelay-data 2 {channel} {s_uuid} {bad}\n").as_bytes())
        .await
        .unwrap();
    assert!(
        read_line(&mut forged)
            .await
            .starts_with("error forbidden wrong h_k")
    );
    let mut intruder = BufReader::new(connect_from(4, server.data_addr).await);
    intruder
        .get_mut()
        .write_all(format!("zkrelay-data 2 {channel} {s_uuid} {h_k}\n").as_bytes())
        .await
        .unwrap();
    assert!(
        read_line(&mut intruder)
            .await
            .starts_with("error not_found no such channel")
    );

    // The real pair is stapled; bytes flow both ways unchanged.
    let mut a = BufReader::new(connect_from(2, server.data_addr).await);
    a.get_mut()
        .write_all(format!("zkrelay-data 2 {channel} {s_uuid} {h_k}\n").as_bytes())
        .await
        .unwrap();
    let mut b = BufReader::new(connect_from(3, server.data_addr).await);
    b.get_mut()
        .write_all(format!("zkrelay-data 2 {channel} {r_uuid} {h_k}\n").as_bytes())
        .await
        .unwrap();
    assert_eq!(read_line(&mut a).await, "ok\n");
    assert_eq!(read_line(&mut b).await, "ok\n");
    let (_, ready) = recipient
        .get(&format!(
            "/recipient/{channel}/isready?uuid={r_uuid}&wait=5"
        ))
        .await;
    assert_eq!(ready["isready"], true);
    let payload: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let (mut a_read, mut a_write) = a.into_inner().into_split();
    let (mut b_read, mut b_write) = b.into_inner().into_split();
    let sent = payload.clone();
    let writer = tokio::spawn(async move {
        a_write.write_all(&sent).await.unwrap();
        a_write.shutdown().await.unwrap();
    });
    let mut got = Vec::new();
    b_read.read_to_end(&mut got).await.unwrap();
    writer.await.unwrap();
    assert_eq!(got, payload);
    b_write.write_all(b"thanks").await.unwrap();
    b_write.shutdown().await.unwrap();
    let mut back = Vec::new();
    a_read.read_to_end(&mut back).await.unwrap();
    assert_eq!(back, b"thanks");

    // The finished transfer frees the channel.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    refused(
        sender
            .get(&format!("/channel/{channel}?uuid={s_uuid}"))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn bad_input_gets_a_clear_json_error() {
    let server = TestServer::start(|c| c.server.max_body_bytes = 4096).await;
    let sender = Party::new(&server, 2);
    let recipient = Party::new(&server, 3);
    refused(
        sender.post_raw("/open", "{not json").await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    refused(
        sender.post("/open", json!({"role": "boss"})).await,
        StatusCode::BAD_REQUEST,
        "invalid_value",
    );
    refused(
        sender.post("/open", json!({"channel": "a/b"})).await,
        StatusCode::BAD_REQUEST,
        "invalid_value",
    );
    refused(
        sender.post("/open", json!({"role": "recipient"})).await,
        StatusCode::BAD_REQUEST,
        "invalid_value",
    );
    refused(
        sender
            .post("/open", json!({"channel": "c", "extra": 1}))
            .await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    let big = format!("{{\"channel\":\"{}\"}}", "a".repeat(10_000));
    let res = sender
        .http
        .post(server.url("/open"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "too_large");

    refused(
        sender.get("/channel/nosuch?uuid=00").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let (_, opened) = sender
        .post("/open", json!({"channel": "482193-cedar"}))
        .await;
    let uuid = opened["uuid"].as_str().unwrap().to_owned();
    refused(
        sender
            .post("/open", json!({"channel": "482193-cedar"}))
            .await,
        StatusCode::CONFLICT,
        "conflict",
    );
    refused(
        sender.get("/channel/482193-cedar").await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    refused(
        sender.get("/channel/482193-cedar?uuid=0123").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let post = |body: Value| sender.post("/channel/482193-cedar", body);
    refused(
        post(json!({"uuid": uuid, "x": hex("41", 66, '1'), "curve": "p256"})).await,
        StatusCode::BAD_REQUEST,
        "invalid_value",
    );
    refused(
        post(json!({"uuid": uuid, "x": hex("41", 64, '1'), "curve": "ed25519"})).await,
        StatusCode::BAD_REQUEST,
        "invalid_value",
    );
    refused(
        post(json!({"uuid": uuid, "x": hex("41", 66, 'G'), "curve": "ed25519"})).await,
        StatusCode::BAD_REQUEST,
        "invalid_value",
    );
    refused(
        post(json!({"uuid": uuid, "x": hex("41", 66, '1')})).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    refused(
        post(json!({"uuid": uuid, "y": hex("42", 66, '1'), "hh_k": hex("", 64, 'a')})).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    // Values that do not exist yet (their own code, still a 404 for older clients), and a seat
    // asking for the other seat's value.
    refused(
        sender
            .get(&format!("/sender/482193-cedar/y?uuid={uuid}"))
            .await,
        StatusCode::NOT_FOUND,
        "not_yet",
    );
    refused(
        sender
            .get(&format!("/recipient/482193-cedar/h_k?uuid={uuid}"))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    refused(
        sender
            .get(&format!("/boss/482193-cedar/open?uuid={uuid}"))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    refused(
        sender
            .get(&format!("/sender/482193-cedar/open?uuid={uuid}"))
            .await,
        StatusCode::CONFLICT,
        "conflict",
    );
    // The recipient cannot post y before x exists.
    let (_, joined) = recipient
        .post(
            "/open",
            json!({"channel": "482193-cedar", "role": "recipient"}),
        )
        .await;
    let r_uuid = joined["uuid"].as_str().unwrap().to_owned();
    refused(
        recipient
            .post(
                "/channel/482193-cedar",
                json!({"uuid": r_uuid, "y": hex("42", 66, '1'), "hh_k": hex("", 64, 'a')}),
            )
            .await,
        StatusCode::CONFLICT,
        "conflict",
    );
    // Either side may close; afterwards the channel is gone for both.
    let (status, _) = recipient
        .post("/close/482193-cedar", json!({"uuid": r_uuid}))
        .await;
    assert_eq!(status, 200);
    refused(
        sender
            .get(&format!("/channel/482193-cedar?uuid={uuid}"))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn channels_expire_and_creation_is_rate_limited() {
    let server = TestServer::start(|c| {
        c.relay.channel_ttl_secs = 1;
        c.relay.channels_per_ip_per_minute = 3;
    })
    .await;
    let sender = Party::new(&server, 2);
    let (_, opened) = sender.post("/open", json!({})).await;
    let (channel, uuid) = (
        opened["channel"].as_str().unwrap(),
        opened["uuid"].as_str().unwrap(),
    );
    for _ in 0..2 {
        let (status, _) = sender.post("/open", json!({})).await;
        assert_eq!(status, 200);
    }
    refused(
        sender.post("/open", json!({})).await,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
    );
    // Another address is not limited by the first one's use.
    let (status, _) = Party::new(&server, 5).post("/open", json!({})).await;
    assert_eq!(status, 200);
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    refused(
        sender.get(&format!("/channel/{channel}?uuid={uuid}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert!(server.state.relay.is_empty());
    server.stop().await.unwrap();
}

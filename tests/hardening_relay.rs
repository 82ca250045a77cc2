//! The Relay and the server's connections under attack, against a real server: each test runs an
//! attack from a third address (127.0.0.4 and up), asserts it fails, and then that an honest
//! pair (127.0.0.2 sends, 127.0.0.3 receives) on the same server still completes a transfer.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

mod common;

use common::{TestServer, client_from};
use futures::StreamExt;
use rand::rngs::OsRng;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::{
    net::{IpAddr, SocketAddr},
    time::{Duration, Instant},
};
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    net::{TcpSocket, TcpStream},
};
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest, http::HeaderValue};
use zkrelay::{
    api::relay::START_AGAIN,
    cli::transfer::{self, Destination, Endpoint, Payload},
    protocol::relay::{Code, RecipientPake, channel_name},
    server::Config,
};

fn ip(last: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, last])
}

fn endpoint(server: &TestServer, last: u8) -> Endpoint {
    Endpoint {
        server: server.url(""),
        bind: Some(ip(last)),
    }
}

/// Starts a sender on a fresh channel; the phrase it "reads aloud" arrives on the receiver.
fn spawn_sender(
    ep: Endpoint,
    text: &str,
) -> (
    tokio::task::JoinHandle<Result<transfer::Delivered, String>>,
    tokio::sync::oneshot::Receiver<String>,
) {
    let (tell, heard) = tokio::sync::oneshot::channel::<String>();
    let text = text.to_owned();
    let sender = tokio::spawn(async move {
        let mut tell = Some(tell);
        transfer::send(&ep, Payload::Text(text), None, |p| {
            if let Some(tell) = tell.take() {
                let _ = tell.send(p.to_owned());
            }
        })
        .await
        .map_err(String::from)
    });
    (sender, heard)
}

/// A whole transfer between two honest people: the sender at 127.0.0.2 gets a fresh channel and
/// code and "reads" the phrase to the recipient at 127.0.0.3, who receives the text.
async fn honest_pair_completes(server: &TestServer) {
    let (sender, heard) = spawn_sender(endpoint(server, 2), "the honest text");
    let phrase = heard.await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let got = transfer::receive(
        &endpoint(server, 3),
        &phrase,
        &Destination::Folder(dir.path().to_owned()),
    )
    .await
    .unwrap();
    assert_eq!(got.text.as_deref(), Some("the honest text"));
    sender.await.unwrap().unwrap();
}

async fn post(client: &reqwest::Client, url: String, body: Value) -> (StatusCode, Value) {
    let res = client.post(url).json(&body).send().await.unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn open_sender(server: &TestServer, last: u8) -> (String, String) {
    let (status, opened) = post(&client_from(last), server.url("/open"), json!({})).await;
    assert_eq!(status, 200, "{opened}");
    (
        opened["channel"].as_str().unwrap().to_owned(),
        opened["uuid"].as_str().unwrap().to_owned(),
    )
}

// ------------------------------------------------------------------ channel names and joins

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_of_names_finds_nothing_and_is_cut_short() {
    // Refusals answered at once: this test counts them one after another.
    let server = TestServer::start(|c| c.server.refusal_delay_ms = 0).await;
    // Live channels: one waiting for its recipient, one with both seats taken.
    let (waiting, _) = open_sender(&server, 2).await;
    let (full, _) = open_sender(&server, 2).await;
    let (status, _) = post(
        &client_from(3),
        server.url("/open"),
        json!({"channel": full, "role": "recipient"}),
    )
    .await;
    assert_eq!(status, 200);

    let scanner = client_from(4);
    let join = |name: String| {
        post(
            &scanner,
            server.url("/open"),
            json!({"channel": name, "role": "recipient"}),
        )
    };
    // A full channel answers a stranger exactly as a name nobody uses.
    let (missing_status, missing) = join(channel_name(&mut OsRng)).await;
    let (full_status, full_reply) = join(full.clone()).await;
    assert_eq!((missing_status, &missing), (full_status, &full_reply));
    assert_eq!(missing_status, StatusCode::NOT_FOUND);
    assert!(
        missing["message"]
            .as_str()
            .unwrap()
            .contains("someone else joined this channel"),
        "{missing}"
    );
    // The burst runs out, then every join is refused before any lookup: the waiting channel's
    // name, tried last, is refused like the rest (and its seat stays free).
    let config = Config::defaults();
    let mut refused = 0;
    for _ in 0..config.relay.join_burst + 10 {
        let (status, body) = join(channel_name(&mut OsRng)).await;
        match status {
            StatusCode::NOT_FOUND => {}
            StatusCode::TOO_MANY_REQUESTS => {
                assert_eq!(body["code"], "rate_limited", "{body}");
                refused += 1;
            }
            other => panic!("{other}: {body}"),
        }
    }
    assert!(refused >= 10, "only {refused} of the scan were refused");
    let (status, body) = join(waiting.clone()).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    // The waiting channel's recipient is still free for the real one.
    let (status, body) = post(
        &client_from(3),
        server.url("/open"),
        json!({"channel": waiting, "role": "recipient"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // A sender cannot use a guessable name of its own either.
    let (status, body) = post(
        &client_from(5),
        server.url("/open"),
        json!({"channel": "4821", "role": "sender"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    honest_pair_completes(&server).await;
    server.stop().await.unwrap();
}

#[test]
fn the_default_limits_keep_a_whole_hour_of_scanning_below_one_percent() {
    let config = Config::defaults();
    let relay = &config.relay;
    // One address, one hour: the burst, then the steady rate.
    let tries = f64::from(relay.join_burst) + 60.0 * f64::from(relay.joins_per_ip_per_minute);
    let live = 10_000.0;
    let names = zkrelay::protocol::relay::CHANNEL_NAMES as f64;
    let chance = tries * live / names;
    assert!(chance < 0.01, "P(any hit in an hour) = {chance}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_in_the_recipient_seat_fails_the_exchange_and_both_people_are_told() {
    let server = TestServer::start(|_| {}).await;
    let (sender, heard) = spawn_sender(endpoint(&server, 2), "secret");
    let phrase = heard.await.unwrap();
    let (channel, _) = zkrelay::protocol::relay::split_phrase(&phrase).unwrap();

    // The squatter (who learnt the channel name, not the code) takes the recipient's seat.
    let squatter = client_from(4);
    let (status, joined) = post(
        &squatter,
        server.url("/open"),
        json!({"channel": channel, "role": "recipient"}),
    )
    .await;
    assert_eq!(status, 200, "{joined}");
    let uuid = joined["uuid"].as_str().unwrap().to_owned();

    // The real recipient is turned away with the one sentence both cases share.
    let dir = tempfile::tempdir().unwrap();
    let refused = transfer::receive(
        &endpoint(&server, 3),
        &phrase,
        &Destination::Folder(dir.path().to_owned()),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        refused.contains("someone else joined this channel"),
        "{refused}"
    );

    // The squatter reads x and answers with a guessed code.
    let values: Value = squatter
        .get(server.url(&format!("/channel/{channel}?uuid={uuid}&wait=5")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let x = values["x"].as_str().unwrap();
    let guess = Code::generate(&mut OsRng);
    let (pake, y) = RecipientPake::start(OsRng, &guess);
    let key = pake.finish(x).unwrap();
    let (status, body) = post(
        &squatter,
        server.url(&format!("/channel/{channel}")),
        json!({"uuid": uuid, "y": y, "hh_k": key.hh_k()}),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // The sender's exchange fails, says why, and nothing was sent.
    let failed = sender.await.unwrap().unwrap_err();
    assert!(failed.starts_with(START_AGAIN), "{failed}");
    assert!(failed.contains("turned away"), "{failed}");
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
    // The sender closed the channel: the squatter is left with nothing.
    let gone = squatter
        .get(server.url(&format!("/recipient/{channel}/h_k?uuid={uuid}")))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    // Starting again on a fresh channel works.
    honest_pair_completes(&server).await;
    server.stop().await.unwrap();
}

// ------------------------------------------------------------------ cross-site requests

async fn ws_status(url: &str, origin: Option<&str>, from: u8) -> u16 {
    let mut request = url.into_client_request().unwrap();
    if let Some(origin) = origin {
        request
            .headers_mut()
            .insert("origin", HeaderValue::from_str(origin).unwrap());
    }
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(ip(from), 0)).unwrap();
    let host = request.uri().authority().unwrap().as_str().to_owned();
    let stream = socket.connect(host.parse().unwrap()).await.unwrap();
    match tokio_tungstenite::client_async(request, stream).await {
        Ok((_, response)) => response.status().as_u16(),
        Err(tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(e) => panic!("{url}: {e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_on_other_sites_can_neither_open_sockets_nor_change_state() {
    let server = TestServer::start(|_| {}).await;
    let ws = |path: &str| format!("ws://{}{path}", server.addr);
    let evil = Some("https://evil.example");
    for path in [
        "/ws/ping",
        "/ws/identify/peggy?peggy_id=00000000000000000000000000000000",
        "/ws/identify/victor?peggy_id=00000000000000000000000000000000",
        "/ws/data/482193-cedar",
    ] {
        assert_eq!(ws_status(&ws(path), evil, 4).await, 403, "{path}");
    }
    let own = format!("http://{}", server.addr);
    assert_eq!(ws_status(&ws("/ws/ping"), Some(&own), 4).await, 101);
    assert_eq!(ws_status(&ws("/ws/ping"), None, 4).await, 101);

    // A "simple" cross-site POST (text/plain, as a form or fetch without preflight sends it).
    let client = client_from(4);
    for path in ["/open", "/api/draw_modulus", "/api/register_peggy"] {
        let res = client
            .post(server.url(path))
            .header("origin", "https://evil.example")
            .header("content-type", "text/plain")
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["code"], "forbidden", "{body}");
    }
    let res = client
        .post(server.url("/open"))
        .header("sec-fetch-site", "cross-site")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        server.state.relay.len(),
        0,
        "a refused request opened a channel"
    );
    // The page's own origin may.
    let res = client
        .post(server.url("/open"))
        .header("origin", own.as_str())
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    honest_pair_completes(&server).await;
    server.stop().await.unwrap();
}

// ------------------------------------------------------------------ connection limits

async fn connect(from: u8, to: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(ip(from), 0)).unwrap();
    socket.connect(to).await.unwrap()
}

/// Whether the server closed `stream` within `within` (EOF or reset).
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 512];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

/// A plain GET from another address, timed.
async fn normal_request(server: &TestServer, from: u8) -> Duration {
    let started = Instant::now();
    let res = client_from(from)
        .get(server.url("/"))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_are_cut_off_and_others_are_served_meanwhile() {
    let server = TestServer::start(|c| {
        c.server.header_read_timeout_secs = 1;
    })
    .await;
    let mut slow = Vec::new();
    for _ in 0..50 {
        let mut stream = connect(4, server.addr).await;
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        slow.push(stream);
    }
    // They keep trickling a header byte every 200 ms…
    let trickle = async {
        for _ in 0..5 {
            for stream in &mut slow {
                let _ = stream.write_all(b"X").await;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    let (_, served) = tokio::join!(trickle, normal_request(&server, 5));
    assert!(served < Duration::from_secs(2), "{served:?}");
    // …and are closed once the header timeout passes.
    for stream in &mut slow {
        assert!(closed_within(stream, Duration::from_secs(3)).await);
    }
    // An idle connection that never sends a byte goes the same way.
    let mut idle = connect(4, server.addr).await;
    assert!(closed_within(&mut idle, Duration::from_secs(3)).await);
    honest_pair_completes(&server).await;
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_holds_its_maximum_and_everyone_else_is_served() {
    let server = TestServer::start(|c| {
        c.server.max_connections_per_ip = 40;
        c.server.header_read_timeout_secs = 30;
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..120 {
        held.push(connect(4, server.addr).await);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (mine, _) = server.state.gate.open(ip(4));
    assert_eq!(mine, 40, "the gate counts what one address holds");
    // Those beyond the cap were closed at once, with a reason.
    let mut beyond = 0;
    for stream in &mut held[40..] {
        let mut reply = String::new();
        let _ =
            tokio::time::timeout(Duration::from_secs(1), stream.read_to_string(&mut reply)).await;
        if reply.starts_with("HTTP/1.1 503") {
            beyond += 1;
        }
    }
    assert_eq!(beyond, 80);
    for _ in 0..10 {
        assert!(normal_request(&server, 5).await < Duration::from_secs(2));
    }
    honest_pair_completes(&server).await;
    drop(held);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        server.state.gate.open(ip(4)).0,
        0,
        "closing gives the places back"
    );
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_server_refuses_new_connections_instead_of_running_out_of_descriptors() {
    let server = TestServer::start(|c| {
        c.server.max_connections = 30;
        c.server.max_connections_per_ip = 20;
        c.server.header_read_timeout_secs = 30;
    })
    .await;
    let mut held = Vec::new();
    for from in [4, 6] {
        for _ in 0..20 {
            held.push(connect(from, server.addr).await);
        }
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(server.state.gate.open(ip(5)).1, 30);
    // Full: a newcomer is told so at once instead of hanging.
    let mut newcomer = connect(5, server.addr).await;
    let mut reply = String::new();
    tokio::time::timeout(Duration::from_secs(2), newcomer.read_to_string(&mut reply))
        .await
        .unwrap()
        .unwrap();
    assert!(reply.starts_with("HTTP/1.1 503"), "{reply}");
    drop(held);
    tokio::time::sleep(Duration::from_millis(200)).await;
    honest_pair_completes(&server).await;
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websockets_per_address_are_capped() {
    let server = TestServer::start(|c| c.server.max_websockets_per_ip = 10).await;
    let url = format!("ws://{}/ws/ping", server.addr);
    let mut open = Vec::new();
    let mut refused = 0;
    for _ in 0..30 {
        let socket = TcpSocket::new_v4().unwrap();
        socket.bind(SocketAddr::new(ip(4), 0)).unwrap();
        let stream = socket.connect(server.addr).await.unwrap();
        match tokio_tungstenite::client_async(url.as_str(), stream).await {
            Ok((ws, _)) => open.push(ws),
            Err(tungstenite::Error::Http(response)) => {
                assert_eq!(response.status().as_u16(), 429);
                refused += 1;
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!((open.len(), refused), (10, 20));
    // Someone else's ping still gets its pong.
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(ip(5), 0)).unwrap();
    let stream = socket.connect(server.addr).await.unwrap();
    let (mut ws, _) = tokio_tungstenite::client_async(url.as_str(), stream)
        .await
        .unwrap();
    use futures::SinkExt;
    ws.send(tungstenite::Message::Text(
        r#"{"type":"ping","nonce":7}"#.into(),
    ))
    .await
    .unwrap();
    let pong = ws.next().await.unwrap().unwrap();
    assert!(pong.to_text().unwrap().contains("pong"), "{pong}");
    // Closing one frees its place.
    drop(open.pop());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(server.state.gate.open(ip(4)).0, 9);
    honest_pair_completes(&server).await;
    server.stop().await.unwrap();
}

// ------------------------------------------------------------------ the data plane's liveness

/// Runs a channel's exchange with placeholder values up to h_k and `open`s both data sides;
/// returns (channel, sender uuid, recipient uuid, h_k).
async fn confirmed_channel(server: &TestServer) -> (String, String, String, String) {
    let (channel, s_uuid) = open_sender(server, 2).await;
    let (sender, recipient) = (client_from(2), client_from(3));
    let (_, joined) = post(
        &recipient,
        server.url("/open"),
        json!({"channel": channel, "role": "recipient"}),
    )
    .await;
    let r_uuid = joined["uuid"].as_str().unwrap().to_owned();
    let fill = |prefix: &str, len: usize, c: char| {
        let mut s = prefix.to_owned();
        while s.len() < len {
            s.push(c);
        }
        s
    };
    let url = |p: String| server.url(&p);
    post(
        &sender,
        url(format!("/channel/{channel}")),
        json!({"uuid": s_uuid, "x": fill("41", 66, '1'), "curve": "ed25519"}),
    )
    .await;
    post(
        &recipient,
        url(format!("/channel/{channel}")),
        json!({"uuid": r_uuid, "y": fill("42", 66, '2'), "hh_k": fill("", 64, 'a')}),
    )
    .await;
    let h_k = fill("", 64, 'b');
    post(
        &sender,
        url(format!("/sender/{channel}/h_k")),
        json!({"uuid": s_uuid, "h_k": h_k}),
    )
    .await;
    for (client, role, uuid) in [
        (&sender, "sender", &s_uuid),
        (&recipient, "recipient", &r_uuid),
    ] {
        let res = client
            .get(url(format!("/{role}/{channel}/open?uuid={uuid}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    (channel, s_uuid, r_uuid, h_k)
}

async fn data_connection(
    server: &TestServer,
    from: u8,
    channel: &str,
    uuid: &str,
    h_k: &str,
) -> BufReader<TcpStream> {
    let mut stream = connect(from, server.data_addr).await;
    stream
        .write_all(format!("zkrelay-data 2 {channel} {uuid} {h_k}\n").as_bytes())
        .await
        .unwrap();
    BufReader::new(stream)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moving_transfer_outlives_the_channel_ttl_and_an_idle_one_is_cut() {
    let server = TestServer::start(|c| {
        c.relay.channel_ttl_secs = 1;
        c.relay.transfer_idle_secs = 2;
    })
    .await;
    let (channel, s_uuid, r_uuid, h_k) = confirmed_channel(&server).await;
    let mut a = data_connection(&server, 2, &channel, &s_uuid, &h_k).await;
    let mut b = data_connection(&server, 3, &channel, &r_uuid, &h_k).await;
    let mut line = String::new();
    a.read_line(&mut line).await.unwrap();
    assert_eq!(line, "ok\n");
    line.clear();
    b.read_line(&mut line).await.unwrap();
    assert_eq!(line, "ok\n");
    // Four seconds of data, well past the one-second TTL, a chunk every 400 ms.
    let started = Instant::now();
    let mut chunk = [0u8; 1000];
    while started.elapsed() < Duration::from_secs(4) {
        a.get_mut().write_all(&[7u8; 1000]).await.unwrap();
        b.read_exact(&mut chunk).await.unwrap();
        assert_eq!(chunk, [7u8; 1000]);
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    // Then silence: the relay cuts the transfer after the idle timeout and frees the channel.
    let silent = Instant::now();
    assert!(closed_within(b.get_mut(), Duration::from_secs(5)).await);
    assert!(
        silent.elapsed() >= Duration::from_millis(1500),
        "{:?}",
        silent.elapsed()
    );
    assert!(server.state.relay.watch(&channel).is_none());
    honest_pair_completes(&server).await;
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parked_connection_whose_client_left_is_freed() {
    let server = TestServer::start(|_| {}).await;
    let (channel, s_uuid, r_uuid, h_k) = confirmed_channel(&server).await;
    let parked = data_connection(&server, 2, &channel, &s_uuid, &h_k).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        server.state.gate.open(ip(2)).0,
        1,
        "the parked connection is held"
    );
    drop(parked);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        server.state.gate.open(ip(2)).0,
        0,
        "its descriptor was freed"
    );
    // The sender may connect again, and the transfer staples.
    let mut a = data_connection(&server, 2, &channel, &s_uuid, &h_k).await;
    let mut b = data_connection(&server, 3, &channel, &r_uuid, &h_k).await;
    let (mut la, mut lb) = (String::new(), String::new());
    a.read_line(&mut la).await.unwrap();
    b.read_line(&mut lb).await.unwrap();
    assert_eq!((la.as_str(), lb.as_str()), ("ok\n", "ok\n"));
    honest_pair_completes(&server).await;
    server.stop().await.unwrap();
}

// ------------------------------------------------------------------ IPv6

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipv6_and_ipv4_mapped_peers_are_one_address_each() {
    let Some(server) = TestServer::start_dual_stack(|_| {}).await else {
        eprintln!("no IPv6 loopback on this machine: skipped");
        return;
    };
    // Over IPv6: the sender from [::1], the recipient from 127.0.0.3 through the dual-stack
    // data port, where it arrives IPv4-mapped and must still count as 127.0.0.3.
    let six = Endpoint {
        server: format!("http://[::1]:{}", server.addr.port()),
        bind: Some("::1".parse().unwrap()),
    };
    let (sender, heard) = spawn_sender(six, "over six");
    let phrase = heard.await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let got = transfer::receive(
        &endpoint(&server, 3),
        &phrase,
        &Destination::Folder(dir.path().to_owned()),
    )
    .await
    .unwrap();
    assert_eq!(got.text.as_deref(), Some("over six"));
    sender.await.unwrap().unwrap();
    honest_pair_completes(&server).await;
    server.stop().await.unwrap();
}

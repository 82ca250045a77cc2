//! Helpers for the Identify run tests: raw Peggy and Victor sockets from their own loopback
//! addresses (127.0.0.<last>), registrations, and the checks on what the server keeps.
#![allow(dead_code, clippy::unwrap_used)]

use super::{TestServer, client_from};
use futures::{SinkExt, StreamExt};
use reqwest::Client;
use serde_json::Value;
use std::{net::IpAddr, time::Duration};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream, client_async,
    tungstenite::{self, Message, protocol::CloseFrame},
};
use zkrelay::{
    cli::transfer::Endpoint,
    protocol::{
        ffs::{BlumModulus, PublicKey, SecretKey, wire},
        identify::{Message as Wire, PeggyRun, VictorRun},
    },
    rng::os_rng,
    server::Config,
};

pub const BITS: u32 = 1024;

/// A server for Identify runs: 1024-bit moduli, a small pool, `idle_secs` of idle timeout, limits
/// on drawing and registering high enough for many Peggys from one address, and `tune` last.
pub async fn start(idle_secs: u64, tune: impl FnOnce(&mut Config)) -> TestServer {
    TestServer::start(move |c| {
        c.blum.modulus_bits = BITS;
        c.blum.pool_size = 2;
        c.identify.idle_timeout_secs = idle_secs;
        c.identify.draws_per_ip_per_minute = 1000;
        c.identify.registrations_per_ip_per_minute = 1000;
        tune(c);
    })
    .await
}

pub fn endpoint(server: &TestServer, last: u8) -> Endpoint {
    Endpoint {
        server: format!("http://{}", server.addr),
        bind: Some(IpAddr::from([127, 0, 0, last])),
    }
}

pub async fn server_fn(
    http: &Client,
    server: &TestServer,
    name: &str,
    args: &[(&str, &str)],
) -> Value {
    let res = http
        .post(server.url(&format!("/api/{name}")))
        .form(args)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{name}: {}", res.status());
    res.json().await.unwrap()
}

/// A registered Peggy: her id, her seat secret, modulus id and secret key (k = 20).
pub struct Registered {
    pub id: String,
    pub secret: String,
    pub modulus_id: i64,
    pub key: SecretKey,
}

impl Registered {
    /// Her socket's query: `peggy_id=…&secret=…`.
    pub fn seat(&self) -> String {
        format!("peggy_id={}&secret={}", self.id, self.secret)
    }
}

/// Registers a Peggy named `name` from 127.0.0.2.
pub async fn register(server: &TestServer, name: &str) -> Registered {
    let http = client_from(2);
    let drawn = server_fn(&http, server, "draw_modulus", &[]).await;
    let n = wire::decode(drawn["n"].as_str().unwrap(), BITS).unwrap();
    let modulus = BlumModulus::from_stored(&n).unwrap();
    let key = SecretKey::generate(&mut os_rng(), &modulus, 20).unwrap();
    let modulus_id = drawn["modulus_id"].as_i64().unwrap();
    let body = server_fn(
        &http,
        server,
        "register_peggy",
        &[
            ("name", name),
            ("modulus_id", &modulus_id.to_string()),
            (
                "public_key",
                &serde_json::to_string(key.public_key()).unwrap(),
            ),
        ],
    )
    .await;
    Registered {
        id: body["peggy_id"].as_str().unwrap().to_owned(),
        secret: body["peggy_secret"].as_str().unwrap().to_owned(),
        modulus_id,
        key,
    }
}

pub async fn listed(server: &TestServer) -> Vec<Value> {
    server_fn(&client_from(3), server, "list_peggys", &[])
        .await
        .as_array()
        .unwrap()
        .clone()
}

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Opens `/ws/identify/{role}?{query}` from 127.0.0.<last>; the handshake's error if refused.
pub async fn try_socket(
    server: &TestServer,
    last: u8,
    role: &str,
    query: &str,
) -> Result<Ws, tungstenite::Error> {
    let tcp = TcpSocket::new_v4().unwrap();
    tcp.bind((IpAddr::from([127, 0, 0, last]), 0).into())
        .unwrap();
    let stream = tcp.connect(server.addr).await.unwrap();
    let url = format!("ws://{}/ws/identify/{role}?{query}", server.addr);
    client_async(url, MaybeTlsStream::Plain(stream))
        .await
        .map(|(ws, _)| ws)
}

/// Opens `/ws/identify/{role}?{query}` from 127.0.0.<last>.
pub async fn socket(server: &TestServer, last: u8, role: &str, query: &str) -> Ws {
    try_socket(server, last, role, query).await.unwrap()
}

/// Peggy's socket, with her secret, from 127.0.0.<last>.
pub async fn peggy_socket(server: &TestServer, last: u8, peggy: &Registered) -> Ws {
    socket(server, last, "peggy", &peggy.seat()).await
}

/// A Victor's socket for the Peggy `peggy_id`, from 127.0.0.<last>.
pub async fn victor_socket(server: &TestServer, last: u8, peggy_id: &str) -> Ws {
    socket(server, last, "victor", &format!("peggy_id={peggy_id}")).await
}

/// The next text message, skipping pings.
pub async fn next_text(ws: &mut Ws) -> String {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("no message within 10 s");
        match msg {
            Some(Ok(Message::Text(text))) => return text.to_string(),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            other => panic!("expected a text message, got {other:?}"),
        }
    }
}

pub async fn next_wire(ws: &mut Ws) -> Wire {
    Wire::parse(&next_text(ws).await, usize::MAX).unwrap()
}

/// Asserts that nothing but pings arrives on `ws` for `wait`.
pub async fn quiet(ws: &mut Ws, wait: Duration) {
    let _ = tokio::time::timeout(wait, async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                other => panic!("expected silence, got {other:?}"),
            }
        }
    })
    .await;
}

/// The end of a socket: the `error` message before it (if any) and the close frame.
pub async fn next_close(ws: &mut Ws) -> (Option<Value>, CloseFrame) {
    let mut error = None;
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("no close within 10 s");
        match msg {
            Some(Ok(Message::Close(Some(frame)))) => return (error, frame),
            Some(Ok(Message::Text(text))) => {
                let value: Value = serde_json::from_str(&text).unwrap();
                assert_eq!(value["type"], "error", "{value}");
                error = Some(value);
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

/// Asserts the socket ends with an `error` of `code` saying `says`, and a close of `close`;
/// returns the error.
pub async fn ends_with(ws: &mut Ws, code: &str, close: u16, says: &str) -> Value {
    let (error, frame) = next_close(ws).await;
    let error = error.unwrap_or_else(|| panic!("no error before {frame:?}"));
    assert_eq!(error["code"], code, "{error}");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains(says), "wanted {says:?} in {error}");
    assert_eq!(u16::from(frame.code), close, "{frame:?}");
    error
}

/// Asserts Peggy's next message is `unpaired` saying `says`; returns its message.
pub async fn unpaired(ws: &mut Ws, says: &str) -> String {
    match next_wire(ws).await {
        Wire::Unpaired { message } => {
            assert!(message.contains(says), "wanted {says:?} in {message:?}");
            message
        }
        other => panic!("expected unpaired, got {other:?}"),
    }
}

pub async fn send_text(ws: &mut Ws, text: &str) {
    ws.send(Message::text(text.to_owned())).await.unwrap();
}

/// Rows for the Peggy `id` in the server's SQLite file, read through a connection of its own.
pub async fn rows_in_file(server: &TestServer, id: &str) -> i64 {
    let url = &server.state.config.database.url;
    let pool = sqlx::SqlitePool::connect(url).await.unwrap();
    let rows = sqlx::query_scalar("SELECT COUNT(*) FROM peggys WHERE id = ?")
        .bind(id)
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    rows
}

/// Waits until the server has erased the Peggy: her row, her modulus and her run.
pub async fn gone(server: &TestServer, peggy: &Registered) {
    for _ in 0..250 {
        let store = &server.state.store;
        if store.peggy(&peggy.id).await.unwrap().is_none() {
            // Her modulus is deleted (SQLite may reuse its id for a fresh, unissued one).
            let modulus = store.modulus(peggy.modulus_id).await.unwrap();
            assert!(
                modulus.is_none_or(|m| !m.issued),
                "her modulus is still issued"
            );
            // The run goes just before the rows.
            assert!(server.state.identify.watch(&peggy.id).is_none());
            assert_eq!(rows_in_file(server, &peggy.id).await, 0);
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the Peggy was not erased");
}

/// Waits until the server has seated the Peggy (her socket's task runs after the handshake).
pub async fn waiting(server: &TestServer, peggy: &Registered) {
    for _ in 0..250 {
        if server.state.identify.watch(&peggy.id).is_some() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the Peggy was never seated");
}

/// Waits until the Peggy is free for Victors again, and checks she was not erased: listed and
/// not busy, her row in the SQLite file, her run (and her socket's seat) still there.
pub async fn free_again(server: &TestServer, peggy_id: &str) {
    for _ in 0..250 {
        let list = listed(server).await;
        let me = list.iter().find(|p| p["peggy_id"] == peggy_id);
        let me = me.unwrap_or_else(|| panic!("Peggy {peggy_id} is not listed: {list:?}"));
        if me["busy"] == false {
            assert_eq!(rows_in_file(server, peggy_id).await, 1);
            assert!(server.state.identify.watch(peggy_id).is_some(), "no run");
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the Peggy stayed busy");
}

/// Whether `list_peggys` shows the Peggy busy.
pub async fn busy(server: &TestServer, peggy_id: &str) -> bool {
    listed(server)
        .await
        .iter()
        .find(|p| p["peggy_id"] == peggy_id)
        .map(|p| p["busy"] == true)
        .unwrap()
}

/// Pairs a Victor (from 127.0.0.<last>) with the waiting Peggy on `p`; both `paired` read.
/// Returns his socket and her public key.
pub async fn pair(server: &TestServer, peggy_id: &str, p: &mut Ws, last: u8) -> (Ws, PublicKey) {
    let mut v = victor_socket(server, last, peggy_id).await;
    let public_key = match next_wire(&mut v).await {
        Wire::Paired {
            peggy: Some(card),
            public_key: Some(key),
        } => {
            assert_eq!(card.peggy_id, peggy_id);
            key
        }
        other => panic!("{other:?}"),
    };
    assert!(matches!(
        next_wire(p).await,
        Wire::Paired {
            peggy: None,
            public_key: None
        }
    ));
    (v, public_key)
}

/// A Peggy (from .2) and a Victor (from .3) paired on raw sockets; both `paired` messages read.
pub async fn paired(server: &TestServer) -> (Registered, Ws, Ws) {
    let peggy = register(server, "Peggy").await;
    let mut p = peggy_socket(server, 2, &peggy).await;
    waiting(server, &peggy).await;
    let (v, _) = pair(server, &peggy.id, &mut p, 3).await;
    (peggy, p, v)
}

/// An honest run of `rounds` rounds over paired raw sockets, each message arriving exactly as
/// sent; Peggy proves with `prover` (fresh, or after `unpaired`). Ends with both sockets closed
/// normally and the Peggy erased.
pub async fn honest_run(
    server: &TestServer,
    peggy: &Registered,
    prover: &mut PeggyRun,
    p: &mut Ws,
    mut v: Ws,
    public_key: PublicKey,
    rounds: u32,
) {
    let mut rng = os_rng();
    let (mut verifier, start) = VictorRun::new(public_key, rounds).unwrap();
    let mut to_peggy = vec![start];
    while !to_peggy.is_empty() {
        let mut to_victor = Vec::new();
        for m in to_peggy.drain(..) {
            send_text(&mut v, &m.to_json()).await;
            let got = next_wire(p).await;
            assert_eq!(got.to_json(), m.to_json());
            to_victor.extend(prover.handle(&mut rng, got).unwrap().send);
        }
        for m in to_victor {
            send_text(p, &m.to_json()).await;
            let got = next_wire(&mut v).await;
            assert_eq!(got.to_json(), m.to_json());
            to_peggy.extend(verifier.handle(got).unwrap().send);
            if verifier.awaiting_challenge() {
                to_peggy.push(verifier.challenge(&mut rng).unwrap().1);
            }
        }
    }
    assert!(verifier.verdict().unwrap().accepted);
    assert!(prover.is_finished());
    // Peggy acknowledged the verdict: the run finished, both close normally, she is erased.
    let (error, frame) = next_close(&mut v).await;
    assert!(error.is_none());
    assert_eq!(
        (u16::from(frame.code), frame.reason.as_str()),
        (1000, "identification finished")
    );
    let (error, frame) = next_close(p).await;
    assert!(error.is_none());
    assert_eq!(u16::from(frame.code), 1000);
    gone(server, peggy).await;
}

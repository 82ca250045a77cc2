//! Identification runs against a real server: the CLI's Peggy and Victor accept each other; the
//! pairing refuses a third connection and a third IP; a forged or out-of-order message, a peer
//! leaving and a peer going silent each end the run on both sides with a clear error and erase
//! the Peggy.
#![allow(clippy::unwrap_used)] // tests may unwrap

mod common;

use common::{TestServer, client_from};
use futures::{SinkExt, StreamExt};
use reqwest::Client;
use serde_json::Value;
use std::{net::IpAddr, time::Duration};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream, client_async,
    tungstenite::{Message, protocol::CloseFrame},
};
use zkrelay::{
    cli::{
        identify::{self, Outcome, Seen},
        transfer::Endpoint,
    },
    protocol::{
        ffs::{BlumModulus, SecretKey, wire},
        identify::{Message as Wire, PeggyRun, VictorRun},
    },
    rng::os_rng,
};

const BITS: u32 = 1024;

async fn start(idle_secs: u64) -> TestServer {
    TestServer::start(move |c| {
        c.blum.modulus_bits = BITS;
        c.blum.pool_size = 2;
        c.identify.idle_timeout_secs = idle_secs;
    })
    .await
}

fn endpoint(server: &TestServer, last: u8) -> Endpoint {
    Endpoint {
        server: format!("http://{}", server.addr),
        bind: Some(IpAddr::from([127, 0, 0, last])),
    }
}

async fn server_fn(http: &Client, server: &TestServer, name: &str, args: &[(&str, &str)]) -> Value {
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
struct Registered {
    id: String,
    secret: String,
    modulus_id: i64,
    key: SecretKey,
}

impl Registered {
    /// Her socket's query: `peggy_id=…&secret=…`.
    fn seat(&self) -> String {
        format!("peggy_id={}&secret={}", self.id, self.secret)
    }
}

async fn register(server: &TestServer, name: &str) -> Registered {
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

async fn listed(server: &TestServer) -> Vec<Value> {
    server_fn(&client_from(3), server, "list_peggys", &[])
        .await
        .as_array()
        .unwrap()
        .clone()
}

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Opens `/ws/identify/{role}?{query}` from 127.0.0.<last>.
async fn socket(server: &TestServer, last: u8, role: &str, query: &str) -> Ws {
    let tcp = TcpSocket::new_v4().unwrap();
    tcp.bind((IpAddr::from([127, 0, 0, last]), 0).into())
        .unwrap();
    let stream = tcp.connect(server.addr).await.unwrap();
    let url = format!("ws://{}/ws/identify/{role}?{query}", server.addr);
    let (ws, _) = client_async(url, MaybeTlsStream::Plain(stream))
        .await
        .unwrap();
    ws
}

/// The next text message, skipping pings.
async fn next_text(ws: &mut Ws) -> String {
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

async fn next_wire(ws: &mut Ws) -> Wire {
    Wire::parse(&next_text(ws).await, usize::MAX).unwrap()
}

/// The end of a socket: the `error` message before it (if any) and the close frame.
async fn next_close(ws: &mut Ws) -> (Option<Value>, CloseFrame) {
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

/// Asserts the socket ends with an `error` of `code` saying `says`, and a close of `close`.
async fn ends_with(ws: &mut Ws, code: &str, close: u16, says: &str) {
    let (error, frame) = next_close(ws).await;
    let error = error.unwrap_or_else(|| panic!("no error before {frame:?}"));
    assert_eq!(error["code"], code, "{error}");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains(says), "wanted {says:?} in {error}");
    assert_eq!(u16::from(frame.code), close, "{frame:?}");
}

async fn send_text(ws: &mut Ws, text: &str) {
    ws.send(Message::text(text.to_owned())).await.unwrap();
}

/// Waits until the server has erased the Peggy: her row, her modulus and her run.
async fn gone(server: &TestServer, peggy: &Registered) {
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
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the Peggy was not erased");
}

/// Waits until the server has seated the Peggy (her socket's task runs after the handshake).
async fn waiting(server: &TestServer, peggy: &Registered) {
    for _ in 0..250 {
        if server.state.identify.watch(&peggy.id).is_some() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the Peggy was never seated");
}

/// A Peggy (from .2) and a Victor (from .3) paired on raw sockets; both `paired` messages read.
async fn paired(server: &TestServer) -> (Registered, Ws, Ws) {
    let peggy = register(server, "Peggy").await;
    let mut p = socket(server, 2, "peggy", &peggy.seat()).await;
    waiting(server, &peggy).await;
    let mut v = socket(server, 3, "victor", &format!("peggy_id={}", peggy.id)).await;
    assert!(matches!(
        next_wire(&mut v).await,
        Wire::Paired {
            peggy: Some(_),
            public_key: Some(_)
        }
    ));
    assert!(matches!(
        next_wire(&mut p).await,
        Wire::Paired {
            peggy: None,
            public_key: None
        }
    ));
    (peggy, p, v)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_peggy_and_cli_victor_complete_a_run_and_the_peggy_is_erased() {
    let server = start(60).await;
    let peggy_end = endpoint(&server, 2);
    let victor_end = endpoint(&server, 3);
    let mut peggy_saw = Vec::new();
    let mut victor_saw = Vec::new();
    let peggy = identify::peggy(&peggy_end, "Peggy CLI", 20, |s| peggy_saw.push(s));
    let victor = async {
        let found = identify::find_peggy(&victor_end, "Peggy CLI", Duration::from_secs(10))
            .await
            .unwrap();
        assert_eq!((found.bits, found.k, found.busy), (BITS, 20, false));
        let outcome = identify::victor(&victor_end, &found.peggy_id, 10, |s| victor_saw.push(s))
            .await
            .unwrap();
        (found.peggy_id, outcome)
    };
    let (peggy_outcome, (peggy_id, victor_outcome)) = tokio::join!(peggy, victor);
    let accepted = Outcome {
        accepted: true,
        rounds_passed: 10,
        rounds: 10,
    };
    assert_eq!(peggy_outcome.unwrap(), accepted);
    assert_eq!(victor_outcome, accepted);
    // Both saw every round: Victor a check per round, Peggy a result per round.
    let checks = victor_saw
        .iter()
        .filter(|s| {
            matches!(
                s,
                Seen::Victor(zkrelay::protocol::identify::VictorEvent::Checked {
                    passed: true,
                    ..
                })
            )
        })
        .count();
    assert_eq!(checks, 10);
    let results = peggy_saw
        .iter()
        .filter(|s| {
            matches!(
                s,
                Seen::Peggy(zkrelay::protocol::identify::PeggyEvent::Checked { passed: true, .. })
            )
        })
        .count();
    assert_eq!(results, 10);
    // Erased: not listed, no row, no run.
    for _ in 0..250 {
        if server.state.store.peggy(&peggy_id).await.unwrap().is_none() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(server.state.store.peggy(&peggy_id).await.unwrap().is_none());
    assert!(listed(&server).await.is_empty());
    assert!(server.state.identify.is_empty());

    // A Victor asking for a Peggy nobody registered gets a clear error.
    let err = identify::find_peggy(&victor_end, "Nobody", Duration::ZERO)
        .await
        .unwrap_err();
    assert!(err.contains("no Peggy named \"Nobody\""), "{err}");
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pairing_refuses_bad_ids_a_third_connection_and_a_third_ip() {
    let server = start(60).await;
    let peggy = register(&server, "Peggy").await;
    let zeros = "0".repeat(32);
    for (role, id, code, says) in [
        ("victor", "nope", "invalid_value", "32 lowercase hex"),
        ("victor", zeros.as_str(), "not_found", "no Peggy"),
        ("victor", peggy.id.as_str(), "not_found", "not connected"),
        ("peggy", zeros.as_str(), "not_found", "no Peggy"),
    ] {
        let mut ws = socket(&server, 3, role, &format!("peggy_id={id}")).await;
        ends_with(&mut ws, code, 1008, says).await;
    }

    let mut p = socket(&server, 2, "peggy", &peggy.seat()).await;
    waiting(&server, &peggy).await;
    let mut again = socket(&server, 2, "peggy", &peggy.seat()).await;
    ends_with(&mut again, "conflict", 1008, "already connected").await;
    let mut v = socket(&server, 3, "victor", &format!("peggy_id={}", peggy.id)).await;
    let public_key = match next_wire(&mut v).await {
        Wire::Paired {
            peggy: Some(card),
            public_key: Some(key),
        } => {
            assert_eq!(card.peggy_id, peggy.id);
            assert_eq!((card.name.as_str(), card.bits, card.k), ("Peggy", BITS, 20));
            key
        }
        other => panic!("{other:?}"),
    };
    assert!(matches!(next_wire(&mut p).await, Wire::Paired { .. }));
    assert_eq!(listed(&server).await[0]["busy"], true);

    // A third IP, as either role, and a third connection from a seated IP: refused. Without her
    // secret a Peggy socket is refused as if she did not exist; with it, she is already there.
    let victor_query = format!("peggy_id={}", peggy.id);
    let seat = peggy.seat();
    for (last, role, query, code, says) in [
        (4, "victor", &victor_query, "conflict", "busy"),
        (
            4,
            "peggy",
            &victor_query,
            "not_found",
            "no Peggy is registered",
        ),
        (4, "peggy", &seat, "conflict", "already connected"),
        (3, "victor", &victor_query, "conflict", "busy"),
        (2, "peggy", &seat, "conflict", "already connected"),
    ] {
        let mut ws = socket(&server, last, role, query).await;
        ends_with(&mut ws, code, 1008, says).await;
    }

    // The run is unaffected: two real rounds, each message arriving exactly as sent.
    let mut rng = os_rng();
    let mut prover = PeggyRun::new(&peggy.key);
    let (mut verifier, start) = VictorRun::new(public_key, 2).unwrap();
    let mut to_peggy = vec![start];
    while !to_peggy.is_empty() {
        let mut to_victor = Vec::new();
        for m in to_peggy.drain(..) {
            send_text(&mut v, &m.to_json()).await;
            let got = next_wire(&mut p).await;
            assert_eq!(got.to_json(), m.to_json());
            to_victor.extend(prover.handle(&mut rng, got).unwrap().send);
        }
        for m in to_victor {
            send_text(&mut p, &m.to_json()).await;
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
    let (error, frame) = next_close(&mut p).await;
    assert!(error.is_none());
    assert_eq!(u16::from(frame.code), 1000);
    gone(&server, &peggy).await;
    server.stop().await.unwrap();
}

/// Messages that set a run up, the bad message (and who sends it), and the reason both hear.
type Case = (Vec<(By, String)>, By, Message, &'static str);

/// Who sends a scripted message.
#[derive(Clone, Copy)]
enum By {
    Peggy,
    Victor,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_or_out_of_order_message_ends_the_run_on_both_sides() {
    let server = start(60).await;
    let zeros = "0".repeat(20);
    let start_msg = r#"{"type":"start","rounds":2}"#.to_owned();
    let commit = r#"{"type":"commit","round":1,"x":"4"}"#.to_owned();
    let challenge = format!(r#"{{"type":"challenge","round":1,"e":"{zeros}"}}"#);
    let response = r#"{"type":"response","round":1,"y":"5"}"#.to_owned();
    let result = r#"{"type":"result","round":1,"passed":true}"#.to_owned();
    let oversize = format!(
        r#"{{"type":"commit","round":1,"x":"{}"}}"#,
        "f".repeat(20_000)
    );
    let cases: Vec<Case> = vec![
        (
            vec![(By::Victor, start_msg.clone()), (By::Peggy, commit.clone())],
            By::Peggy,
            Message::text(response.clone()),
            "expects Victor's challenge for round 1",
        ),
        (
            vec![
                (By::Victor, start_msg.clone()),
                (By::Peggy, commit.clone()),
                (By::Victor, challenge.clone()),
                (By::Peggy, response.clone()),
                (By::Victor, result.clone()),
            ],
            By::Peggy,
            Message::text(r#"{"type":"commit","round":2,"x":"4"}"#),
            "repeats an earlier commitment",
        ),
        (
            vec![(By::Victor, start_msg.clone())],
            By::Peggy,
            Message::text(r#"{"type":"commit","round":1,"x":"0"}"#),
            "must not be zero",
        ),
        (
            vec![
                (By::Victor, start_msg.clone()),
                (By::Peggy, commit.clone()),
                (By::Victor, challenge.clone()),
            ],
            By::Peggy,
            Message::text(format!(
                r#"{{"type":"response","round":1,"y":"{}"}}"#,
                "f".repeat(256)
            )),
            "y of round 1 is invalid",
        ),
        (
            vec![(By::Victor, start_msg.clone()), (By::Peggy, commit.clone())],
            By::Victor,
            Message::text(r#"{"type":"challenge","round":1,"e":"101"}"#),
            "has 3 bits; this key has k = 20",
        ),
        (
            vec![],
            By::Victor,
            Message::text(r#"{"type":"hello"}"#),
            "unknown message type",
        ),
        (
            vec![(By::Victor, start_msg.clone())],
            By::Peggy,
            Message::text(oversize),
            "larger than",
        ),
        (
            vec![],
            By::Victor,
            Message::text(r#"{"type":"paired"}"#),
            "only the server sends",
        ),
        (
            vec![],
            By::Peggy,
            Message::binary(vec![1, 2, 3]),
            "only text messages",
        ),
    ];
    for (setup, by, bad, why) in cases {
        let (peggy, mut p, mut v) = paired(&server).await;
        for (from, text) in &setup {
            let (tx, rx) = match from {
                By::Peggy => (&mut p, &mut v),
                By::Victor => (&mut v, &mut p),
            };
            send_text(tx, text).await;
            assert_eq!(&next_text(rx).await, text, "forwarded unchanged");
        }
        let offender = match by {
            By::Peggy => {
                p.send(bad).await.unwrap();
                "Peggy"
            }
            By::Victor => {
                v.send(bad).await.unwrap();
                "Victor"
            }
        };
        // Both sides get the same clear error: who broke which rule.
        for ws in [&mut p, &mut v] {
            let (error, frame) = next_close(ws).await;
            let error = error.unwrap();
            let message = error["message"].as_str().unwrap();
            assert_eq!(error["code"], "protocol", "{error}");
            assert!(
                message.starts_with(&format!("{offender} broke the protocol: ")),
                "{error}"
            );
            assert!(message.contains(why), "wanted {why:?} in {error}");
            assert_eq!(u16::from(frame.code), 1008, "{frame:?}");
        }
        gone(&server, &peggy).await;
    }
    // A frame beyond the WebSocket limit ends the connection itself; Victor is told Peggy left.
    let (peggy, mut p, mut v) = paired(&server).await;
    let _ = p.send(Message::text("x".repeat(200_000))).await;
    ends_with(&mut v, "peer_left", 1001, "Peggy left the run").await;
    gone(&server, &peggy).await;
    assert!(listed(&server).await.is_empty());
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peggy_leaving_or_going_silent_resets_both_sides() {
    let server = start(1).await;
    // Peggy closes her page mid-run.
    let (peggy, mut p, mut v) = paired(&server).await;
    send_text(&mut v, r#"{"type":"start","rounds":3}"#).await;
    next_text(&mut p).await;
    p.close(None).await.unwrap();
    ends_with(&mut v, "peer_left", 1001, "Peggy left the run").await;
    gone(&server, &peggy).await;

    // Victor leaves: Peggy is told, and erased.
    let (peggy, mut p, v) = paired(&server).await;
    drop(v);
    ends_with(&mut p, "peer_left", 1001, "Victor left the run").await;
    gone(&server, &peggy).await;

    // Peggy goes silent (no pongs: her socket is never read) while Victor keeps answering.
    let (peggy, _silent, mut v) = paired(&server).await;
    ends_with(&mut v, "peer_left", 1001, "Peggy went silent for 1 s").await;
    gone(&server, &peggy).await;

    // A waiting Peggy who never connects a Victor and goes silent is erased too.
    let lonely = register(&server, "Lonely").await;
    let _silent = socket(&server, 2, "peggy", &lonely.seat()).await;
    gone(&server, &lonely).await;
    assert!(listed(&server).await.is_empty());
    server.stop().await.unwrap();
}

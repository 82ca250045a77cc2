//! `zkrelay peggy` and `zkrelay victor`: Identify's CLI participants (docs/PROTOCOL.md).
//!
//! They drive the same pure state machines as the browser pages
//! ([`crate::protocol::identify`]) over the server functions and the run's WebSocket. They are
//! library functions so tests and benchmarks run them in-process against a real server.
//!
//! Peggy's seat secret (from `register_peggy`) goes only into her socket's URL: it is never
//! printed or logged. When her Victor leaves before the verdict she keeps waiting for the next.

use super::transfer::{Api, Endpoint};
use crate::{
    api::{DemoModulus, DrawnModulus, PeggySummary, Registered},
    protocol::identify::{
        Message as Wire, Nonce, PeggyEvent, PeggyRun, VictorEvent, VictorRun, WireNumber,
        readable::Readable,
    },
    rng::os_rng,
};
use futures::{SinkExt, StreamExt};
use serde::de::DeserializeOwned;
use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::{
    WebSocketStream,
    tungstenite::{Message, protocol::WebSocketConfig},
};

type Result<T> = std::result::Result<T, String>;
/// A run's WebSocket, as the CLI holds it.
pub type Socket = WebSocketStream<TcpStream>;

/// Largest message the CLI reads (Victor's `paired` carries a key of up to 64 × 4096 bits).
const MAX_MESSAGE: usize = 256 * 1024;

/// What one side saw, for the caller to print.
#[derive(Debug, Clone)]
pub enum Seen {
    /// Peggy registered and waits for a Victor.
    Waiting {
        peggy_id: String,
        bits: u32,
        k: u32,
    },
    /// A Victor joined (Peggy) or Victor joined this Peggy.
    Paired {
        name: String,
        bits: u32,
        k: u32,
    },
    Peggy(PeggyEvent),
    Victor(VictorEvent),
    /// A demo-sized round worked out in decimal (`--demo`): one formula.
    Worked(String),
}

/// The outcome of a run as one side saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub accepted: bool,
    pub rounds_passed: u32,
    pub rounds: u32,
}

async fn server_fn<T: DeserializeOwned>(api: &Api, name: &str, args: &[(&str, &str)]) -> Result<T> {
    call_server_fn(&api.http, &api.base, name, args).await
}

/// Calls the server function `name` at `base` (e.g. `http://127.0.0.1:3000`) with form
/// arguments; the reply's JSON, or the server's message when it refuses.
pub async fn call_server_fn<T: DeserializeOwned>(
    http: &reqwest::Client,
    base: &str,
    name: &str,
    args: &[(&str, &str)],
) -> Result<T> {
    let res = http
        .post(format!("{base}/api/{name}"))
        .form(args)
        .send()
        .await
        .map_err(|e| format!("cannot reach the server: {e}"))?;
    let status = res.status();
    let body = res
        .bytes()
        .await
        .map_err(|e| format!("cannot read the server's reply: {e}"))?;
    if !status.is_success() {
        let message = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["message"].as_str().map(str::to_owned))
            .unwrap_or_else(|| "no message".to_owned());
        return Err(format!("the server refused {name}: {message} ({status})"));
    }
    serde_json::from_slice(&body)
        .map_err(|e| format!("the server's {name} reply is unreadable: {e}"))
}

/// Opens the run's WebSocket at `path` (with its query), from the endpoint's address.
pub async fn connect(endpoint: &Endpoint, path: &str) -> Result<Socket> {
    let base = endpoint.server.trim_end_matches('/');
    let authority = base
        .strip_prefix("http://")
        .ok_or("the server URL must start with http://")?;
    let addr: SocketAddr = match authority.parse() {
        Ok(addr) => addr,
        Err(_) => tokio::net::lookup_host(authority)
            .await
            .map_err(|e| format!("cannot resolve {authority}: {e}"))?
            .next()
            .ok_or_else(|| format!("{authority} has no address"))?,
    };
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(|e| format!("cannot make a socket: {e}"))?;
    if let Some(ip) = endpoint.bind {
        socket
            .bind(SocketAddr::new(ip, 0))
            .map_err(|e| format!("cannot bind {ip}: {e}"))?;
    }
    let tcp = socket
        .connect(addr)
        .await
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    let _ = tcp.set_nodelay(true);
    let url = format!("ws://{authority}{path}");
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE));
    let (ws, _) = tokio_tungstenite::client_async_with_config(url, tcp, Some(config))
        .await
        .map_err(|e| format!("the server refused the WebSocket: {}", refusal(&e)))?;
    Ok(ws)
}

/// Why the server refused a handshake: the `message` of its JSON error when it sent one (e.g. a
/// rate limit), else the error itself.
fn refusal(error: &tokio_tungstenite::tungstenite::Error) -> String {
    use tokio_tungstenite::tungstenite::Error;
    if let Error::Http(response) = error {
        let message = response
            .body()
            .as_deref()
            .and_then(|body| serde_json::from_slice::<serde_json::Value>(body).ok())
            .and_then(|v| v["message"].as_str().map(str::to_owned));
        if let Some(message) = message {
            return format!("{message} ({})", response.status());
        }
    }
    error.to_string()
}

/// The next protocol message, answering pings on the way; `Err` when the run ended.
pub async fn next(ws: &mut Socket) -> Result<Wire> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) => {
                let message = Wire::parse(text.as_str(), MAX_MESSAGE)
                    .map_err(|e| format!("the server sent something unreadable: {e}"))?;
                return match message {
                    Wire::Error { message, .. } => Err(message),
                    other => Ok(other),
                };
            }
            Some(Ok(Message::Close(frame))) => {
                return Err(frame.map_or_else(
                    || "the server closed the run".to_owned(),
                    |f| format!("the run ended: {}", f.reason),
                ));
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(format!("the connection failed: {e}")),
            None => return Err("the server closed the connection".to_owned()),
        }
    }
}

/// Sends one protocol message.
pub async fn send(ws: &mut Socket, message: &Wire) -> Result<()> {
    ws.send(Message::Text(message.to_json().into()))
        .await
        .map_err(|e| format!("cannot send {}: {e}", message.kind()))
}

/// Waits for the server's close after the run finished (answering pings meanwhile).
async fn finish(mut ws: Socket) {
    let wait = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(Ok(message)) = ws.next().await {
            if matches!(message, Message::Close(_)) {
                break;
            }
        }
    });
    let _ = wait.await;
}

/// Registers as a new Peggy named `name` with k secrets, waits for a Victor and proves her
/// identity in as many rounds as he asks. A Victor who leaves before his verdict is reported
/// ([`PeggyEvent::Unpaired`]) and she waits for the next. Returns the verdict that ended her run.
///
/// With `cheat` she throws her secrets away as soon as the public key is made and bluffs: each
/// round she bets on Victor's challenge, and passes only if she guessed it.
pub async fn peggy(
    endpoint: &Endpoint,
    name: &str,
    k: usize,
    cheat: bool,
    demo: Option<DemoModulus>,
    mut report: impl FnMut(Seen),
) -> Result<Outcome> {
    let api = Api::new(endpoint)?;
    let demo_text = demo.map(|d| d.to_string());
    let draw: Vec<(&str, &str)> = demo_text.iter().map(|d| ("demo", d.as_str())).collect();
    let drawn: DrawnModulus = server_fn(&api, "draw_modulus", &draw).await?;
    let mut rng = os_rng();
    let key = drawn.make_key(&mut rng, demo, k)?;
    let public_key = serde_json::to_string(key.public_key())
        .map_err(|e| format!("cannot encode the public key: {e}"))?;
    let modulus_id = drawn.modulus_id.to_string();
    let registered: Registered = server_fn(
        &api,
        "register_peggy",
        &[
            ("name", name),
            ("modulus_id", &modulus_id),
            ("public_key", &public_key),
        ],
    )
    .await?;
    let mut ws = connect(
        endpoint,
        &format!(
            "/ws/identify/peggy?peggy_id={}&secret={}",
            registered.peggy_id, registered.peggy_secret
        ),
    )
    .await?;
    report(Seen::Waiting {
        peggy_id: registered.peggy_id.clone(),
        bits: registered.bits,
        k: registered.k,
    });
    let mut run = if cheat {
        PeggyRun::cheating(key.public_key().clone())
    } else {
        PeggyRun::new(&key)
    };
    // On a demo modulus every round is also worked out in decimal.
    let readable = if cheat {
        Readable::for_victor(key.public_key())
    } else {
        Readable::for_peggy(&key)
    };
    drop(key);
    let mut worked = Worked::default();
    loop {
        let message = next(&mut ws).await?;
        if matches!(message, Wire::Paired { .. }) {
            report(Seen::Paired {
                name: registered.name.clone(),
                bits: registered.bits,
                k: registered.k,
            });
        }
        let step = run.handle(&mut rng, message).map_err(|e| e.to_string())?;
        let mut outcome = None;
        for event in step.events {
            if let PeggyEvent::Finished {
                accepted,
                rounds_passed,
                rounds,
            } = event
            {
                outcome = Some(Outcome {
                    accepted,
                    rounds_passed,
                    rounds,
                });
            }
            let lines = match &readable {
                Some(r) => worked.lines(r, &event),
                None => Vec::new(),
            };
            report(Seen::Peggy(event));
            lines
                .into_iter()
                .for_each(|line| report(Seen::Worked(line)));
        }
        for message in &step.send {
            send(&mut ws, message).await?;
        }
        if let Some(outcome) = outcome {
            finish(ws).await;
            return Ok(outcome);
        }
    }
}

/// The round in progress, as Peggy's demo lines need it.
#[derive(Default)]
struct Worked {
    nonce: Option<Nonce>,
    x: Option<WireNumber>,
}

impl Worked {
    /// The formulas an event completes: her commitment; her answer and Victor's check.
    fn lines(&mut self, readable: &Readable, event: &PeggyEvent) -> Vec<String> {
        match event {
            PeggyEvent::Committed { x, nonce, .. } => {
                (self.nonce, self.x) = (nonce.clone(), Some(x.clone()));
                let commit = self.nonce.as_ref().and_then(|n| readable.commit(n));
                commit.iter().map(ToString::to_string).collect()
            }
            PeggyEvent::Answered { e, y, .. } => {
                let answer = self.nonce.as_ref().and_then(|n| readable.answer(n, e));
                let check = self.x.as_ref().and_then(|x| readable.check(x, e, y));
                let answer = answer.map(|a| a.to_string());
                let check = check.map(|c| format!("Victor's check: {c}"));
                answer.into_iter().chain(check).collect()
            }
            _ => Vec::new(),
        }
    }
}

/// Finds the waiting Peggy named `name` (waiting up to `wait` for her to appear).
pub async fn find_peggy(endpoint: &Endpoint, name: &str, wait: Duration) -> Result<PeggySummary> {
    let api = Api::new(endpoint)?;
    let started = Instant::now();
    loop {
        let peggys: Vec<PeggySummary> = server_fn(&api, "list_peggys", &[("name", name)]).await?;
        let named: Vec<_> = peggys.into_iter().filter(|p| p.name == name).collect();
        if let Some(free) = named.iter().find(|p| !p.busy) {
            return Ok(free.clone());
        }
        if started.elapsed() >= wait {
            return Err(if named.is_empty() {
                format!("no Peggy named {name:?} is registered")
            } else {
                format!("every Peggy named {name:?} is busy with another Victor")
            });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Identifies the Peggy with id `peggy_id` in `rounds` rounds of random challenges.
pub async fn victor(
    endpoint: &Endpoint,
    peggy_id: &str,
    rounds: u32,
    mut report: impl FnMut(Seen),
) -> Result<Outcome> {
    let mut ws = connect(
        endpoint,
        &format!("/ws/identify/victor?peggy_id={peggy_id}"),
    )
    .await?;
    let (card, public_key) = match next(&mut ws).await? {
        Wire::Paired {
            peggy: Some(card),
            public_key: Some(key),
        } => (card, key),
        other => {
            return Err(format!(
                "expected \"paired\" first, got \"{}\"",
                other.kind()
            ));
        }
    };
    report(Seen::Paired {
        name: card.name.clone(),
        bits: card.bits,
        k: card.k,
    });
    let (mut run, start) = VictorRun::new(public_key, rounds).map_err(|e| e.to_string())?;
    send(&mut ws, &start).await?;
    let mut rng = os_rng();
    loop {
        let message = next(&mut ws).await?;
        let acked = matches!(message, Wire::Ack);
        let step = run.handle(message).map_err(|e| e.to_string())?;
        for event in step.events {
            report(Seen::Victor(event));
        }
        for message in &step.send {
            send(&mut ws, message).await?;
        }
        if run.awaiting_challenge() {
            let (event, message) = run.challenge(&mut rng).map_err(|e| e.to_string())?;
            report(Seen::Victor(event));
            send(&mut ws, &message).await?;
        }
        if acked {
            let verdict = run
                .verdict()
                .ok_or("Peggy acknowledged before the verdict")?;
            finish(ws).await;
            return Ok(Outcome {
                accepted: verdict.accepted,
                rounds_passed: verdict.rounds_passed,
                rounds: verdict.rounds,
            });
        }
    }
}

/// A short form of a long number for a terminal line, in hex.
pub fn abbreviate(number: &WireNumber) -> String {
    let hex = number.to_string();
    if hex.len() <= 20 {
        hex
    } else {
        format!(
            "{}…{} ({} bits)",
            &hex[..8],
            &hex[hex.len() - 8..],
            hex.len() * 4
        )
    }
}

/// One terminal line for what a side saw (`None`: nothing worth a line).
pub fn describe(seen: &Seen) -> Option<String> {
    Some(match seen {
        Seen::Waiting { peggy_id, bits, k } => {
            format!("registered (id {peggy_id}, |n| = {bits}, k = {k}); waiting for a Victor")
        }
        Seen::Paired { name, bits, k } => format!("paired: Peggy {name:?}, |n| = {bits}, k = {k}"),
        Seen::Worked(line) => format!("    {line}"),
        Seen::Peggy(PeggyEvent::Started { rounds }) => format!("Victor asks for {rounds} rounds"),
        Seen::Peggy(PeggyEvent::Committed {
            round, x, guess, ..
        }) => match guess {
            Some(guess) => format!(
                "round {round}: bet on e = {guess}, commit x = {}",
                abbreviate(x)
            ),
            None => format!("round {round}: commit x = {}", abbreviate(x)),
        },
        Seen::Peggy(PeggyEvent::Answered {
            round,
            e,
            y,
            guessed,
        }) => format!(
            "round {round}: challenge e = {e}, answer y = {}{}",
            abbreviate(y),
            match guessed {
                Some(true) => " (guessed right: this round will pass)",
                Some(false) => " (guessed wrong: caught)",
                None => "",
            }
        ),
        Seen::Peggy(PeggyEvent::Checked { round, passed }) => {
            format!(
                "round {round}: {}",
                if *passed { "passed" } else { "FAILED" }
            )
        }
        Seen::Peggy(PeggyEvent::Finished {
            accepted,
            rounds_passed,
            rounds,
        }) => format!(
            "verdict: {} ({rounds_passed}/{rounds} rounds)",
            if *accepted { "accepted" } else { "rejected" }
        ),
        Seen::Peggy(PeggyEvent::Unpaired { message }) => {
            format!("{message} — waiting for another Victor")
        }
        Seen::Victor(VictorEvent::Committed { round, x }) => {
            format!("round {round}: x = {}", abbreviate(x))
        }
        Seen::Victor(VictorEvent::Challenged { round, e }) => format!("round {round}: e = {e}"),
        Seen::Victor(VictorEvent::Checked { round, y, passed }) => format!(
            "round {round}: y = {}, check {}",
            abbreviate(y),
            if *passed { "passed" } else { "FAILED" }
        ),
        Seen::Victor(VictorEvent::Finished(v)) => format!(
            "verdict: {} ({}/{} rounds; soundness error 2^-{})",
            if v.accepted { "accepted" } else { "rejected" },
            v.rounds_passed,
            v.rounds,
            v.soundness_bits()
        ),
    })
}

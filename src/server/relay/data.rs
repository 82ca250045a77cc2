//! The data plane: each side of a channel connects one data connection, the relay checks it and,
//! once both are there, staples them together and copies bytes both ways until both ends finish.
//!
//! - CLI: raw TCP on the data port. The client sends one line, the *hello*:
//!   `zkrelay-data 2 <channel> <uuid> <h_k>\n` (at most 256 bytes; 2 = the AES-256-GCM frames).
//! - Browser: a WebSocket on `/ws/data/<channel>` whose first (text) message is the same hello.
//!
//! The relay answers `ok` (a line on TCP, a text message on WebSocket) to both sides once stapled,
//! or `error <code> <message>` and closes. After `ok` the bytes are the clients' encrypted frame
//! stream; WebSocket binary messages are chunks of it. Any mix of TCP and WebSocket works.
//!
//! Version 3 (resumable): a hello `zkrelay-data 3 …` is answered `ok V`, V the other side's
//! version, so the two speak the lower one. A TCP ↔ TCP transfer that ends in an error (a reset,
//! a write that fails, the idle cut) rather than with both directions finished is not freed:
//! the channel goes back to "open, not stapled" for `[relay] transfer_idle_secs`, and the same
//! two seats (uuid, address, h_k: the same checks as the first time) may connect again, at most
//! [`MAX_STAPLINGS`] times in all.

use super::{
    Board, RelayChannels,
    pump::{Activity, Ended, greet, pump},
};
use crate::protocol::relay::{DATA_VERSION, RESUMABLE_DATA_VERSION};
use crate::{
    api::{ApiError, ErrorCode},
    server::{AppState, channels::Side, gate::ConnPermit, proxy::TrustedProxies},
};
use axum::{
    extract::{
        ConnectInfo, Path, State, WebSocketUpgrade,
        ws::{Message, WebSocket},
    },
    response::Response,
};
use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
    time::Duration,
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::oneshot,
};

/// Longest hello line.
pub const MAX_HELLO: usize = 256;
/// How long a new data connection has to say hello.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// Data connection pairs one channel may staple: the first and the resumptions after drops.
pub const MAX_STAPLINGS: u8 = 8;

/// A checked data connection. A TCP one holds its place at the connection gate (a WebSocket's
/// travels inside the socket).
pub enum DataConn {
    Tcp(TcpStream, Arc<ConnPermit>),
    Ws(Box<WebSocket>),
}

struct Hello {
    /// 2, or 3 (resumable).
    version: u8,
    channel: String,
    uuid: String,
    h_k: String,
}

fn parse_hello(line: &str) -> Result<Hello, ApiError> {
    let mut parts = line.trim_end_matches(['\r', '\n']).split(' ');
    match (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) {
        (Some("zkrelay-data"), Some(v), Some(channel), Some(uuid), Some(h_k), None)
            if v == DATA_VERSION || v == RESUMABLE_DATA_VERSION =>
        {
            Ok(Hello {
                version: if v == DATA_VERSION { 2 } else { 3 },
                channel: channel.to_owned(),
                uuid: uuid.to_owned(),
                h_k: h_k.to_owned(),
            })
        }
        _ => Err(ApiError::bad_request(
            "expected the hello line: zkrelay-data 2|3 <channel> <uuid> <h_k> (update your client if it sends another version)",
        )),
    }
}

/// Checks that this seat may connect now (open called, right h_k, not already connected).
fn admit(relay: &RelayChannels, ip: IpAddr, hello: &Hello) -> Result<Side, ApiError> {
    relay.read_seat(&hello.channel, ip, &hello.uuid, |side, board: &Board| {
        let Some(h_k) = &board.h_k else {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                "the key is not confirmed yet",
            ));
        };
        if !crate::server::channels::constant_time_eq(h_k.as_bytes(), hello.h_k.as_bytes()) {
            return Err(ApiError::new(ErrorCode::Forbidden, "wrong h_k"));
        }
        if !*board.open.get(side) {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                "call open before connecting",
            ));
        }
        if board.stapled || board.parked.as_ref().is_some_and(|(s, ..)| *s == side) {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                "this side is already connected",
            ));
        }
        if board.staplings >= MAX_STAPLINGS {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                "this transfer was cut and resumed too often: start again",
            ));
        }
        Ok(side)
    })
}

/// Serves TCP data connections until the runtime stops.
pub async fn serve_data_listener(listener: TcpListener, state: AppState) {
    let idle = Duration::from_secs(state.config.relay.transfer_idle_secs);
    let proxies = TrustedProxies::new(&state.config.server.trusted_proxies);
    loop {
        let (stream, addr) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "data listener: accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let state = state.clone();
        let proxies = proxies.clone();
        tokio::spawn(async move {
            let mut stream = stream;
            // One person is one address: a dual-stack socket reports IPv4 clients IPv4-mapped;
            // behind a trusted balancer, its PROXY header names the client.
            let ip = match proxies.client(&mut stream, addr, HELLO_TIMEOUT).await {
                Ok(client) => client.ip(),
                Err(e) => {
                    tracing::debug!(error = %e, %addr, "balancer data connection dropped");
                    return;
                }
            };
            let Some(permit) = state.gate.admit(ip) else {
                crate::server::refuse_connection(
                    stream,
                    b"error rate_limited too many connections from your address, or in all\n",
                );
                return;
            };
            let _ = stream.set_nodelay(true);
            tcp_connection(state.relay.clone(), stream, permit, ip, idle).await;
        });
    }
}

async fn tcp_connection(
    relay: RelayChannels,
    mut stream: TcpStream,
    permit: Arc<ConnPermit>,
    ip: IpAddr,
    idle: Duration,
) {
    let line = match tokio::time::timeout(HELLO_TIMEOUT, read_line(&mut stream)).await {
        Ok(Ok(line)) => line,
        Ok(Err(err)) => return refuse_tcp(stream, &err).await,
        Err(_) => {
            let err = ApiError::bad_request("no hello within 10 s");
            return refuse_tcp(stream, &err).await;
        }
    };
    let hello = match parse_hello(&line).and_then(|h| admit(&relay, ip, &h).map(|_| h)) {
        Ok(h) => h,
        Err(err) => return refuse_tcp(stream, &err).await,
    };
    staple(relay, ip, hello, DataConn::Tcp(stream, permit), idle).await;
}

/// Reads one `\n`-terminated line of at most [`MAX_HELLO`] bytes, byte by byte so nothing after
/// it is consumed.
async fn read_line(stream: &mut TcpStream) -> Result<String, ApiError> {
    let mut line = Vec::with_capacity(128);
    loop {
        let byte = stream
            .read_u8()
            .await
            .map_err(|_| ApiError::bad_request("connection ended before the hello"))?;
        if byte == b'\n' {
            break;
        }
        if line.len() >= MAX_HELLO {
            return Err(ApiError::new(ErrorCode::TooLarge, "hello line too long"));
        }
        line.push(byte);
    }
    String::from_utf8(line).map_err(|_| ApiError::bad_request("hello is not UTF-8"))
}

fn error_line(err: &ApiError) -> String {
    let code = serde_json::to_value(err.code).unwrap_or_default();
    format!(
        "error {} {}",
        code.as_str().unwrap_or("bad_request"),
        err.message
    )
}

async fn refuse_tcp(mut stream: TcpStream, err: &ApiError) {
    let line = format!("{}\n", error_line(err));
    let _ = tokio::time::timeout(HELLO_TIMEOUT, async {
        let _ = stream.write_all(line.as_bytes()).await;
        let _ = stream.shutdown().await;
    })
    .await;
}

async fn refuse_ws(socket: &mut WebSocket, err: &ApiError) {
    let _ = tokio::time::timeout(HELLO_TIMEOUT, async {
        let _ = socket.send(Message::Text(error_line(err).into())).await;
        let _ = socket.send(Message::Close(None)).await;
    })
    .await;
}

/// `GET /ws/data/{channel}`: the browser's data connection.
pub async fn ws_upgrade(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Path(channel): Path<String>,
) -> Response {
    let max = state.config.relay.max_frame_bytes;
    let idle = Duration::from_secs(state.config.relay.transfer_idle_secs);
    let relay = state.relay.clone();
    ws.max_message_size(max)
        .max_frame_size(max)
        .on_upgrade(move |socket| ws_connection(relay, socket, addr.ip(), channel, idle))
}

async fn ws_connection(
    relay: RelayChannels,
    mut socket: WebSocket,
    ip: IpAddr,
    path: String,
    idle: Duration,
) {
    let first = tokio::time::timeout(HELLO_TIMEOUT, socket.recv()).await;
    let hello = match first {
        Ok(Some(Ok(Message::Text(text)))) if text.len() <= MAX_HELLO => parse_hello(&text),
        _ => Err(ApiError::bad_request(
            "expected the hello as the first text message",
        )),
    }
    .and_then(|h| {
        if h.channel == path {
            Ok(h)
        } else {
            Err(ApiError::bad_request("the hello names another channel"))
        }
    })
    .and_then(|h| admit(&relay, ip, &h).map(|_| h));
    match hello {
        Ok(hello) => staple(relay, ip, hello, DataConn::Ws(Box::new(socket)), idle).await,
        Err(err) => refuse_ws(&mut socket, &err).await,
    }
}

/// What the second data connection of a channel does: hand itself (and its version) to the first.
pub(super) type Handoff = oneshot::Sender<(DataConn, u8)>;

/// Hands `conn` to the other side's parked connection, or parks it until the other side comes,
/// its own client goes away, or the channel ends. The parked side's task then staples the two
/// and pumps until the transfer ends or goes idle for `idle`.
async fn staple(relay: RelayChannels, ip: IpAddr, hello: Hello, conn: DataConn, idle: Duration) {
    let Some(mut closed) = relay.watch(&hello.channel) else {
        return;
    };
    let (handoff, arrival) = oneshot::channel();
    let mut handoff = Some(handoff);
    let placed = relay.with_seat(&hello.channel, ip, &hello.uuid, |side, board| {
        match board.parked.take() {
            Some((parked_side, peer, _)) if parked_side != side => {
                board.stapled = true;
                board.staplings += 1;
                Ok((side, Some(peer)))
            }
            Some(same) => {
                board.parked = Some(same);
                Err(ApiError::new(
                    ErrorCode::Conflict,
                    "this side is already connected",
                ))
            }
            None => {
                board.parked = handoff.take().map(|h| (side, h, hello.version));
                Ok((side, None))
            }
        }
    });
    let mut conn = conn;
    let side = match placed {
        Ok((_, Some(peer))) => {
            // The parked side pumps; this task's part is done.
            if let Err((mut conn, _)) = peer.send((conn, hello.version)) {
                refuse_conn(&mut conn, "the other side just went away; start again").await;
                relay.remove(&hello.channel);
            }
            return;
        }
        Ok((side, None)) => side,
        Err(err) => {
            refuse(&mut conn, &err).await;
            return;
        }
    };
    let peer = tokio::select! {
        peer = arrival => peer.ok(),
        () = gone(&mut conn) => {
            // Free the seat's place for a retry; the connection closes as it drops.
            let _ = relay.with_seat(&hello.channel, ip, &hello.uuid, |_, board| {
                if board.parked.as_ref().is_some_and(|(s, ..)| *s == side) {
                    board.parked = None;
                }
                Ok(())
            });
            tracing::info!(channel = %hello.channel, "relay: a parked data connection went away");
            return;
        }
        () = async { while closed.changed().await.is_ok() {} } => None,
    };
    let Some((peer, peer_version)) = peer else {
        return;
    };
    // A stapled transfer lives as long as data moves, not until the channel's deadline.
    relay.set_expiry(&hello.channel, None);
    tracing::info!(channel = %hello.channel, "relay: data connections stapled");
    let channel = hello.channel.clone();
    let activity = Activity::new();
    // Both sides resumable: a transfer that breaks may be taken up again.
    let resumable = hello.version == 3 && peer_version == 3;
    let pumped = async {
        let a = greet(conn, hello.version, peer_version).await;
        let b = greet(peer, peer_version, hello.version).await;
        match (a, b) {
            (Some(a), Some(b)) => pump(a, b, &activity).await,
            _ => Ended::Broken,
        }
    };
    let ended = tokio::select! {
        ended = pumped => ended,
        () = async { while closed.changed().await.is_ok() {} } => Ended::Finished,
        () = activity.idle_longer_than(idle) => {
            tracing::info!(%channel, secs = idle.as_secs(), "relay: transfer idle; cut");
            Ended::Broken
        }
    };
    if resumable && ended == Ended::Broken && await_resumption(&relay, ip, &hello, idle) {
        tracing::info!(%channel, "relay: transfer cut; the channel waits for a resumption");
        return;
    }
    relay.remove(&channel);
    tracing::info!(%channel, "relay: transfer finished; channel freed");
}

/// Puts a cut transfer's channel back to "open, not stapled" for `wait`, so that its two seats
/// may connect again; false if it is gone or has been stapled too often.
fn await_resumption(relay: &RelayChannels, ip: IpAddr, hello: &Hello, wait: Duration) -> bool {
    let reopened = relay.with_seat(&hello.channel, ip, &hello.uuid, |_, board| {
        if board.staplings >= MAX_STAPLINGS {
            return Ok(false);
        }
        board.stapled = false;
        board.parked = None;
        Ok(true)
    });
    matches!(reopened, Ok(true))
        && relay.set_expiry(&hello.channel, Some(tokio::time::Instant::now() + wait))
}

async fn refuse(conn: &mut DataConn, err: &ApiError) {
    match conn {
        DataConn::Tcp(stream, _) => {
            let line = format!("{}\n", error_line(err));
            let _ = tokio::time::timeout(HELLO_TIMEOUT, stream.write_all(line.as_bytes())).await;
        }
        DataConn::Ws(socket) => refuse_ws(socket, err).await,
    }
}

async fn refuse_conn(conn: &mut DataConn, why: &str) {
    refuse(conn, &ApiError::new(ErrorCode::NotFound, why)).await;
}

/// Completes when a parked connection's client is gone (closed, reset) or breaks the protocol
/// by sending data before `ok`. Nothing the client sent is consumed on TCP.
async fn gone(conn: &mut DataConn) {
    match conn {
        DataConn::Tcp(stream, _) => {
            let mut byte = [0u8; 1];
            match stream.peek(&mut byte).await {
                Ok(0) | Err(_) => {}
                // Early data is the client's business (it is kept for the peer): stop watching.
                Ok(_) => std::future::pending::<()>().await,
            }
        }
        DataConn::Ws(socket) => loop {
            match socket.recv().await {
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                // A close, an error, the end — or data before `ok`, which nothing may carry.
                _ => return,
            }
        },
    }
}

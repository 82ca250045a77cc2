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

use super::{Board, RelayChannels};
use crate::protocol::relay::DATA_VERSION;
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
use futures::{SinkExt, StreamExt, stream::SplitSink, stream::SplitStream};
use std::{
    net::{IpAddr, SocketAddr},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{
        TcpListener, TcpStream,
        tcp::{OwnedReadHalf, OwnedWriteHalf},
    },
    sync::oneshot,
};

/// Longest hello line.
pub const MAX_HELLO: usize = 256;
/// How long a new data connection has to say hello.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// Size of the chunks read from TCP (and sent as one WebSocket message).
const CHUNK: usize = 64 * 1024;

/// A checked data connection. A TCP one holds its place at the connection gate (a WebSocket's
/// travels inside the socket).
pub enum DataConn {
    Tcp(TcpStream, Arc<ConnPermit>),
    Ws(Box<WebSocket>),
}

struct Hello {
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
        (Some("zkrelay-data"), Some(DATA_VERSION), Some(channel), Some(uuid), Some(h_k), None) => {
            Ok(Hello {
                channel: channel.to_owned(),
                uuid: uuid.to_owned(),
                h_k: h_k.to_owned(),
            })
        }
        _ => Err(ApiError::bad_request(
            "expected the hello line: zkrelay-data 2 <channel> <uuid> <h_k> (update your client if it sends another version)",
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
        if board.stapled || board.parked.as_ref().is_some_and(|(s, _)| *s == side) {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                "this side is already connected",
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

/// What the second data connection of a channel does: hand itself to the first.
pub(super) type Handoff = oneshot::Sender<DataConn>;

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
            Some((parked_side, peer)) if parked_side != side => {
                board.stapled = true;
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
                board.parked = handoff.take().map(|h| (side, h));
                Ok((side, None))
            }
        }
    });
    let mut conn = conn;
    let side = match placed {
        Ok((_, Some(peer))) => {
            // The parked side pumps; this task's part is done.
            if let Err(mut conn) = peer.send(conn) {
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
                if board.parked.as_ref().is_some_and(|(s, _)| *s == side) {
                    board.parked = None;
                }
                Ok(())
            });
            tracing::info!(channel = %hello.channel, "relay: a parked data connection went away");
            return;
        }
        () = async { while closed.changed().await.is_ok() {} } => None,
    };
    let Some(peer) = peer else {
        return;
    };
    // A stapled transfer lives as long as data moves, not until the channel's deadline.
    relay.set_expiry(&hello.channel, None);
    tracing::info!(channel = %hello.channel, "relay: data connections stapled");
    let channel = hello.channel.clone();
    let activity = Activity::new();
    let pumped = async {
        let (a, b) = (greet(conn).await, greet(peer).await);
        if let (Some(a), Some(b)) = (a, b) {
            pump(a, b, &activity).await;
        }
    };
    tokio::select! {
        () = pumped => {}
        () = async { while closed.changed().await.is_ok() {} } => {}
        () = activity.idle_longer_than(idle) => {
            tracing::info!(%channel, secs = idle.as_secs(), "relay: transfer idle; cut");
        }
    }
    relay.remove(&channel);
    tracing::info!(%channel, "relay: transfer finished; channel freed");
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

/// When a stapled transfer last moved a byte, shared by both directions.
pub struct Activity {
    start: std::time::Instant,
    /// Milliseconds since `start` of the last bytes moved.
    last: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Self {
            start: std::time::Instant::now(),
            last: AtomicU64::new(0),
        }
    }

    /// Notes that bytes moved now.
    pub fn touch(&self) {
        let now = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(now, Ordering::Relaxed);
    }

    fn idle(&self) -> Duration {
        let last = Duration::from_millis(self.last.load(Ordering::Relaxed));
        self.start.elapsed().saturating_sub(last)
    }

    /// Completes once nothing has moved for `limit`.
    async fn idle_longer_than(&self, limit: Duration) {
        loop {
            let idle = self.idle();
            if idle >= limit {
                return;
            }
            tokio::time::sleep(limit - idle + Duration::from_millis(10)).await;
        }
    }
}

/// Tells a stapled connection to go ahead.
async fn greet(conn: DataConn) -> Option<DataConn> {
    match conn {
        DataConn::Tcp(mut s, permit) => s
            .write_all(b"ok\n")
            .await
            .ok()
            .map(|()| DataConn::Tcp(s, permit)),
        DataConn::Ws(mut w) => w
            .send(Message::Text("ok".into()))
            .await
            .ok()
            .map(|()| DataConn::Ws(w)),
    }
}

/// Copies both ways until both directions have ended.
async fn pump(a: DataConn, b: DataConn, activity: &Activity) {
    match (a, b) {
        (DataConn::Tcp(a, _a_permit), DataConn::Tcp(b, _b_permit)) => {
            tcp_pump(a, b, activity).await
        }
        (a, b) => {
            let (a_read, a_write, _a_permit) = split(a);
            let (b_read, b_write, _b_permit) = split(b);
            let (b_write, a_write) = tokio::join!(
                forward(a_read, b_write, activity),
                forward(b_read, a_write, activity)
            );
            // WebSocket has no half-close: a CLI that finished sending (TCP FIN) may still be
            // waiting for the page's answer, so a WebSocket is closed only once both ways ended.
            for writer in [a_write, b_write] {
                if let Writer::Ws(mut w) = writer {
                    let _ = w.send(Message::Close(None)).await;
                }
            }
        }
    }
}

/// TCP ↔ TCP: zero-copy `splice(2)` on Linux, a buffered copy elsewhere.
#[cfg(target_os = "linux")]
async fn tcp_pump(a: TcpStream, b: TcpStream, activity: &Activity) {
    if let Err(e) = super::splice::pump(&a, &b, activity).await {
        tracing::debug!(error = %e, "relay: a data connection ended with an error");
    }
}

#[cfg(not(target_os = "linux"))]
async fn tcp_pump(a: TcpStream, b: TcpStream, activity: &Activity) {
    let (a_read, a_write) = a.into_split();
    let (b_read, b_write) = b.into_split();
    tokio::join!(
        forward(Reader::Tcp(a_read), Writer::Tcp(b_write), activity),
        forward(Reader::Tcp(b_read), Writer::Tcp(a_write), activity)
    );
}

enum Reader {
    Tcp(OwnedReadHalf),
    Ws(SplitStream<WebSocket>),
}

enum Writer {
    Tcp(OwnedWriteHalf),
    Ws(SplitSink<WebSocket, Message>),
}

/// Splits a connection into its directions; a TCP connection's permit comes back to be held
/// while the halves are in use.
fn split(conn: DataConn) -> (Reader, Writer, Option<Arc<ConnPermit>>) {
    match conn {
        DataConn::Tcp(s, permit) => {
            let (r, w) = s.into_split();
            (Reader::Tcp(r), Writer::Tcp(w), Some(permit))
        }
        DataConn::Ws(s) => {
            let (w, r) = (*s).split();
            (Reader::Ws(r), Writer::Ws(w), None)
        }
    }
}

/// Copies one direction until its reader ends (or either side fails). A TCP writer is then
/// half-closed; the writer is handed back for the caller to close once both directions ended.
async fn forward(mut from: Reader, mut to: Writer, activity: &Activity) -> Writer {
    let mut buf = vec![0u8; CHUNK];
    loop {
        let chunk: axum::body::Bytes = match &mut from {
            Reader::Tcp(r) => match r.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => axum::body::Bytes::copy_from_slice(buf.get(..n).unwrap_or_default()),
            },
            Reader::Ws(r) => match r.next().await {
                Some(Ok(Message::Binary(bytes))) => bytes,
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                // Close, text (not part of the data stream), errors, end.
                _ => break,
            },
        };
        activity.touch();
        let sent = match &mut to {
            Writer::Tcp(w) => w.write_all(&chunk).await.is_ok(),
            Writer::Ws(w) => w.send(Message::Binary(chunk)).await.is_ok(),
        };
        if !sent {
            break;
        }
        activity.touch();
    }
    if let Writer::Tcp(w) = &mut to {
        let _ = w.shutdown().await;
    }
    to
}

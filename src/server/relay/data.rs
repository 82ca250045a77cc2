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
use crate::protocol::relay::handshake::DATA_VERSION;
use crate::{
    api::{ApiError, ErrorCode},
    server::{AppState, channels::Side},
};
use axum::{
    extract::{
        ConnectInfo, Path, State, WebSocketUpgrade,
        ws::{Message, WebSocket},
    },
    response::Response,
};
use futures::{SinkExt, StreamExt, stream::SplitSink, stream::SplitStream};
use std::{net::SocketAddr, time::Duration};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{
        TcpListener, TcpStream,
        tcp::{OwnedReadHalf, OwnedWriteHalf},
    },
};

/// Longest hello line.
pub const MAX_HELLO: usize = 256;
/// How long a new data connection has to say hello.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// Size of the chunks read from TCP (and sent as one WebSocket message).
const CHUNK: usize = 64 * 1024;

/// A checked data connection.
pub enum DataConn {
    Tcp(TcpStream),
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
fn admit(relay: &RelayChannels, ip: std::net::IpAddr, hello: &Hello) -> Result<Side, ApiError> {
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
        if !board.open[usize::from(side == Side::B)] {
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
    loop {
        let (stream, addr) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "data listener: accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let relay = state.relay.clone();
        tokio::spawn(async move {
            let _ = stream.set_nodelay(true);
            tcp_connection(relay, stream, addr).await;
        });
    }
}

async fn tcp_connection(relay: RelayChannels, mut stream: TcpStream, addr: SocketAddr) {
    let line = match tokio::time::timeout(HELLO_TIMEOUT, read_line(&mut stream)).await {
        Ok(Ok(line)) => line,
        Ok(Err(err)) => return refuse_tcp(stream, &err).await,
        Err(_) => {
            let err = ApiError::bad_request("no hello within 10 s");
            return refuse_tcp(stream, &err).await;
        }
    };
    let hello = match parse_hello(&line).and_then(|h| admit(&relay, addr.ip(), &h).map(|_| h)) {
        Ok(h) => h,
        Err(err) => return refuse_tcp(stream, &err).await,
    };
    staple(relay, addr.ip(), hello, DataConn::Tcp(stream)).await;
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

async fn refuse_tcp(mut stream: TcpStream, err: &ApiError) {
    let code = serde_json::to_value(err.code).unwrap_or_default();
    let line = format!(
        "error {} {}\n",
        code.as_str().unwrap_or("bad_request"),
        err.message
    );
    let _ = stream.write_all(line.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// `GET /ws/data/{channel}`: the browser's data connection.
pub async fn ws_upgrade(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Path(channel): Path<String>,
) -> Response {
    let max = state.config.relay.max_frame_bytes;
    let relay = state.relay.clone();
    ws.max_message_size(max)
        .max_frame_size(max)
        .on_upgrade(move |socket| ws_connection(relay, socket, addr, channel))
}

async fn ws_connection(
    relay: RelayChannels,
    mut socket: WebSocket,
    addr: SocketAddr,
    path: String,
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
    .and_then(|h| admit(&relay, addr.ip(), &h).map(|_| h));
    match hello {
        Ok(hello) => staple(relay, addr.ip(), hello, DataConn::Ws(Box::new(socket))).await,
        Err(err) => {
            let code = serde_json::to_value(err.code).unwrap_or_default();
            let text = format!(
                "error {} {}",
                code.as_str().unwrap_or("bad_request"),
                err.message
            );
            let _ = socket.send(Message::Text(text.into())).await;
            let _ = socket.send(Message::Close(None)).await;
        }
    }
}

/// Parks `conn` until the other side arrives, or staples it to the one already parked and pumps.
async fn staple(relay: RelayChannels, ip: std::net::IpAddr, hello: Hello, conn: DataConn) {
    let Some(mut closed) = relay.watch(&hello.channel) else {
        return;
    };
    let mut mine = Some(conn);
    let taken = relay.with_seat(&hello.channel, ip, &hello.uuid, |side, board| {
        match board.parked.take() {
            Some((parked_side, peer)) if parked_side != side => {
                board.stapled = true;
                Ok(Some(peer))
            }
            other => {
                board.parked = other;
                if board.parked.is_none() {
                    board.parked = mine.take().map(|c| (side, c));
                }
                Ok(None)
            }
        }
    });
    let (Ok(Some(peer)), Some(conn)) = (taken, mine) else {
        // Parked (the board owns the connection now; the channel's end drops it) or refused.
        return;
    };
    tracing::info!(channel = %hello.channel, "relay: data connections stapled");
    let channel = hello.channel.clone();
    let pumped = async {
        let (a, b) = (greet(conn).await, greet(peer).await);
        if let (Some(a), Some(b)) = (a, b) {
            pump(a, b).await;
        }
    };
    tokio::select! {
        () = pumped => {}
        () = async { while closed.changed().await.is_ok() {} } => {}
    }
    relay.remove(&channel);
    tracing::info!(%channel, "relay: transfer finished; channel freed");
}

/// Tells a stapled connection to go ahead.
async fn greet(conn: DataConn) -> Option<DataConn> {
    match conn {
        DataConn::Tcp(mut s) => s.write_all(b"ok\n").await.ok().map(|()| DataConn::Tcp(s)),
        DataConn::Ws(mut w) => w
            .send(Message::Text("ok".into()))
            .await
            .ok()
            .map(|()| DataConn::Ws(w)),
    }
}

/// Copies both ways until both directions have ended.
async fn pump(a: DataConn, b: DataConn) {
    match (a, b) {
        (DataConn::Tcp(a), DataConn::Tcp(b)) => tcp_pump(a, b).await,
        (a, b) => {
            let (a_read, a_write) = split(a);
            let (b_read, b_write) = split(b);
            let (b_write, a_write) =
                tokio::join!(forward(a_read, b_write), forward(b_read, a_write));
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
async fn tcp_pump(a: TcpStream, b: TcpStream) {
    if let Err(e) = super::splice::pump(&a, &b).await {
        tracing::debug!(error = %e, "relay: a data connection ended with an error");
    }
}

#[cfg(not(target_os = "linux"))]
async fn tcp_pump(mut a: TcpStream, mut b: TcpStream) {
    let _ = tokio::io::copy_bidirectional_with_sizes(&mut a, &mut b, CHUNK * 4, CHUNK * 4).await;
}

enum Reader {
    Tcp(OwnedReadHalf),
    Ws(SplitStream<WebSocket>),
}

enum Writer {
    Tcp(OwnedWriteHalf),
    Ws(SplitSink<WebSocket, Message>),
}

fn split(conn: DataConn) -> (Reader, Writer) {
    match conn {
        DataConn::Tcp(s) => {
            let (r, w) = s.into_split();
            (Reader::Tcp(r), Writer::Tcp(w))
        }
        DataConn::Ws(s) => {
            let (w, r) = (*s).split();
            (Reader::Ws(r), Writer::Ws(w))
        }
    }
}

/// Copies one direction until its reader ends (or either side fails). A TCP writer is then
/// half-closed; the writer is handed back for the caller to close once both directions ended.
async fn forward(mut from: Reader, mut to: Writer) -> Writer {
    let mut buf = vec![0u8; CHUNK];
    loop {
        let chunk: axum::body::Bytes = match &mut from {
            Reader::Tcp(r) => match r.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => axum::body::Bytes::copy_from_slice(&buf[..n]),
            },
            Reader::Ws(r) => match r.next().await {
                Some(Ok(Message::Binary(bytes))) => bytes,
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                // Close, text (not part of the data stream), errors, end.
                _ => break,
            },
        };
        let sent = match &mut to {
            Writer::Tcp(w) => w.write_all(&chunk).await.is_ok(),
            Writer::Ws(w) => w.send(Message::Binary(chunk)).await.is_ok(),
        };
        if !sent {
            break;
        }
    }
    if let Writer::Tcp(w) = &mut to {
        let _ = w.shutdown().await;
    }
    to
}

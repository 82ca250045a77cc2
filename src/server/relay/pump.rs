//! A stapled pair of data connections at work: the greeting (`ok`, or `ok V` to a version-3
//! client), copying both ways until both directions end ([`super::splice`] for TCP ↔ TCP on
//! Linux), the shared record of when bytes last moved, and how the transfer [`Ended`]: finished,
//! or broken (which a resumable transfer may survive).

use super::data::DataConn;
use crate::server::gate::ConnPermit;
use axum::extract::ws::{Message, WebSocket};
use futures::{SinkExt, StreamExt, stream::SplitSink, stream::SplitStream};
use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{
        TcpStream,
        tcp::{OwnedReadHalf, OwnedWriteHalf},
    },
};

/// Size of the chunks read from TCP (and sent as one WebSocket message).
const CHUNK: usize = 64 * 1024;

/// How a stapled transfer ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ended {
    /// Both directions finished (or the channel was closed).
    Finished,
    /// A connection failed, a greeting could not be sent, or nothing moved for too long.
    Broken,
}

/// When a stapled transfer last moved a byte, shared by both directions.
pub struct Activity {
    start: std::time::Instant,
    /// Milliseconds since `start` of the last bytes moved.
    last: AtomicU64,
}

impl Activity {
    pub(super) fn new() -> Self {
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
    pub(super) async fn idle_longer_than(&self, limit: Duration) {
        loop {
            let idle = self.idle();
            if idle >= limit {
                return;
            }
            tokio::time::sleep(limit - idle + Duration::from_millis(10)).await;
        }
    }
}

/// Tells a stapled connection to go ahead: `ok`, or to a version-3 client `ok V` with its
/// peer's version.
pub(super) async fn greet(conn: DataConn, version: u8, peer_version: u8) -> Option<DataConn> {
    let word = match version {
        3 => format!("ok {peer_version}"),
        _ => "ok".to_owned(),
    };
    match conn {
        DataConn::Tcp(mut s, permit) => s
            .write_all(format!("{word}\n").as_bytes())
            .await
            .ok()
            .map(|()| DataConn::Tcp(s, permit)),
        DataConn::Ws(mut w) => w
            .send(Message::Text(word.into()))
            .await
            .ok()
            .map(|()| DataConn::Ws(w)),
    }
}

/// Copies both ways until both directions have ended. Only TCP ↔ TCP tells a failure from an
/// end (the browser does not resume).
pub(super) async fn pump(a: DataConn, b: DataConn, activity: &Activity) -> Ended {
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
            Ended::Finished
        }
    }
}

/// TCP ↔ TCP: zero-copy `splice(2)` on Linux, a buffered copy elsewhere.
#[cfg(target_os = "linux")]
async fn tcp_pump(a: TcpStream, b: TcpStream, activity: &Activity) -> Ended {
    match super::splice::pump(&a, &b, activity).await {
        Ok(_) => Ended::Finished,
        Err(e) => {
            tracing::debug!(error = %e, "relay: a data connection ended with an error");
            Ended::Broken
        }
    }
}

#[cfg(not(target_os = "linux"))]
async fn tcp_pump(a: TcpStream, b: TcpStream, activity: &Activity) -> Ended {
    let (a_read, a_write) = a.into_split();
    let (b_read, b_write) = b.into_split();
    tokio::join!(
        forward(Reader::Tcp(a_read), Writer::Tcp(b_write), activity),
        forward(Reader::Tcp(b_read), Writer::Tcp(a_write), activity)
    );
    Ended::Finished
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

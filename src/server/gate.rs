//! The gate every connection passes: at most `max_connections_per_ip` open connections per client
//! address (HTTP, WebSocket and relay data connections together), of which at most
//! `max_websockets_per_ip` WebSockets, and at most `max_connections` in all, a cap kept below the
//! process's open-file limit so the server always has descriptors left for its database, its
//! listeners and the connections of everyone else.
//!
//! A [`ConnPermit`] is taken when a connection is accepted and travels with its socket (the
//! [`Counted`] stream wrapper owns it), so it is released exactly when the socket closes — also
//! after an HTTP connection became a WebSocket and lived on in another task.

use super::limits::client_key;
use crate::api::{ApiError, ErrorCode};
use std::{
    collections::HashMap,
    io,
    net::IpAddr,
    pin::Pin,
    sync::{
        Arc, Mutex, MutexGuard,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll},
};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Caps of a [`Gate`].
#[derive(Debug, Clone, Copy)]
pub struct GateLimits {
    pub per_ip: u32,
    pub websockets_per_ip: u32,
    pub total: usize,
}

#[derive(Default)]
struct Counts {
    total: usize,
    /// Per client key: (connections, of which WebSockets).
    per_ip: HashMap<IpAddr, (u32, u32)>,
}

/// Counts open connections; cheap to clone.
#[derive(Clone)]
pub struct Gate {
    counts: Arc<Mutex<Counts>>,
    limits: GateLimits,
}

impl Gate {
    pub fn new(limits: GateLimits) -> Self {
        Self {
            counts: Arc::default(),
            limits,
        }
    }

    fn counts(&self) -> MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn limits(&self) -> GateLimits {
        self.limits
    }

    /// A permit for a new connection from `ip`, or `None` when that address or the server is
    /// at its cap (the caller closes the connection at once).
    pub fn admit(&self, ip: IpAddr) -> Option<Arc<ConnPermit>> {
        let key = client_key(ip);
        let mut counts = self.counts();
        if counts.total >= self.limits.total {
            return None;
        }
        let entry = counts.per_ip.entry(key).or_default();
        if entry.0 >= self.limits.per_ip {
            return None;
        }
        entry.0 += 1;
        counts.total += 1;
        Some(Arc::new(ConnPermit {
            gate: self.clone(),
            key,
            websocket: AtomicBool::new(false),
        }))
    }

    /// Connections open now: (from `ip`'s address, in all).
    pub fn open(&self, ip: IpAddr) -> (u32, usize) {
        let counts = self.counts();
        let mine = counts
            .per_ip
            .get(&client_key(ip))
            .map_or(0, |(conns, _)| *conns);
        (mine, counts.total)
    }
}

/// One open connection's place at the [`Gate`]; released when dropped.
pub struct ConnPermit {
    gate: Gate,
    key: IpAddr,
    websocket: AtomicBool,
}

impl ConnPermit {
    /// Counts this connection as a WebSocket from now on; refused (`rate_limited`) when its
    /// address holds its maximum of WebSockets already.
    pub fn become_websocket(&self) -> Result<(), ApiError> {
        if self.websocket.load(Ordering::Acquire) {
            return Ok(());
        }
        let mut counts = self.gate.counts();
        let entry = counts.per_ip.entry(self.key).or_default();
        if entry.1 >= self.gate.limits.websockets_per_ip {
            return Err(ApiError::new(
                ErrorCode::RateLimited,
                "too many WebSockets open from your address; close some and try again",
            ));
        }
        entry.1 += 1;
        self.websocket.store(true, Ordering::Release);
        Ok(())
    }
}

impl Drop for ConnPermit {
    fn drop(&mut self) {
        let websocket = self.websocket.load(Ordering::Acquire);
        let mut counts = self.gate.counts();
        counts.total = counts.total.saturating_sub(1);
        if let Some(entry) = counts.per_ip.get_mut(&self.key) {
            entry.0 = entry.0.saturating_sub(1);
            if websocket {
                entry.1 = entry.1.saturating_sub(1);
            }
            if entry.0 == 0 {
                counts.per_ip.remove(&self.key);
            }
        }
    }
}

/// A socket that holds its [`ConnPermit`] for as long as it is open.
pub struct Counted<S> {
    stream: S,
    _permit: Arc<ConnPermit>,
}

impl<S> Counted<S> {
    pub fn new(stream: S, permit: Arc<ConnPermit>) -> Self {
        Self {
            stream,
            _permit: permit,
        }
    }

    pub fn get_ref(&self) -> &S {
        &self.stream
    }

    pub fn get_mut(&mut self) -> &mut S {
        &mut self.stream
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Counted<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counted<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// Raises the soft open-file limit to the hard one (where the platform allows) and returns the
/// soft limit now in force, if known.
pub fn raise_open_file_limit() -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        use nix::sys::resource::{Resource, getrlimit, setrlimit};
        let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).ok()?;
        if soft < hard && setrlimit(Resource::RLIMIT_NOFILE, hard, hard).is_ok() {
            return Some(hard);
        }
        Some(soft)
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// The connection cap for an open-file limit: 90 % of it, keeping at least 64 descriptors for
/// the database, the listeners and the logs.
pub fn connections_for(open_files: u64) -> usize {
    let headroom = (open_files / 10).max(64);
    usize::try_from(open_files.saturating_sub(headroom).max(16)).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([127, 0, 0, last])
    }

    #[test]
    fn caps_per_address_websockets_and_in_all() {
        let gate = Gate::new(GateLimits {
            per_ip: 2,
            websockets_per_ip: 1,
            total: 3,
        });
        let a = gate.admit(ip(2)).unwrap();
        let b = gate.admit(ip(2)).unwrap();
        assert!(gate.admit(ip(2)).is_none(), "a third from one address");
        assert!(gate.admit("::ffff:127.0.0.2".parse().unwrap()).is_none());
        a.become_websocket().unwrap();
        assert_eq!(
            b.become_websocket().unwrap_err().code,
            ErrorCode::RateLimited
        );
        let c = gate.admit(ip(3)).unwrap();
        assert!(gate.admit(ip(4)).is_none(), "the server is full");
        assert_eq!(gate.open(ip(2)), (2, 3));
        drop(a);
        // The WebSocket slot came back with the connection.
        b.become_websocket().unwrap();
        drop((b, c));
        assert_eq!(gate.open(ip(2)), (0, 0));
        assert!(gate.admit(ip(4)).is_some());
    }

    #[test]
    fn headroom_under_the_open_file_limit() {
        assert_eq!(connections_for(1024), 1024 - 102);
        assert_eq!(connections_for(100), 36);
        assert_eq!(connections_for(1_048_576), 1_048_576 - 104_857);
    }
}

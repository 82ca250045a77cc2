//! The server (feature `ssr`): configuration, the store, the routes, and the relay core they share.
//!
//! [`run`] takes its listener, so tests bind `127.0.0.1:0` and start the real server in-process.
// The server indexes nothing it has not checked (tests may).
#![cfg_attr(not(test), warn(clippy::indexing_slicing))]
pub mod blum_pool;
pub mod channels;
pub mod config;
pub mod gate;
mod guards;
mod http_errors;
pub mod identify;
pub mod limits;
mod ping_socket;
pub mod proxy;
pub mod relay;
mod routes;
mod state;
pub mod store;

pub use blum_pool::BlumPool;
pub use config::Config;
pub use state::AppState;
pub use store::Store;

use axum::{Router, extract::ConnectInfo};
use gate::{ConnPermit, Counted, Gate};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::{
    future::Future,
    io,
    net::SocketAddr,
    sync::{Arc, atomic::Ordering},
    time::Duration,
};
use tokio::{
    net::{TcpListener, TcpSocket, TcpStream},
    sync::{mpsc, watch},
};
use tower::ServiceExt;

/// The sockets the server accepts on: the web app's (HTTP and WebSockets) and the relay's raw
/// TCP data port's, each on one or more addresses.
pub struct Listeners {
    pub http: Vec<TcpListener>,
    pub data: Vec<TcpListener>,
}

impl Listeners {
    /// Binds `[server] listen` and `[relay] data_listen`. The first address of each must bind;
    /// a later one that cannot (a machine without IPv6) is skipped with a warning.
    pub fn bind(config: &Config) -> Result<Self, String> {
        Ok(Self {
            http: bind_all(&config.server.listen, "web")?,
            data: bind_all(&config.relay.data_listen, "relay data")?,
        })
    }
}

fn bind_all(addrs: &[SocketAddr], what: &str) -> Result<Vec<TcpListener>, String> {
    let mut bound = Vec::new();
    for (i, addr) in addrs.iter().enumerate() {
        match bind(*addr) {
            Ok(listener) => bound.push(listener),
            Err(e) if i == 0 => return Err(format!("cannot listen on {addr} ({what}): {e}")),
            Err(e) => {
                tracing::warn!(%addr, error = %e, "cannot listen on this {what} address; skipped")
            }
        }
    }
    Ok(bound)
}

/// Binds one listening socket. An IPv6 socket takes IPv6 only, so `0.0.0.0:p` and `[::]:p` can
/// be listed together.
pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv6() {
        let socket = TcpSocket::new_v6()?;
        #[cfg(target_os = "linux")]
        nix::sys::socket::setsockopt(&socket, nix::sys::socket::sockopt::Ipv6V6Only, &true)
            .map_err(io::Error::from)?;
        socket
    } else {
        TcpSocket::new_v4()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}

/// Serves the app on `listeners` until `shutdown` completes, then finishes open requests. The
/// Blum pool refills, the sweepers free expired Relay channels and Identify runs, and stale
/// Peggys go in the background meanwhile.
pub async fn run(
    listeners: Listeners,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    // The sweepers stop when these guards drop, as `run` returns.
    let _sweepers = [state.relay.spawn_sweeper(), state.identify.spawn_sweeper()];
    let mut background = vec![
        state.blum_pool.spawn_refill(),
        identify::spawn_janitor(
            state.clone(),
            Duration::from_secs(state.config.identify.idle_timeout_secs.saturating_mul(2)),
            Duration::from_secs(60),
        ),
        spawn_limit_janitor(state.clone()),
        state.store.spawn_heartbeat(),
    ];
    if let Some(first) = listeners.data.first() {
        let port = first.local_addr()?.port();
        state.data_port.store(port, Ordering::Relaxed);
    }
    for data in listeners.data {
        background.push(tokio::spawn(relay::serve_data_listener(
            data,
            state.clone(),
        )));
    }
    let app = routes::router(state.clone());
    let (stop, stopped) = watch::channel(false);
    // Every connection task holds a clone; when all are gone, every request has finished.
    let (alive, mut all_done) = mpsc::channel::<()>(1);
    let header_timeout = Duration::from_secs(state.config.server.header_read_timeout_secs);
    let accepting: Vec<_> = listeners
        .http
        .into_iter()
        .map(|listener| {
            let accept = Accept {
                app: app.clone(),
                gate: state.gate.clone(),
                proxies: proxy::TrustedProxies::new(&state.config.server.trusted_proxies),
                header_timeout,
                stopped: stopped.clone(),
                alive: alive.clone(),
            };
            tokio::spawn(accept.run(listener))
        })
        .collect();
    drop(alive);
    shutdown.await;
    let _ = stop.send(true);
    for task in accepting {
        let _ = task.await;
    }
    let _ = all_done.recv().await;
    for task in background {
        task.abort();
    }
    // Every run of this instance has ended: give its Peggys and lease up at once, rather than
    // leave them to the other instances' sweep.
    if let Err(e) = state.store.leave().await {
        tracing::warn!(error = %e, "store: could not give up this instance's lease");
    }
    Ok(())
}

/// Forgets idle clients of the rate limits every minute.
fn spawn_limit_janitor(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            state.limits.forget_idle();
        }
    })
}

/// One HTTP listener's accept loop.
struct Accept {
    app: Router,
    gate: Gate,
    proxies: proxy::TrustedProxies,
    header_timeout: Duration,
    stopped: watch::Receiver<bool>,
    alive: mpsc::Sender<()>,
}

impl Accept {
    async fn run(mut self, listener: TcpListener) {
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                _ = self.stopped.wait_for(|stopped| *stopped) => return,
            };
            let (stream, addr) = match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of descriptors or memory: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let addr = SocketAddr::new(addr.ip().to_canonical(), addr.port());
            let conn = Connection {
                app: self.app.clone(),
                header_timeout: self.header_timeout,
                stopped: self.stopped.clone(),
                _alive: self.alive.clone(),
            };
            if self.proxies.trusts(addr.ip()) {
                // The balancer's header names the client; reading it must not hold up the loop.
                let (gate, proxies) = (self.gate.clone(), self.proxies.clone());
                tokio::spawn(async move {
                    let mut stream = stream;
                    match proxies.client(&mut stream, addr, conn.header_timeout).await {
                        Ok(client) => conn.admit(&gate, stream, client),
                        Err(e) => tracing::debug!(error = %e, %addr, "balancer connection dropped"),
                    }
                });
            } else {
                conn.admit(&self.gate, stream, addr);
            }
        }
    }
}

const BUSY_REPLY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\n\
content-type: text/plain\r\ncontent-length: 49\r\n\r\n\
too many connections from your address, or in all";

/// Says why in one best-effort write and closes: the refused client learns the reason, and the
/// server spends no task on it.
pub(crate) fn refuse_connection(stream: TcpStream, reply: &[u8]) {
    let _ = stream.try_write(reply);
    drop(stream);
}

/// One accepted HTTP connection.
struct Connection {
    app: Router,
    header_timeout: Duration,
    stopped: watch::Receiver<bool>,
    _alive: mpsc::Sender<()>,
}

impl Connection {
    /// Counts the connection of the client at `addr` at the gate (or refuses it there) and
    /// serves it.
    fn admit(self, gate: &Gate, stream: TcpStream, addr: SocketAddr) {
        let Some(permit) = gate.admit(addr.ip()) else {
            refuse_connection(stream, BUSY_REPLY);
            return;
        };
        // Small messages (Identify's rounds, the relay's API) must not wait for Nagle's
        // algorithm and a delayed ACK: that costs 40 ms at the start and end of every run.
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        tokio::spawn(self.serve(stream, addr, permit));
    }

    async fn serve(mut self, stream: TcpStream, addr: SocketAddr, permit: Arc<ConnPermit>) {
        let io = TokioIo::new(Counted::new(stream, Arc::clone(&permit)));
        let app = self.app;
        let service = hyper::service::service_fn(move |mut request: hyper::Request<_>| {
            request.extensions_mut().insert(ConnectInfo(addr));
            request.extensions_mut().insert(Arc::clone(&permit));
            app.clone().oneshot(request)
        });
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(self.header_timeout)
            .serve_connection(io, service)
            .with_upgrades();
        tokio::pin!(conn);
        let finished = tokio::select! {
            result = conn.as_mut() => Some(result),
            _ = self.stopped.wait_for(|stopped| *stopped) => None,
        };
        let result = match finished {
            Some(result) => result,
            None => {
                conn.as_mut().graceful_shutdown();
                conn.await
            }
        };
        if let Err(e) = result {
            tracing::debug!(error = %e, %addr, "connection ended with an error");
        }
    }
}

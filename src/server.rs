//! The server (feature `ssr`): configuration, the store, the routes, and the relay core they share.
//!
//! [`run`] takes its listener, so tests bind `127.0.0.1:0` and start the real server in-process.

pub mod blum_pool;
pub mod channels;
pub mod config;
mod http_errors;
pub mod identify;
mod ping_socket;
pub mod relay;
mod routes;
mod state;
pub mod store;

pub use blum_pool::BlumPool;
pub use config::Config;
pub use state::AppState;
pub use store::Store;

use axum::serve::ListenerExt;
use std::{future::Future, io, net::SocketAddr, sync::atomic::Ordering, time::Duration};
use tokio::net::TcpListener;

/// Serves the app on `listener` (and the relay's raw TCP data connections on `data_listener`)
/// until `shutdown` completes, then finishes open requests. The Blum pool refills, the sweepers
/// free expired Relay channels and Identify runs, and stale Peggys go in the background meanwhile.
pub async fn run(
    listener: TcpListener,
    data_listener: Option<TcpListener>,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let mut background = vec![
        state.blum_pool.spawn_refill(),
        state.relay.spawn_sweeper(Duration::from_secs(1)),
        state.identify.spawn_sweeper(Duration::from_secs(1)),
        identify::spawn_janitor(
            state.clone(),
            Duration::from_secs(state.config.identify.idle_timeout_secs.saturating_mul(2)),
            Duration::from_secs(60),
        ),
    ];
    if let Some(data) = data_listener {
        let port = data.local_addr()?.port();
        state.data_port.store(port, Ordering::Relaxed);
        background.push(tokio::spawn(relay::serve_data_listener(
            data,
            state.clone(),
        )));
    }
    let app = routes::router(state);
    // Small messages (Identify's rounds, the relay's API) must not wait for Nagle's algorithm and
    // a delayed ACK: that costs 40 ms at the start and end of every run.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
    });
    let served = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    for task in background {
        task.abort();
    }
    served
}

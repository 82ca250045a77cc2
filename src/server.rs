//! The server (feature `ssr`): configuration, the store, the routes, and the relay core they share.
//!
//! [`run`] takes its listener, so tests bind `127.0.0.1:0` and start the real server in-process.

pub mod blum_pool;
pub mod config;
mod http_errors;
mod ping_socket;
mod routes;
mod state;
pub mod store;

pub use blum_pool::BlumPool;
pub use config::Config;
pub use state::AppState;
pub use store::Store;

use std::{future::Future, io, net::SocketAddr};
use tokio::net::TcpListener;

/// Serves the app on `listener` until `shutdown` completes, then finishes open requests. The Blum
/// pool refills in the background meanwhile.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let refill = state.blum_pool.spawn_refill();
    let app = routes::router(state);
    let served = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    refill.abort();
    served
}

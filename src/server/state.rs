//! [`AppState`]: what every route and server function can reach.

use super::{
    BlumPool, Config, Store,
    channels::{Channels, Limits},
    gate::{self, Gate, GateLimits},
    identify::IdentifyChannels,
    limits::RateLimits,
    relay::RelayChannels,
};
use crate::api::{ApiError, StatusReport};
use axum::extract::FromRef;
use leptos::prelude::{LeptosOptions, use_context};
use std::sync::{Arc, atomic::AtomicU16};
use std::time::Duration;

/// Shared by all handlers; cheap to clone. Server functions reach it through Leptos context.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub store: Store,
    pub blum_pool: BlumPool,
    pub config: Arc<Config>,
    /// The Relay's channels (sender and recipient).
    pub relay: RelayChannels,
    /// Identify's runs (Peggy and Victor), keyed by Peggy id.
    pub identify: IdentifyChannels,
    /// The TCP data port actually bound (0 while none).
    pub data_port: Arc<AtomicU16>,
    /// Per-client rate limits.
    pub limits: Arc<RateLimits>,
    /// Open connections per client and in all.
    pub gate: Gate,
}

impl AppState {
    /// Opens the store (clearing the Peggys of a previous run) and prepares the render options
    /// for `config`.
    pub async fn new(config: Config) -> Result<Self, String> {
        let store = Store::open(&config.database.url)
            .await
            .map_err(|e| format!("cannot open the database {}: {e}", config.database.url))?;
        super::identify::sweep_at_start(&store)
            .await
            .map_err(|e| format!("cannot clear the previous run's Peggys: {e}"))?;
        let leptos_options = LeptosOptions::builder()
            .output_name("zkrelay")
            .site_root(config.server.site_root.as_str())
            .site_pkg_dir("pkg")
            .site_addr(
                config
                    .server
                    .listen
                    .first()
                    .copied()
                    .unwrap_or(([127, 0, 0, 1], 3000).into()),
            )
            .build();
        let blum_pool = BlumPool::new(
            store.clone(),
            config.blum.modulus_bits,
            config.blum.pool_size,
            config.blum.on_demand_generators,
        );
        let limits = Limits {
            ttl: Duration::from_secs(config.relay.channel_ttl_secs),
            max_channels: config.relay.max_channels,
        };
        let runs = Limits {
            ttl: Duration::from_secs(config.identify.run_ttl_secs),
            max_channels: config.identify.max_runs,
        };
        let open_files = gate::raise_open_file_limit();
        let server = &config.server;
        let total = match (server.max_connections, open_files) {
            (0, Some(open_files)) => gate::connections_for(open_files),
            (0, None) => 1024,
            (n, _) => n as usize,
        };
        let gate = Gate::new(GateLimits {
            per_ip: server.max_connections_per_ip,
            websockets_per_ip: server.max_websockets_per_ip,
            total,
        });
        Ok(Self {
            gate,
            relay: Channels::new(limits),
            identify: Channels::new(runs),
            data_port: Arc::new(AtomicU16::new(0)),
            limits: Arc::new(RateLimits::new(&config)),
            leptos_options,
            blum_pool,
            store,
            config: Arc::new(config),
        })
    }

    /// The state provided to the current server function.
    pub fn from_context() -> Result<Self, ApiError> {
        use_context::<Self>().ok_or_else(|| {
            tracing::error!("AppState missing from the server function context");
            ApiError::internal()
        })
    }

    /// What the home page shows about the server.
    pub async fn status(&self) -> Result<StatusReport, ApiError> {
        let bits = self.config.blum.modulus_bits;
        Ok(StatusReport {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            ready_moduli: self.store.ready_moduli(bits).await?,
            pool_target: self.config.blum.pool_size,
            modulus_bits: bits,
        })
    }
}

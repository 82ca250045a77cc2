//! [`AppState`]: what every route and server function can reach.

use super::{BlumPool, Config, Store};
use crate::api::{ApiError, StatusReport};
use axum::extract::FromRef;
use leptos::prelude::{LeptosOptions, use_context};
use std::sync::Arc;

/// Shared by all handlers; cheap to clone. Server functions reach it through Leptos context.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub store: Store,
    pub blum_pool: BlumPool,
    pub config: Arc<Config>,
}

impl AppState {
    /// Opens the store and prepares the render options for `config`.
    pub async fn new(config: Config) -> Result<Self, String> {
        let store = Store::open(&config.database.url)
            .await
            .map_err(|e| format!("cannot open the database {}: {e}", config.database.url))?;
        let leptos_options = LeptosOptions::builder()
            .output_name("zkrelay")
            .site_root(config.server.site_root.as_str())
            .site_pkg_dir("pkg")
            .site_addr(config.server.listen)
            .build();
        let blum_pool = BlumPool::new(
            store.clone(),
            config.blum.modulus_bits,
            config.blum.pool_size,
        );
        Ok(Self {
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

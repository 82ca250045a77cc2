//! `get_status`: what the server has ready, shown on the home page.

use super::ApiError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A snapshot of the server, read from the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusReport {
    /// The server's crate version.
    pub version: String,
    /// Blum moduli generated and waiting to be drawn by a Peggy.
    pub ready_moduli: u32,
    /// How many the pool keeps ready (from config).
    pub pool_target: u32,
    /// Size of the pool's moduli in bits.
    pub modulus_bits: u32,
}

/// Reads the server's status.
#[server(prefix = "/api", endpoint = "status")]
pub async fn get_status() -> Result<StatusReport, ApiError> {
    let state = crate::server::AppState::from_context()?;
    state.status().await
}

//! The HTTP entry of the run sockets: the queries, the per-address rate limit (refused with 429
//! before the upgrade), and the upgrade itself with small buffers and bounded frames.

use super::{serve, socket::refuse};
use crate::{api::ApiError, protocol::identify::MAX_CLIENT_MESSAGE_BYTES, server::AppState};
use axum::{
    Router,
    extract::{ConnectInfo, Query, State, WebSocketUpgrade, rejection::QueryRejection},
    response::Response,
    routing::get,
};
use serde::Deserialize;
use std::net::SocketAddr;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/ws/identify/peggy", get(peggy_upgrade))
        .route("/ws/identify/victor", get(victor_upgrade))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PeggyQuery {
    peggy_id: String,
    /// Missing is refused like a wrong one.
    #[serde(default)]
    secret: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VictorQuery {
    peggy_id: String,
}

/// Who asks for a seat, as the query says.
pub(super) enum Asked {
    Peggy {
        peggy_id: String,
        secret: Option<String>,
    },
    Victor {
        peggy_id: String,
    },
}

fn query_error(e: &QueryRejection, expected: &str) -> ApiError {
    ApiError::bad_request(format!("expected {expected}: {}", e.body_text()))
}

fn check_peggy_id(id: String) -> Result<String, ApiError> {
    let ok = id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if ok {
        Ok(id)
    } else {
        Err(ApiError::invalid(
            "peggy_id must be 32 lowercase hex digits",
        ))
    }
}

async fn peggy_upgrade(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    query: Result<Query<PeggyQuery>, QueryRejection>,
) -> Response {
    if let Err(err) = state.limits.identify_sockets.admit(addr.ip()).await {
        return refuse(&err);
    }
    let asked = query
        .map_err(|e| query_error(&e, "?peggy_id=…&secret=…"))
        .and_then(|Query(q)| {
            Ok(Asked::Peggy {
                peggy_id: check_peggy_id(q.peggy_id)?,
                secret: q.secret,
            })
        });
    upgrade(ws, state, addr, asked)
}

async fn victor_upgrade(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    query: Result<Query<VictorQuery>, QueryRejection>,
) -> Response {
    if let Err(err) = state.limits.identify_sockets.admit(addr.ip()).await {
        return refuse(&err);
    }
    let asked = query
        .map_err(|e| query_error(&e, "?peggy_id=…"))
        .and_then(|Query(q)| {
            Ok(Asked::Victor {
                peggy_id: check_peggy_id(q.peggy_id)?,
            })
        });
    upgrade(ws, state, addr, asked)
}

fn upgrade(
    ws: WebSocketUpgrade,
    state: AppState,
    addr: SocketAddr,
    asked: Result<Asked, ApiError>,
) -> Response {
    // A frame a little over the message limit is still read, so the referee can say what is
    // wrong with it; anything bigger ends the connection in the WebSocket layer.
    let limit = MAX_CLIENT_MESSAGE_BYTES * 4;
    // Small buffers: a waiting Peggy holds her socket for minutes and sends almost nothing, and
    // the default 128 KiB read buffer would be most of what each one costs the server.
    ws.read_buffer_size(4096)
        .write_buffer_size(4096)
        .max_message_size(limit)
        .max_frame_size(limit)
        .on_upgrade(move |socket| serve(state, socket, addr.ip(), asked))
}

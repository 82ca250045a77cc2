//! Relay: the channel API of the second design note, on the shared two-seat channel core.
//!
//! The sender (seat A) and recipient (seat B) run SPAKE2 through these routes, confirm the key
//! with `hh_k` / `h_k`, then each calls `open` and connects a data connection (raw TCP for the CLI,
//! WebSocket for browsers), which the relay staples to the other side's. The relay only stores and
//! forwards public values: it never sees the code or the key. The full flow is in docs/PROTOCOL.md.
//!
//! Every body and reply is a type of the contract in [`crate::api::relay`]; errors carry the HTTP
//! status of their [`ErrorCode`].

mod data;
mod pump;
#[cfg(target_os = "linux")]
mod splice;
mod wire;

use super::{
    AppState,
    channels::{ChannelError, Channels, PerSide, Side},
};
use crate::{
    api::{
        ApiError, ErrorCode,
        error::truncate,
        relay::{
            ChannelValues, CloseRequest, DataOpen, Done, HkReply, OpenRequest, Opened, PostHk,
            PostValues, Ready, RoleField, SeatQuery, YReply, not_yet,
        },
    },
    protocol::relay::{channel_name, is_channel_name},
};
use axum::{
    Router,
    body::Bytes,
    extract::{ConnectInfo, Path, Query, State, rejection::BytesRejection},
    http::HeaderValue,
    routing::{get, post},
};
use std::net::SocketAddr;

pub use data::{DataConn, serve_data_listener};
pub use wire::RelayError;
use wire::{
    DIGEST_HEX, MESSAGE_HEX, Reply, check_hex, ok, parse_body, require_side, role_side, seat_query,
    side_of, wait_of,
};

pub use crate::api::relay::MAX_WAIT_SECS;
/// The only group offered: SPAKE2 over Ed25519 (the protocol's one constant).
pub use crate::protocol::relay::CURVE;

/// What the relay knows about one channel.
#[derive(Default)]
pub struct Board {
    x: Option<String>,
    curve: Option<String>,
    y: Option<String>,
    hh_k: Option<String>,
    h_k: Option<String>,
    open: PerSide<bool>,
    /// The side whose data connection waits for the other's, how to hand that one over, and the
    /// waiting side's data version.
    parked: Option<(Side, data::Handoff, u8)>,
    stapled: bool,
    /// Pairs of data connections stapled so far (a cut transfer may be resumed).
    staplings: u8,
    /// Someone was refused the recipient's seat while it was taken: if the key exchange then
    /// fails, a stranger probably took the seat first (the sender is told so).
    contested: bool,
}

/// The relay's channel table.
pub type RelayChannels = Channels<Board>;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/open", post(open))
        .route("/channel/{channel}", post(post_values).get(get_values))
        .route("/sender/{channel}/y", get(get_y))
        .route("/sender/{channel}/h_k", post(post_h_k))
        .route("/recipient/{channel}/h_k", get(get_h_k))
        .route("/{role}/{channel}/open", get(open_data))
        .route("/{role}/{channel}/isready", get(is_ready))
        .route("/close/{channel}", post(close))
        .route("/ws/data/{channel}", get(data::ws_upgrade))
}

// ------------------------------------------------------------------ handlers

async fn open(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    body: Result<Bytes, BytesRejection>,
) -> Reply {
    let body: OpenRequest = parse_body(body, true)?;
    let side = match body.role {
        None => Side::A,
        Some(RoleField::Known(role)) => side_of(role),
        Some(RoleField::Other(_)) => {
            return Err(ApiError::invalid("role must be \"sender\" or \"recipient\"").into());
        }
    };
    let ip = addr.ip();
    let opened = match (side, body.channel.as_deref()) {
        (Side::A, None) => {
            state.limits.channel_opens.admit(ip).await?;
            state
                .relay
                .create(ip, None, Side::A, || channel_name(&mut rand::rngs::OsRng))?
        }
        // Every named open spends a join, found or not: that is what bounds a scan of names.
        (Side::A, Some(name)) => {
            state.limits.channel_joins.admit(ip).await?;
            check_channel_name(name)?;
            state.limits.channel_opens.admit(ip).await?;
            state.relay.create(ip, Some(name), Side::A, String::new)?
        }
        (Side::B, Some(name)) => {
            state.limits.channel_joins.admit(ip).await?;
            check_channel_name(name)?;
            state
                .relay
                .join(ip, name, Side::B, |board| board.contested = true)
                .map_err(|e| match e {
                    // Someone on the sender's own address (the same NAT) was first.
                    ChannelError::SeatTaken => ApiError::new(
                        ErrorCode::Conflict,
                        "someone else joined this channel: its recipient seat is taken — ask \
                         the sender to start again",
                    ),
                    other => other.into(),
                })?
        }
        (Side::B, None) => {
            return Err(ApiError::invalid("a recipient must name the channel to join").into());
        }
    };
    tracing::info!(channel = %opened.channel, ?side, "relay: seat taken");
    let mut reply = ok(
        "got channel",
        Opened {
            channel: opened.channel.clone(),
            uuid: opened.uuid,
        },
    );
    // A balancer learns from this header which instance holds the channel (docs/DEPLOY.md).
    if let Ok(value) = HeaderValue::from_str(&opened.channel) {
        reply.headers_mut().insert(CHANNEL_HEADER, value);
    }
    Ok(reply)
}

/// The reply header of `POST /open` that names the channel, for a balancer's affinity.
pub const CHANNEL_HEADER: &str = "x-zkrelay-channel";

/// A client-named channel must look like the server's own names (`NNNNNN-word`): a short or
/// guessable name would undo what the name space and the join limit protect.
fn check_channel_name(name: &str) -> Result<(), ApiError> {
    if is_channel_name(name) {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "a channel name is six digits and a word of the list, e.g. 482193-cedar",
        ))
    }
}

async fn post_values(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Path(channel): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Reply {
    let body: PostValues = parse_body(body, false)?;
    state
        .relay
        .with_seat(&channel, addr.ip(), &body.uuid, |side, board| match side {
            Side::A => {
                let (Some(x), Some(curve), None, None) =
                    (&body.x, &body.curve, &body.y, &body.hh_k)
                else {
                    return Err(ApiError::bad_request(
                        "the sender posts exactly x and curve",
                    ));
                };
                if curve != CURVE {
                    return Err(ApiError::invalid(format!(
                        "unsupported curve {:?}: only \"{CURVE}\"",
                        truncate(curve, 32)
                    )));
                }
                check_hex("x", x, MESSAGE_HEX, "41")?;
                if board.x.is_some() {
                    return Err(ApiError::new(ErrorCode::Conflict, "x was already posted"));
                }
                board.x = Some(x.clone());
                board.curve = Some(curve.clone());
                Ok(())
            }
            Side::B => {
                let (None, None, Some(y), Some(hh_k)) = (&body.x, &body.curve, &body.y, &body.hh_k)
                else {
                    return Err(ApiError::bad_request(
                        "the recipient posts exactly y and hh_k",
                    ));
                };
                check_hex("y", y, MESSAGE_HEX, "42")?;
                check_hex("hh_k", hh_k, DIGEST_HEX, "")?;
                if board.x.is_none() {
                    return Err(ApiError::new(
                        ErrorCode::Conflict,
                        "the sender has not posted x yet",
                    ));
                }
                if board.y.is_some() {
                    return Err(ApiError::new(ErrorCode::Conflict, "y was already posted"));
                }
                board.y = Some(y.clone());
                board.hh_k = Some(hh_k.clone());
                Ok(())
            }
        })?;
    Ok(ok("stored", Done {}))
}

/// The channel's public values so far (`wait`: until x is there).
async fn get_values(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Path(channel): Path<String>,
    query: Result<Query<SeatQuery>, axum::extract::rejection::QueryRejection>,
) -> Reply {
    let q = seat_query(query)?;
    let values = state
        .relay
        .wait_for(&channel, addr.ip(), &q.uuid, wait_of(&q), |_, b| {
            Ok(b.x.is_some().then(|| public_values(b)))
        })
        .await?;
    let values = match values {
        Some(v) => v,
        None => state
            .relay
            .read_seat(&channel, addr.ip(), &q.uuid, |_, b| Ok(public_values(b)))?,
    };
    Ok(ok("channel values", ChannelValues { channel, ..values }))
}

/// The board's public values (the channel's name is the caller's to add).
fn public_values(b: &Board) -> ChannelValues {
    ChannelValues {
        channel: String::new(),
        curve: b.curve.clone(),
        x: b.x.clone(),
        y: b.y.clone(),
        hh_k: b.hh_k.clone(),
        h_k: b.h_k.clone(),
        isready: b.stapled,
    }
}

async fn get_y(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Path(channel): Path<String>,
    query: Result<Query<SeatQuery>, axum::extract::rejection::QueryRejection>,
) -> Reply {
    let q = seat_query(query)?;
    let found = state
        .relay
        .wait_for(&channel, addr.ip(), &q.uuid, wait_of(&q), |side, b| {
            require_side(side, Side::A)?;
            Ok(b.y.clone().zip(b.hh_k.clone()).map(|v| (v, b.contested)))
        })
        .await?;
    let ((y, hh_k), contested) = found.ok_or_else(|| not_yet("y"))?;
    Ok(ok("got y", YReply { y, hh_k, contested }))
}

async fn post_h_k(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Path(channel): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Reply {
    let body: PostHk = parse_body(body, false)?;
    state
        .relay
        .with_seat(&channel, addr.ip(), &body.uuid, |side, board| {
            require_side(side, Side::A)?;
            check_hex("h_k", &body.h_k, DIGEST_HEX, "")?;
            if board.y.is_none() {
                return Err(ApiError::new(
                    ErrorCode::Conflict,
                    "the recipient has not posted y yet",
                ));
            }
            if board.h_k.is_some() {
                return Err(ApiError::new(ErrorCode::Conflict, "h_k was already posted"));
            }
            board.h_k = Some(body.h_k.clone());
            Ok(())
        })?;
    Ok(ok("stored", Done {}))
}

async fn get_h_k(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Path(channel): Path<String>,
    query: Result<Query<SeatQuery>, axum::extract::rejection::QueryRejection>,
) -> Reply {
    let q = seat_query(query)?;
    let found = state
        .relay
        .wait_for(&channel, addr.ip(), &q.uuid, wait_of(&q), |side, b| {
            require_side(side, Side::B)?;
            Ok(b.h_k.clone())
        })
        .await?;
    let h_k = found.ok_or_else(|| not_yet("h_k"))?;
    Ok(ok("got h_k", HkReply { h_k }))
}

/// Marks this side ready for its data connection and says where to connect.
async fn open_data(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Path((role, channel)): Path<(String, String)>,
    query: Result<Query<SeatQuery>, axum::extract::rejection::QueryRejection>,
) -> Reply {
    let want = role_side(&role)?;
    let q = seat_query(query)?;
    state
        .relay
        .with_seat(&channel, addr.ip(), &q.uuid, |side, board| {
            require_side(side, want)?;
            if board.h_k.is_none() {
                return Err(ApiError::new(
                    ErrorCode::Conflict,
                    "the key is not confirmed yet (no h_k)",
                ));
            }
            *board.open.get_mut(side) = true;
            Ok(())
        })?;
    // Behind a balancer, its data port (which routes by the hello's channel); else the bound one.
    let data_port = match state.config.relay.public_data_port {
        0 => state.data_port.load(std::sync::atomic::Ordering::Relaxed),
        public => public,
    };
    Ok(ok(
        "open the data connection",
        DataOpen {
            data_port: (data_port != 0).then_some(data_port),
            data_path: format!("/ws/data/{channel}"),
        },
    ))
}

async fn is_ready(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Path((role, channel)): Path<(String, String)>,
    query: Result<Query<SeatQuery>, axum::extract::rejection::QueryRejection>,
) -> Reply {
    let want = role_side(&role)?;
    let q = seat_query(query)?;
    let ready = state
        .relay
        .wait_for(&channel, addr.ip(), &q.uuid, wait_of(&q), |side, b| {
            require_side(side, want)?;
            Ok(b.stapled.then_some(()))
        })
        .await?
        .is_some();
    Ok(ok(
        if ready { "stapled" } else { "not stapled yet" },
        Ready { isready: ready },
    ))
}

async fn close(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Path(channel): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Reply {
    let body: CloseRequest = parse_body(body, false)?;
    state.relay.close(&channel, addr.ip(), &body.uuid)?;
    tracing::info!(%channel, "relay: channel closed by a participant");
    Ok(ok("closed", Done {}))
}

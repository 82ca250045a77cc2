//! Identify on the server: drawing moduli, registering Peggys, listing them, and pairing a Victor
//! with a Peggy over two WebSockets.
//!
//! A Peggy draws a modulus from the Blum pool, builds her key in the browser and registers the
//! public half. Registration checks everything — the name, the key (through the FFS core), that the
//! key's n is the modulus issued under that id and that no other Peggy holds it — before the one
//! insert, which repeats the modulus conditions atomically so concurrent registrations cannot both
//! win.
//!
//! Then Peggy connects `/ws/identify/peggy?peggy_id=…` and waits; a Victor connects
//! `/ws/identify/victor?peggy_id=…`. The run is a channel of the shared two-seat core keyed by the
//! Peggy's id (Peggy seat A, Victor seat B); a second Victor is refused as busy. The server sends
//! each side `{"type":"paired",…}` (Victor also gets Peggy's registered public key), then forwards
//! every text message unchanged to the other side. When either socket closes, or the run expires,
//! both sockets close and the Peggy's rows (and her modulus) are deleted. Peggys that never
//! connect, and moduli drawn but never registered, are swept after the channel TTL; everything of
//! a previous run goes at start-up ([`sweep_at_start`]).

use super::{
    AppState, Store,
    channels::{Channels, Side},
    store::{InsertPeggy, NewPeggy, StoreError},
};
use crate::api::{
    ApiError, ErrorCode,
    identify::{DrawnModulus, PeggySummary, Registered, check_name, check_public_key},
};
use axum::{
    Router,
    extract::{
        ConnectInfo, Query, State, WebSocketUpgrade,
        rejection::QueryRejection,
        ws::{CloseFrame, Message, WebSocket, close_code},
    },
    response::Response,
    routing::get,
};
use serde::Deserialize;
use serde_json::{Value, json};
use std::{net::IpAddr, net::SocketAddr, time::Duration};
use tokio::sync::mpsc;

/// Takes a fresh modulus from the pool.
pub async fn draw_modulus(state: &AppState) -> Result<DrawnModulus, ApiError> {
    let drawn = state.blum_pool.draw().await?;
    tracing::info!(modulus_id = drawn.id, "identify: modulus drawn");
    Ok(DrawnModulus {
        modulus_id: drawn.id,
        n: drawn.n_hex,
        bits: state.blum_pool.bits(),
    })
}

/// Validates and stores a registration; nothing is written unless every check passes.
pub async fn register_peggy(
    state: &AppState,
    name: &str,
    modulus_id: i64,
    public_key: &str,
) -> Result<Registered, ApiError> {
    let name = check_name(name)?;
    let checked = check_public_key(public_key)?;
    let store = &state.store;
    let modulus = store
        .modulus(modulus_id)
        .await?
        .filter(|m| m.issued)
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::NotFound,
                format!("this server issued no modulus with id {modulus_id}; draw one first"),
            )
        })?;
    if modulus.n_hex != checked.n_hex {
        return Err(ApiError::invalid(format!(
            "the public key's n is not the modulus this server issued with id {modulus_id}"
        )));
    }
    if modulus.registered {
        return Err(already_registered());
    }
    let k = u32::try_from(checked.key.k()).map_err(|_| ApiError::internal())?;
    let inserted = store
        .insert_peggy(&NewPeggy {
            name: &name,
            modulus_id,
            n_hex: &checked.n_hex,
            k,
            public_key: &checked.json,
        })
        .await?;
    match inserted {
        InsertPeggy::Inserted(peggy_id) => {
            tracing::info!(%peggy_id, modulus_id, k, "identify: Peggy registered");
            Ok(Registered {
                peggy_id,
                name,
                bits: modulus.bits,
                k,
            })
        }
        // Lost a race with another registration (or a clean-up) since the checks above.
        InsertPeggy::ModulusTaken => Err(already_registered()),
        InsertPeggy::NoSuchModulus => Err(ApiError::new(
            ErrorCode::NotFound,
            format!("the modulus with id {modulus_id} is gone; draw a new one"),
        )),
    }
}

fn already_registered() -> ApiError {
    ApiError::new(
        ErrorCode::Conflict,
        "a Peggy is already registered with this modulus; draw a new one",
    )
}

/// The registered Peggys, as Victors see them.
pub async fn list_peggys(state: &AppState) -> Result<Vec<PeggySummary>, ApiError> {
    Ok(state
        .store
        .peggys()
        .await?
        .into_iter()
        .map(|p| PeggySummary {
            peggy_id: p.id,
            name: p.name,
            bits: p.bits,
            k: p.k,
            busy: p.busy,
        })
        .collect())
}

/// Removes every Peggy (and issued modulus) left by a previous run: none of its connections
/// survived, so none of them can be identified any more.
pub async fn sweep_at_start(store: &Store) -> Result<(), StoreError> {
    let (peggys, moduli) = store.sweep_identities().await?;
    if peggys > 0 || moduli > 0 {
        tracing::info!(
            peggys,
            moduli,
            "identify: removed Peggys and issued moduli left from the previous run"
        );
    }
    Ok(())
}

// ------------------------------------------------------------------ pairing sockets

/// Largest text message on an Identify socket.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// Messages queued for one side before the server gives up on it.
const OUTBOX: usize = 64;
/// Message types only the server sends; a client may not forge them.
const SERVER_TYPES: [&str; 2] = ["paired", "error"];

/// One identification run: where each seat's messages go (index 0 Peggy, 1 Victor). Dropping it
/// (the channel closes or expires) ends both sockets.
#[derive(Default)]
pub struct IdentifyRun {
    outboxes: [Option<mpsc::Sender<String>>; 2],
}

/// The Identify runs, keyed by Peggy id.
pub type IdentifyChannels = Channels<IdentifyRun>;

fn slot(side: Side) -> usize {
    usize::from(side == Side::B)
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/ws/identify/peggy", get(peggy_upgrade))
        .route("/ws/identify/victor", get(victor_upgrade))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RunQuery {
    peggy_id: String,
}

fn peggy_id_of(query: Result<Query<RunQuery>, QueryRejection>) -> Result<String, ApiError> {
    let id = query
        .map(|Query(q)| q.peggy_id)
        .map_err(|e| ApiError::bad_request(format!("expected ?peggy_id=…: {}", e.body_text())))?;
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
    query: Result<Query<RunQuery>, QueryRejection>,
) -> Response {
    upgrade(ws, state, addr, peggy_id_of(query), Side::A)
}

async fn victor_upgrade(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    query: Result<Query<RunQuery>, QueryRejection>,
) -> Response {
    upgrade(ws, state, addr, peggy_id_of(query), Side::B)
}

/// Refusals happen after the upgrade, as an `error` message and a close frame, so browsers (which
/// cannot read a refused handshake) can show why.
fn upgrade(
    ws: WebSocketUpgrade,
    state: AppState,
    addr: SocketAddr,
    peggy_id: Result<String, ApiError>,
    side: Side,
) -> Response {
    ws.max_message_size(MAX_MESSAGE_BYTES)
        .max_frame_size(MAX_MESSAGE_BYTES)
        .on_upgrade(move |socket| serve(state, socket, addr.ip(), peggy_id, side))
}

/// A seat held in a run.
struct Seat {
    peggy_id: String,
    ip: IpAddr,
    uuid: String,
    side: Side,
}

/// Why a socket's run ended.
enum End {
    /// This client closed (or its connection failed).
    Closed,
    /// The other side left, or the run expired.
    RunEnded,
    /// This client broke the rules: close code and reason.
    Refused(u16, String),
}

async fn serve(
    state: AppState,
    mut socket: WebSocket,
    ip: IpAddr,
    peggy_id: Result<String, ApiError>,
    side: Side,
) {
    let taken = match peggy_id {
        Ok(id) => match side {
            Side::A => seat_peggy(&state, ip, id).await,
            Side::B => seat_victor(&state, ip, id).await,
        },
        Err(err) => Err(err),
    };
    let (seat, mut inbox) = match taken {
        Ok(taken) => taken,
        Err(err) => {
            let _ = socket.send(Message::Text(error_message(&err).into())).await;
            return close(socket, close_code::POLICY, &err.message).await;
        }
    };
    let end = forward(&state, &mut socket, &seat, &mut inbox).await;
    leave(&state, &seat).await;
    match end {
        End::Closed => {}
        End::RunEnded => {
            close(
                socket,
                close_code::NORMAL,
                "the other side left (or the run expired)",
            )
            .await;
        }
        End::Refused(code, reason) => close(socket, code, &reason).await,
    }
}

/// Seats a registered Peggy (once) in the run named by her id.
async fn seat_peggy(
    state: &AppState,
    ip: IpAddr,
    peggy_id: String,
) -> Result<(Seat, mpsc::Receiver<String>), ApiError> {
    if state.store.peggy(&peggy_id).await?.is_none() {
        return Err(no_such_peggy());
    }
    let opened = state
        .identify
        .open(ip, Some(&peggy_id), Side::A)
        .map_err(|e| match e.code {
            ErrorCode::Conflict => {
                ApiError::new(ErrorCode::Conflict, "this Peggy is already connected")
            }
            _ => e,
        })?;
    let (outbox, inbox) = mpsc::channel(OUTBOX);
    state
        .identify
        .with_seat(&peggy_id, ip, &opened.uuid, |side, run| {
            run.outboxes[slot(side)] = Some(outbox);
            Ok(())
        })?;
    tracing::info!(%peggy_id, "identify: Peggy connected");
    Ok((
        Seat {
            peggy_id,
            ip,
            uuid: opened.uuid,
            side: Side::A,
        },
        inbox,
    ))
}

/// Seats a Victor with a connected, idle Peggy; tells both they are paired.
async fn seat_victor(
    state: &AppState,
    ip: IpAddr,
    peggy_id: String,
) -> Result<(Seat, mpsc::Receiver<String>), ApiError> {
    let store = &state.store;
    let Some(peggy) = store.peggy(&peggy_id).await? else {
        return Err(no_such_peggy());
    };
    if state.identify.watch(&peggy_id).is_none() {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            "this Peggy is registered but not connected; try again when she is online",
        ));
    }
    // The store's status is the gate: of two Victors racing, exactly one claims her.
    if !store.set_peggy_busy(&peggy_id, true).await? {
        return Err(if store.peggy(&peggy_id).await?.is_some() {
            busy()
        } else {
            no_such_peggy()
        });
    }
    let opened = match state.identify.open(ip, Some(&peggy_id), Side::B) {
        Ok(opened) => opened,
        Err(e) => {
            let _ = store.set_peggy_busy(&peggy_id, false).await;
            return Err(if e.code == ErrorCode::Conflict {
                busy()
            } else {
                e
            });
        }
    };
    let public_key: Value = serde_json::from_str(&peggy.public_key).map_err(|e| {
        tracing::error!(error = %e, %peggy_id, "identify: stored public key is not JSON");
        ApiError::internal()
    })?;
    let (outbox, inbox) = mpsc::channel(OUTBOX);
    let paired = json!({
        "type": "paired",
        "peggy": { "peggy_id": peggy.id, "name": peggy.name, "bits": peggy.bits, "k": peggy.k },
        "public_key": public_key,
    });
    outbox
        .try_send(paired.to_string())
        .map_err(|_| ApiError::internal())?;
    state
        .identify
        .with_seat(&peggy_id, ip, &opened.uuid, |side, run| {
            run.outboxes[slot(side)] = Some(outbox);
            Ok(())
        })?;
    // Peggy's socket registers her outbox just after taking her seat; wait out that instant.
    let to_peggy = state
        .identify
        .wait_for(
            &peggy_id,
            ip,
            &opened.uuid,
            Duration::from_secs(1),
            |_, run| Ok(run.outboxes[slot(Side::A)].clone()),
        )
        .await;
    let delivered = match to_peggy {
        Ok(Some(to_peggy)) => to_peggy
            .try_send(json!({ "type": "paired" }).to_string())
            .is_ok(),
        _ => false,
    };
    if !delivered {
        // She left between the checks and the seat: this run cannot happen.
        state.identify.remove(&peggy_id);
        return Err(ApiError::new(ErrorCode::NotFound, "this Peggy just left"));
    }
    tracing::info!(%peggy_id, "identify: Victor paired with Peggy");
    Ok((
        Seat {
            peggy_id,
            ip,
            uuid: opened.uuid,
            side: Side::B,
        },
        inbox,
    ))
}

/// Copies text messages from this socket to the other seat's, and the other seat's to this
/// socket, until one side ends.
async fn forward(
    state: &AppState,
    socket: &mut WebSocket,
    seat: &Seat,
    inbox: &mut mpsc::Receiver<String>,
) -> End {
    loop {
        tokio::select! {
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    if let Err(reason) = check_message(&text) {
                        return End::Refused(close_code::POLICY, reason);
                    }
                    let peer = state.identify.read_seat(&seat.peggy_id, seat.ip, &seat.uuid, |side, run| {
                        Ok(run.outboxes[slot(side.other())].clone())
                    });
                    match peer {
                        Err(_) => return End::RunEnded,
                        Ok(None) => {
                            let err = ApiError::new(
                                ErrorCode::Conflict,
                                "no Victor has joined yet; nothing was sent",
                            );
                            if socket.send(Message::Text(error_message(&err).into())).await.is_err() {
                                return End::Closed;
                            }
                        }
                        Ok(Some(peer)) => match peer.try_send(text.to_string()) {
                            Ok(()) => {}
                            Err(mpsc::error::TrySendError::Full(_)) => {
                                return End::Refused(
                                    close_code::POLICY,
                                    "too many messages ahead of the other side".into(),
                                );
                            }
                            Err(mpsc::error::TrySendError::Closed(_)) => return End::RunEnded,
                        },
                    }
                }
                Some(Ok(Message::Binary(_))) => {
                    return End::Refused(close_code::UNSUPPORTED, "text messages only".into());
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Close(_)) | Err(_)) | None => return End::Closed,
            },
            outgoing = inbox.recv() => match outgoing {
                Some(text) => {
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        return End::Closed;
                    }
                }
                None => return End::RunEnded,
            },
        }
    }
}

/// A client message must be a JSON object with a string `type` the server does not reserve.
fn check_message(text: &str) -> Result<(), String> {
    let value: Value = serde_json::from_str(text)
        .map_err(|_| "messages must be JSON objects with a \"type\"".to_owned())?;
    match value.get("type").and_then(Value::as_str) {
        Some(t) if SERVER_TYPES.contains(&t) => {
            Err(format!("only the server sends \"{t}\" messages"))
        }
        Some(_) => Ok(()),
        None => Err("messages must be JSON objects with a \"type\"".to_owned()),
    }
}

/// Ends the run: the channel goes (the other socket closes) and so do the Peggy's rows.
async fn leave(state: &AppState, seat: &Seat) {
    state.identify.remove(&seat.peggy_id);
    match state.store.delete_peggy(&seat.peggy_id).await {
        Ok(_) => {
            tracing::info!(peggy_id = %seat.peggy_id, side = ?seat.side, "identify: run ended")
        }
        Err(e) => {
            tracing::error!(error = %e, peggy_id = %seat.peggy_id, "identify: cannot delete the Peggy")
        }
    }
}

fn error_message(err: &ApiError) -> String {
    json!({ "type": "error", "code": err.code, "message": err.message }).to_string()
}

async fn close(mut socket: WebSocket, code: u16, reason: &str) {
    // A close reason is at most 123 bytes.
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let frame = CloseFrame {
        code,
        reason: reason[..end].into(),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
}

fn no_such_peggy() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "no Peggy is registered with this id")
}

fn busy() -> ApiError {
    ApiError::new(
        ErrorCode::Conflict,
        "this Peggy is busy: another Victor is identifying her",
    )
}

// ------------------------------------------------------------------ clean-up

/// Every `period`, deletes Peggys registered longer than `ttl` ago that never connected, and
/// moduli drawn longer than `ttl` ago that nobody registered.
pub fn spawn_janitor(
    state: AppState,
    ttl: Duration,
    period: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = sweep_stale(&state, ttl).await {
                tracing::error!(error = %e, "identify: clean-up failed");
            }
        }
    })
}

/// One pass of [`spawn_janitor`]; returns (Peggys, moduli) deleted.
pub async fn sweep_stale(state: &AppState, ttl: Duration) -> Result<(u64, u64), StoreError> {
    let cutoff =
        super::store::unix_now().saturating_sub(i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX));
    let mut peggys = 0;
    for peggy in state.store.peggys().await? {
        if peggy.created_at < cutoff
            && state.identify.watch(&peggy.id).is_none()
            && state.store.delete_peggy(&peggy.id).await?
        {
            peggys += 1;
        }
    }
    let moduli = state.store.delete_unregistered_moduli(cutoff).await?;
    if peggys > 0 || moduli > 0 {
        tracing::info!(
            peggys,
            moduli,
            "identify: removed stale Peggys and drawn moduli"
        );
    }
    Ok((peggys, moduli))
}

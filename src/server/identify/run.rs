//! The sockets of an identification run: Peggy waits on `/ws/identify/peggy`, a Victor joins on
//! `/ws/identify/victor`, and the server forwards their messages unchanged while a
//! [`Referee`] checks each one.
//!
//! A run is a channel of the shared two-seat core named by the Peggy's id (Peggy seat A, Victor
//! seat B; only Peggy's seat secret opens seat A), so it has at most two client IPs, either side may end it and it expires after
//! `[identify] run_ttl_secs`. The server pings each socket; one silent for
//! `[identify] idle_timeout_secs` is dropped. However a run ends — Peggy's `ack` of the verdict,
//! a message the referee refuses, a socket closing or going silent, the expiry — both sockets get
//! an `error` message saying why (unless the run simply finished), then a close frame, and the
//! Peggy's rows are deleted.

use crate::{
    api::{ApiError, ErrorCode},
    protocol::{
        ffs::PublicKey,
        identify::{
            MAX_CLIENT_MESSAGE_BYTES, Message as Wire, Party, PeggyCard, Progress, Referee,
        },
    },
    server::{
        AppState,
        channels::{Channels, Side},
    },
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
use std::{
    net::{IpAddr, SocketAddr},
    time::{Duration, Instant},
};
use tokio::sync::mpsc;

/// Messages queued for one side before the server gives up on it.
const OUTBOX: usize = 64;
/// How long a closing socket waits for the client's close frame.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// What the server sends down one socket.
#[derive(Debug)]
enum Out {
    /// A message text (forwarded, or the server's own).
    Text(String),
    /// Close with this code and reason; nothing follows.
    Close(u16, String),
}

/// One identification run: where each seat's messages go (index 0 Peggy, 1 Victor), and the
/// referee once both are seated. Dropping it (the run ends or expires) ends both sockets.
#[derive(Default)]
pub struct IdentifyRun {
    outboxes: [Option<mpsc::Sender<Out>>; 2],
    referee: Option<Referee>,
}

/// The Identify runs, keyed by Peggy id.
pub type IdentifyChannels = Channels<IdentifyRun>;

fn slot(side: Side) -> usize {
    usize::from(side == Side::B)
}

fn party(side: Side) -> Party {
    match side {
        Side::A => Party::Peggy,
        Side::B => Party::Victor,
    }
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PeggyQuery {
    peggy_id: String,
    /// Missing is refused like a wrong one.
    #[serde(default)]
    secret: Option<String>,
}

fn peggy_id_of(query: Result<Query<RunQuery>, QueryRejection>) -> Result<String, ApiError> {
    let id = query
        .map(|Query(q)| q.peggy_id)
        .map_err(|e| ApiError::bad_request(format!("expected ?peggy_id=…: {}", e.body_text())))?;
    check_peggy_id(id)
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
    let (peggy_id, secret) = match query {
        Ok(Query(q)) => (check_peggy_id(q.peggy_id), q.secret),
        Err(e) => (
            Err(ApiError::bad_request(format!(
                "expected ?peggy_id=…&secret=…: {}",
                e.body_text()
            ))),
            None,
        ),
    };
    upgrade(ws, state, addr, peggy_id, secret, Side::A)
}

async fn victor_upgrade(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    query: Result<Query<RunQuery>, QueryRejection>,
) -> Response {
    upgrade(ws, state, addr, peggy_id_of(query), None, Side::B)
}

/// Refusals happen after the upgrade, as an `error` message and a close frame, so browsers (which
/// cannot read a refused handshake) can show why.
fn upgrade(
    ws: WebSocketUpgrade,
    state: AppState,
    addr: SocketAddr,
    peggy_id: Result<String, ApiError>,
    secret: Option<String>,
    side: Side,
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
        .on_upgrade(move |socket| serve(state, socket, addr.ip(), peggy_id, secret, side))
}

/// A seat held in a run.
struct Seat {
    peggy_id: String,
    ip: IpAddr,
    uuid: String,
    side: Side,
}

/// Why a socket's part in a run ended.
enum End {
    /// This client closed, or its connection failed.
    Closed,
    /// This client was silent longer than the idle timeout.
    Silent,
    /// The other side ended the run; its error and close frame went down this socket.
    PeerClosed,
    /// The run is gone (it expired, or the other side vanished without a word).
    Dropped,
    /// The run finished: Peggy acknowledged the verdict.
    Finished,
    /// This client broke the rules.
    Refused(String),
}

async fn serve(
    state: AppState,
    mut socket: WebSocket,
    ip: IpAddr,
    peggy_id: Result<String, ApiError>,
    secret: Option<String>,
    side: Side,
) {
    let taken = match peggy_id {
        Ok(id) => match side {
            Side::A => seat_peggy(&state, ip, id, secret.as_deref()).await,
            Side::B => seat_victor(&state, ip, id).await,
        },
        Err(err) => Err(err),
    };
    let (seat, mut inbox) = match taken {
        Ok(taken) => taken,
        Err(err) => {
            let _ = socket.send(text(error_message(&err))).await;
            return close(socket, close_code::POLICY, &err.message).await;
        }
    };
    let idle = Duration::from_secs(state.config.identify.idle_timeout_secs);
    let end = forward(&state, &mut socket, &seat, &mut inbox, idle).await;
    let who = party(seat.side);
    let other = party(seat.side.other());
    // Tell the other side (if any) why, and what to tell this one.
    let (to_peer, to_self) = match &end {
        End::Finished => (
            vec![Out::Close(
                close_code::NORMAL,
                "identification finished".into(),
            )],
            Some((close_code::NORMAL, "identification finished".to_owned())),
        ),
        End::Closed => (
            ended(&format!("{who} left the run"), close_code::AWAY),
            None,
        ),
        End::Silent => {
            let why = format!("{who} went silent for {} s", idle.as_secs());
            let to_self = Some((close_code::AWAY, why.clone()));
            (ended(&why, close_code::AWAY), to_self)
        }
        End::Refused(why) => {
            let why = format!("{who} broke the protocol: {why}");
            let to_self = Some((close_code::POLICY, why.clone()));
            (ended(&why, close_code::POLICY), to_self)
        }
        End::PeerClosed => (Vec::new(), None),
        End::Dropped => {
            let why = format!("{other} left the run, or it expired");
            (ended(&why, close_code::AWAY), Some((close_code::AWAY, why)))
        }
    };
    if let Some(peer) = peer_outbox(&state, &seat) {
        for out in to_peer {
            let _ = peer.try_send(out);
        }
    }
    leave(&state, &seat).await;
    match (end, to_self) {
        (End::Finished, Some((code, reason))) => close(socket, code, &reason).await,
        (End::Dropped, Some((code, reason))) => {
            let _ = socket.send(text(error_json("peer_left", &reason))).await;
            close(socket, code, &reason).await;
        }
        (_, Some((code, reason))) => {
            let _ = socket.send(text(error_json("protocol", &reason))).await;
            close(socket, code, &reason).await;
        }
        (_, None) => {}
    }
}

/// The messages that tell the other side the run ended: an `error`, then a close.
fn ended(why: &str, code: u16) -> Vec<Out> {
    let kind = if code == close_code::POLICY {
        "protocol"
    } else {
        "peer_left"
    };
    vec![
        Out::Text(error_json(kind, why)),
        Out::Close(code, why.to_owned()),
    ]
}

fn peer_outbox(state: &AppState, seat: &Seat) -> Option<mpsc::Sender<Out>> {
    state
        .identify
        .read_seat(&seat.peggy_id, seat.ip, &seat.uuid, |side, run| {
            Ok(run.outboxes[slot(side.other())].clone())
        })
        .ok()
        .flatten()
}

/// Seats a registered Peggy (once), with her secret, in the run named by her id. A missing or
/// wrong secret is refused exactly like an unknown id, before anything touches her run.
async fn seat_peggy(
    state: &AppState,
    ip: IpAddr,
    peggy_id: String,
    given: Option<&str>,
) -> Result<(Seat, mpsc::Receiver<Out>), ApiError> {
    let stored = state.store.peggy_secret_sha256(&peggy_id).await?;
    if !super::secret::opens(given, stored.as_deref()) {
        if stored.is_some() {
            tracing::info!(%peggy_id, "identify: Peggy seat refused: missing or wrong secret");
        }
        return Err(no_such_peggy());
    }
    let opened = state
        .identify
        .create(ip, Some(&peggy_id), Side::A, String::new)
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
    tracing::info!(%peggy_id, "identify: Peggy waiting");
    let seat = Seat {
        peggy_id,
        ip,
        uuid: opened.uuid,
        side: Side::A,
    };
    Ok((seat, inbox))
}

/// Seats a Victor with a connected, idle Peggy and tells both they are paired.
async fn seat_victor(
    state: &AppState,
    ip: IpAddr,
    peggy_id: String,
) -> Result<(Seat, mpsc::Receiver<Out>), ApiError> {
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
    let public_key: PublicKey = serde_json::from_str(&peggy.public_key).map_err(|e| {
        tracing::error!(error = %e, %peggy_id, "identify: stored public key does not load");
        ApiError::internal()
    })?;
    // The store's status is the gate: of two Victors racing, exactly one claims her.
    if !store.set_peggy_busy(&peggy_id, true).await? {
        return Err(if store.peggy(&peggy_id).await?.is_some() {
            busy()
        } else {
            no_such_peggy()
        });
    }
    let opened = match state.identify.join(ip, &peggy_id, Side::B, |_| {}) {
        Ok(opened) => opened,
        Err(e) => {
            let _ = store.set_peggy_busy(&peggy_id, false).await;
            return Err(match e.code {
                ErrorCode::Conflict => busy(),
                ErrorCode::NotFound => ApiError::new(
                    ErrorCode::NotFound,
                    "this Peggy is not waiting for you: she left, or another Victor has her",
                ),
                _ => e,
            });
        }
    };
    let referee = Referee::new(&public_key);
    let paired = Wire::Paired {
        peggy: Some(PeggyCard {
            peggy_id: peggy.id.clone(),
            name: peggy.name.clone(),
            bits: peggy.bits,
            k: peggy.k,
        }),
        public_key: Some(public_key),
    };
    let (outbox, inbox) = mpsc::channel(OUTBOX);
    outbox
        .try_send(Out::Text(paired.to_json()))
        .map_err(|_| ApiError::internal())?;
    let to_peggy = state
        .identify
        .with_seat(&peggy_id, ip, &opened.uuid, |side, run| {
            run.outboxes[slot(side)] = Some(outbox);
            run.referee = Some(referee);
            Ok(run.outboxes[slot(Side::A)].clone())
        })?;
    let told = to_peggy.is_some_and(|peggy| {
        let paired = Wire::Paired {
            peggy: None,
            public_key: None,
        };
        peggy.try_send(Out::Text(paired.to_json())).is_ok()
    });
    if !told {
        // She left between the checks and the seat: this run cannot happen.
        state.identify.remove(&peggy_id);
        let _ = store.delete_peggy(&peggy_id).await;
        return Err(ApiError::new(ErrorCode::NotFound, "this Peggy just left"));
    }
    tracing::info!(%peggy_id, "identify: Victor paired with Peggy");
    let seat = Seat {
        peggy_id,
        ip,
        uuid: opened.uuid,
        side: Side::B,
    };
    Ok((seat, inbox))
}

/// Copies checked text messages from this socket to the other seat's, and the other seat's to
/// this socket, until the run ends; pings the client and drops it when it goes silent.
async fn forward(
    state: &AppState,
    socket: &mut WebSocket,
    seat: &Seat,
    inbox: &mut mpsc::Receiver<Out>,
    idle: Duration,
) -> End {
    let mut heard = Instant::now();
    let mut ping = tokio::time::interval((idle / 4).max(Duration::from_millis(250)));
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            incoming = socket.recv() => {
                heard = Instant::now();
                match incoming {
                    Some(Ok(Message::Text(text))) => match relay(state, seat, text.as_str()) {
                        Ok(Progress::Continue) => {}
                        Ok(Progress::Finished) => return End::Finished,
                        Err(end) => return end,
                    },
                    Some(Ok(Message::Binary(_))) => {
                        return End::Refused("only text messages are allowed".into());
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                    Some(Ok(Message::Close(_)) | Err(_)) | None => return End::Closed,
                }
            }
            outgoing = inbox.recv() => match outgoing {
                Some(Out::Text(text)) => {
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        return End::Closed;
                    }
                }
                Some(Out::Close(code, reason)) => {
                    close_in_place(socket, code, &reason).await;
                    return End::PeerClosed;
                }
                None => return End::Dropped,
            },
            _ = ping.tick() => {
                if heard.elapsed() > idle {
                    return End::Silent;
                }
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    return End::Closed;
                }
            }
        }
    }
}

/// Checks one client message and queues it for the other side.
fn relay(state: &AppState, seat: &Seat, text: &str) -> Result<Progress, End> {
    let from = party(seat.side);
    let checked = state
        .identify
        .with_seat(&seat.peggy_id, seat.ip, &seat.uuid, |side, run| {
            let peer = run.outboxes[slot(side.other())].clone();
            let verdict = match (&mut run.referee, &peer) {
                (Some(referee), Some(_)) => referee
                    .check(from, text)
                    .map_err(|e| e.message().to_owned()),
                _ => Err("no Victor has joined yet; nothing was sent".to_owned()),
            };
            Ok((verdict, peer))
        });
    let (verdict, peer) = checked.map_err(|_| End::Dropped)?;
    let progress = verdict.map_err(End::Refused)?;
    let peer = peer.ok_or(End::Dropped)?;
    match peer.try_send(Out::Text(text.to_owned())) {
        Ok(()) => Ok(progress),
        Err(mpsc::error::TrySendError::Full(_)) => Err(End::Refused(
            "too many messages ahead of the other side".into(),
        )),
        Err(mpsc::error::TrySendError::Closed(_)) => Err(End::Dropped),
    }
}

/// Ends the run: the channel goes (the other socket ends) and so do the Peggy's rows.
async fn leave(state: &AppState, seat: &Seat) {
    state.identify.remove(&seat.peggy_id);
    match state.store.delete_peggy(&seat.peggy_id).await {
        Ok(_) => {
            tracing::info!(peggy_id = %seat.peggy_id, side = ?seat.side, "identify: run ended")
        }
        Err(e) => {
            tracing::error!(error = %e, peggy_id = %seat.peggy_id, "identify: cannot delete the Peggy");
        }
    }
}

fn text(t: String) -> Message {
    Message::Text(t.into())
}

fn error_json(code: &str, message: &str) -> String {
    Wire::Error {
        code: code.to_owned(),
        message: message.to_owned(),
    }
    .to_json()
}

fn error_message(err: &ApiError) -> String {
    serde_json::json!({ "type": "error", "code": err.code, "message": err.message }).to_string()
}

async fn close(mut socket: WebSocket, code: u16, reason: &str) {
    close_in_place(&mut socket, code, reason).await;
}

/// Sends a close frame and waits (briefly) for the client's: closing first and hanging up at
/// once would let the kernel answer the client's close with a reset, and a reset can discard the
/// error message and close frame before the client reads them.
async fn close_in_place(socket: &mut WebSocket, code: u16, reason: &str) {
    // A close reason is at most 123 bytes.
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let frame = CloseFrame {
        code,
        reason: reason[..end].into(),
    };
    if socket.send(Message::Close(Some(frame))).await.is_err() {
        return;
    }
    let _ = tokio::time::timeout(CLOSE_GRACE, async {
        while let Some(Ok(message)) = socket.recv().await {
            if matches!(message, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
}

/// The refusal for an unknown Peggy — and, word for word, for a Peggy socket without her secret.
fn no_such_peggy() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "no Peggy is registered with this id")
}

fn busy() -> ApiError {
    ApiError::new(
        ErrorCode::Conflict,
        "this Peggy is busy: another Victor is identifying her",
    )
}

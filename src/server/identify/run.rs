//! The sockets of an identification run: Peggy waits on `/ws/identify/peggy`, Victors join her one
//! at a time on `/ws/identify/victor`, and the server forwards their messages unchanged while a
//! [`Referee`] checks each one.
//!
//! A run is a channel of the shared two-seat core named by the Peggy's id. Peggy holds seat A for
//! as long as her socket is open, and only her seat secret opens it; each Victor holds seat B for
//! one pairing, checked by a referee of its own. Both routes are rate-limited per client address
//! before the upgrade. The server pings each socket and drops one silent for
//! `[identify] idle_timeout_secs`; once paired, the party whose turn it is has
//! `[identify] step_timeout_secs` to send what the referee expects (pings and pongs do not count).
//!
//! How a pairing ends decides Peggy's fate ([`seats`]):
//! - Peggy acknowledges the verdict: both sockets close normally, her rows are deleted;
//! - her own socket closes, goes silent, breaks the protocol or stalls, or the run expires: both
//!   get an `error` and a close, her rows are deleted;
//! - Victor's seat ends before the verdict, for whatever reason: only his seat goes. Peggy is told
//!   `unpaired` and waits for the next Victor. If she owed a reply to his last message, that one
//!   reply is checked by his referee and dropped, and she is offered to Victors again after it.

mod seats;
mod socket;
mod upgrade;

pub use upgrade::routes;

use crate::{
    api::{ApiError, ErrorCode},
    protocol::identify::{Party, Progress, Referee},
    server::{
        AppState,
        channels::{Channels, PerSide, Side},
    },
};
use axum::extract::ws::{Message, WebSocket};
use std::{
    net::IpAddr,
    time::{Duration, Instant},
};
use tokio::sync::mpsc::{self, error::TrySendError};

use socket::{close, close_code, close_in_place, error_message, text};
use upgrade::Asked;

/// Messages queued for one side before the server gives up on it.
const OUTBOX: usize = 64;

/// What the server sends down one socket.
#[derive(Debug)]
enum Out {
    /// A message text (forwarded, or the server's own).
    Text(String),
    /// Close with this code and reason; nothing follows.
    Close(u16, String),
}

/// One identification run: where each seat's messages go (A Peggy, B Victor), the current
/// pairing, and the message it waits for. Dropping it (the run ends or expires) ends both sockets.
#[derive(Default)]
pub struct IdentifyRun {
    outboxes: PerSide<Option<mpsc::Sender<Out>>>,
    pairing: Pairing,
    /// Whose message the run waits for, and until when (the step timeout).
    due: Option<(Party, Instant)>,
}

/// Where Peggy stands with Victors.
#[derive(Default)]
enum Pairing {
    /// No Victor; she owes nothing.
    #[default]
    Waiting,
    /// A Victor holds seat B; the referee checks their run.
    Paired(Box<Referee>),
    /// The Victor's seat ended while Peggy owed a reply; that reply, checked by his referee, is
    /// dropped, then she waits again.
    Draining(Box<Referee>),
}

/// The Identify runs, keyed by Peggy id.
pub type IdentifyChannels = Channels<IdentifyRun>;

fn party(side: Side) -> Party {
    match side {
        Side::A => Party::Peggy,
        Side::B => Party::Victor,
    }
}

/// A seat held in a run.
struct Seat {
    peggy_id: String,
    ip: IpAddr,
    uuid: String,
    side: Side,
}

/// The run's clocks.
#[derive(Clone, Copy)]
struct Timeouts {
    idle: Duration,
    step: Duration,
}

/// Why a socket's part in a run ended.
enum End {
    /// This client closed, or its connection failed.
    Closed,
    /// This client was silent longer than the idle timeout.
    Silent,
    /// It was this client's turn, and the expected message (described) did not come in time.
    Stalled(String),
    /// The other side's task ended this one; the error and close frame went down this socket.
    PeerClosed,
    /// The run or this seat is gone (it expired, or the other side vanished without a word).
    Dropped,
    /// The run finished: Peggy acknowledged the verdict.
    Finished,
    /// This client broke the rules.
    Refused(String),
}

async fn serve(state: AppState, mut socket: WebSocket, ip: IpAddr, asked: Result<Asked, ApiError>) {
    let taken = match asked {
        Ok(Asked::Peggy { peggy_id, secret }) => {
            seats::seat_peggy(&state, ip, peggy_id, secret.as_deref()).await
        }
        Ok(Asked::Victor { peggy_id }) => seats::seat_victor(&state, ip, peggy_id).await,
        Err(err) => Err(err),
    };
    let (seat, mut inbox) = match taken {
        Ok(taken) => taken,
        Err(err) => {
            let _ = socket.send(text(error_message(&err))).await;
            return close(socket, close_code::POLICY, &err.message).await;
        }
    };
    let identify = &state.config.identify;
    let timeouts = Timeouts {
        idle: Duration::from_secs(identify.idle_timeout_secs),
        step: Duration::from_secs(identify.step_timeout_secs),
    };
    let end = forward(&state, &mut socket, &seat, &mut inbox, timeouts).await;
    match seat.side {
        Side::A => seats::peggy_ends(&state, socket, &seat, end, timeouts).await,
        Side::B => seats::victor_ends(&state, socket, &seat, end, timeouts).await,
    }
}

/// What became of a client's message.
enum Relayed {
    /// Checked and queued for the other side.
    Forwarded(Progress),
    /// Peggy's reply to a Victor who left: checked and dropped; she is free for the next one.
    Drained,
}

/// Copies checked text messages from this socket to the other seat's, and the other seat's to
/// this socket, until this side's part ends; pings the client and drops it when it goes silent
/// or, on its turn, stalls.
async fn forward(
    state: &AppState,
    socket: &mut WebSocket,
    seat: &Seat,
    inbox: &mut mpsc::Receiver<Out>,
    timeouts: Timeouts,
) -> End {
    let mut heard = Instant::now();
    let mut ping = tokio::time::interval((timeouts.idle / 4).max(Duration::from_millis(250)));
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        // Every change of whose turn it is comes with a message through this loop (this side's,
        // or the other's through the inbox), so reading it once per turn of the loop is enough.
        let deadline = my_deadline(state, seat);
        let stall = async move {
            match deadline {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            incoming = socket.recv() => {
                heard = Instant::now();
                match incoming {
                    Some(Ok(Message::Text(text))) => {
                        match relay(state, seat, text.as_str(), timeouts.step) {
                            Ok(Relayed::Forwarded(Progress::Continue)) => {}
                            Ok(Relayed::Forwarded(Progress::Finished)) => return End::Finished,
                            Ok(Relayed::Drained) => seats::free_for_victors(state, seat).await,
                            Err(end) => return end,
                        }
                    }
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
                if heard.elapsed() > timeouts.idle {
                    return End::Silent;
                }
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    return End::Closed;
                }
            }
            () = stall => {
                if let Some(expected) = stalled(state, seat) {
                    return End::Stalled(format!(
                        "the run waited {} s for {expected}",
                        timeouts.step.as_secs()
                    ));
                }
            }
        }
    }
}

/// When this seat's turn times out, if it is this seat's turn.
fn my_deadline(state: &AppState, seat: &Seat) -> Option<Instant> {
    let me = party(seat.side);
    state
        .identify
        .read_seat(&seat.peggy_id, seat.ip, &seat.uuid, |_, run| {
            Ok(run.due.filter(|(who, _)| *who == me).map(|(_, at)| at))
        })
        .ok()
        .flatten()
}

/// What this seat failed to send in time, if its turn is over (checked again under the lock: the
/// turn may have passed since the deadline was read).
fn stalled(state: &AppState, seat: &Seat) -> Option<String> {
    let me = party(seat.side);
    let now = Instant::now();
    state
        .identify
        .read_seat(&seat.peggy_id, seat.ip, &seat.uuid, |_, run| {
            Ok(match (&run.due, &run.pairing) {
                (Some((who, at)), Pairing::Paired(referee) | Pairing::Draining(referee))
                    if *who == me && *at <= now =>
                {
                    Some(referee.expected())
                }
                _ => None,
            })
        })
        .ok()
        .flatten()
}

/// Checks one client message and queues it for the other side (or drops Peggy's owed reply to a
/// Victor who left).
fn relay(state: &AppState, seat: &Seat, text: &str, step: Duration) -> Result<Relayed, End> {
    let from = party(seat.side);
    state
        .identify
        .with_seat(&seat.peggy_id, seat.ip, &seat.uuid, |side, run| {
            Ok(check_and_queue(run, side, from, text, step))
        })
        .unwrap_or(Err(End::Dropped))
}

fn check_and_queue(
    run: &mut IdentifyRun,
    side: Side,
    from: Party,
    text: &str,
    step: Duration,
) -> Result<Relayed, End> {
    let refused =
        |e: crate::protocol::identify::ProtocolError| End::Refused(e.message().to_owned());
    let IdentifyRun {
        outboxes,
        pairing,
        due,
    } = run;
    match pairing {
        Pairing::Draining(referee) if from == Party::Peggy => {
            referee.check(from, text).map_err(refused)?;
            *pairing = Pairing::Waiting;
            *due = None;
            Ok(Relayed::Drained)
        }
        Pairing::Paired(referee) => {
            let peer = outboxes.get(side.other()).as_ref().ok_or(End::Dropped)?;
            // The slot first: a message the referee passed is always delivered, so its view of
            // what the other side has received stays true.
            let permit = match peer.try_reserve() {
                Ok(permit) => permit,
                Err(TrySendError::Full(())) => {
                    return Err(End::Refused(
                        "too many messages ahead of the other side".into(),
                    ));
                }
                Err(TrySendError::Closed(())) => return Err(End::Dropped),
            };
            let progress = referee.check(from, text).map_err(refused)?;
            permit.send(Out::Text(text.to_owned()));
            *due = referee.expecting().map(|who| (who, Instant::now() + step));
            Ok(Relayed::Forwarded(progress))
        }
        _ => Err(End::Refused(
            "no Victor has joined yet; nothing was sent".into(),
        )),
    }
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

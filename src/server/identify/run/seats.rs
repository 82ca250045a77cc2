//! Taking and leaving the seats of a run.
//!
//! - [`seat_peggy`]: only with her seat secret; a missing or wrong one is refused exactly like an
//!   unknown id, before anything touches her run.
//! - [`seat_victor`]: one Victor at a time; the store's busy flag is the gate.
//! - [`peggy_ends`]: whatever ends Peggy's socket ends the run and erases her.
//! - [`victor_ends`]: a Victor's seat ending before the verdict frees only that seat; Peggy is
//!   told `unpaired` and is offered to Victors again (after her owed reply, if any).

use super::{
    super::secret,
    End, IdentifyRun, OUTBOX, Out, Pairing, Seat, Timeouts, busy, no_such_peggy,
    socket::{FINISHED, Farewell, close_code, error_json},
};
use crate::{
    api::{ApiError, ErrorCode},
    protocol::{
        ffs::PublicKey,
        identify::{Message as Wire, Party, PeggyCard, Referee},
    },
    server::{
        AppState,
        channels::{ChannelError, Side},
    },
};
use axum::extract::ws::WebSocket;
use std::{
    net::IpAddr,
    time::{Duration, Instant},
};
use tokio::sync::mpsc::{self, error::TrySendError};

/// Seats a registered Peggy (once), with her secret, in the run named by her id.
pub(super) async fn seat_peggy(
    state: &AppState,
    ip: IpAddr,
    peggy_id: String,
    given: Option<&str>,
) -> Result<(Seat, mpsc::Receiver<Out>), ApiError> {
    let stored = state.store.peggy_secret_sha256(&peggy_id).await?;
    if !secret::opens(given, stored.as_deref()) {
        if stored.is_some() {
            tracing::info!(%peggy_id, "identify: Peggy seat refused: missing or wrong secret");
        }
        return Err(no_such_peggy());
    }
    // Her rows belong to the instance that holds her socket, whichever registered her (before
    // her run exists: a Victor who finds it finds her outbox in it too).
    if !state.store.claim_peggy(&peggy_id).await? {
        return Err(no_such_peggy());
    }
    let opened = state
        .identify
        .create(ip, Some(&peggy_id), Side::A, String::new)
        .map_err(|e| match e {
            ChannelError::NameTaken => {
                ApiError::new(ErrorCode::Conflict, "this Peggy is already connected")
            }
            other => other.into(),
        })?;
    let (outbox, inbox) = mpsc::channel(OUTBOX);
    state
        .identify
        .with_seat(&peggy_id, ip, &opened.uuid, |side, run| {
            *run.outboxes.get_mut(side) = Some(outbox);
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

/// Seats a Victor with a connected, free Peggy and tells both they are paired.
pub(super) async fn seat_victor(
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
    let (outbox, inbox) = mpsc::channel(OUTBOX);
    let paired = Wire::Paired {
        peggy: Some(PeggyCard {
            peggy_id: peggy.id.clone(),
            name: peggy.name.clone(),
            bits: peggy.bits,
            k: peggy.k,
        }),
        public_key: Some(public_key.clone()),
    };
    outbox
        .try_send(Out::Text(paired.to_json()))
        .map_err(|_| ApiError::internal())?;
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
            return Err(match e {
                ChannelError::SeatTaken => busy(),
                ChannelError::NotYours => ApiError::new(
                    ErrorCode::NotFound,
                    "this Peggy is not waiting for you: she left, or another Victor has her",
                ),
                other => other.into(),
            });
        }
    };
    let step = Duration::from_secs(state.config.identify.step_timeout_secs);
    let paired = state
        .identify
        .with_seat(&peggy_id, ip, &opened.uuid, |_, run| {
            Ok(pair(run, outbox, &public_key, step))
        })
        .and_then(|paired| paired);
    if let Err(e) = paired {
        // Nothing of this pairing happened: give the seat back; she stays as she was.
        let _ = state.identify.vacate(&peggy_id, ip, &opened.uuid);
        let _ = store.set_peggy_busy(&peggy_id, false).await;
        return Err(e);
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

/// Under the run's lock: tells Peggy she is paired and starts the pairing's referee and clock.
fn pair(
    run: &mut IdentifyRun,
    outbox: mpsc::Sender<Out>,
    public_key: &PublicKey,
    step: Duration,
) -> Result<(), ApiError> {
    if !matches!(run.pairing, Pairing::Waiting) {
        return Err(busy());
    }
    let just_left = || ApiError::new(ErrorCode::NotFound, "this Peggy just left");
    let peggy = run.outboxes.get(Side::A).as_ref().ok_or_else(just_left)?;
    let told = Wire::Paired {
        peggy: None,
        public_key: None,
    };
    match peggy.try_send(Out::Text(told.to_json())) {
        Ok(()) => {}
        Err(TrySendError::Full(_)) => {
            return Err(ApiError::new(
                ErrorCode::Unavailable,
                "this Peggy is not keeping up with her messages; try again shortly",
            ));
        }
        Err(TrySendError::Closed(_)) => return Err(just_left()),
    }
    *run.outboxes.get_mut(Side::B) = Some(outbox);
    run.pairing = Pairing::Paired(Box::new(Referee::new(public_key)));
    run.due = Some((Party::Victor, Instant::now() + step));
    Ok(())
}

/// The messages that tell the other side the run ended: an `error`, then a close.
fn ended(kind: &str, code: u16, why: &str) -> Vec<Out> {
    vec![
        Out::Text(error_json(kind, why)),
        Out::Close(code, why.to_owned()),
    ]
}

/// Peggy's socket ended: the run ends with it, her Victor (if any) is told why, and she is erased.
pub(super) async fn peggy_ends(
    state: &AppState,
    socket: WebSocket,
    seat: &Seat,
    end: End,
    timeouts: Timeouts,
) {
    use close_code::{AWAY, NORMAL, POLICY};
    let (to_victor, to_self) = match end {
        End::Finished => (
            vec![Out::Close(NORMAL, FINISHED.into())],
            Some(Farewell {
                error: None,
                code: NORMAL,
                reason: FINISHED.into(),
            }),
        ),
        End::Closed => (ended("peer_left", AWAY, "Peggy left the run"), None),
        End::Silent => {
            let why = format!("Peggy went silent for {} s", timeouts.idle.as_secs());
            (
                ended("peer_left", AWAY, &why),
                Some(Farewell::error("timeout", AWAY, &why)),
            )
        }
        End::Stalled(what) => {
            let why = format!("Peggy stalled: {what}");
            (
                ended("timeout", POLICY, &why),
                Some(Farewell::error("timeout", POLICY, &why)),
            )
        }
        End::Refused(what) => {
            let why = format!("Peggy broke the protocol: {what}");
            (
                ended("protocol", POLICY, &why),
                Some(Farewell::error("protocol", POLICY, &why)),
            )
        }
        End::PeerClosed => (Vec::new(), None),
        End::Dropped => (
            Vec::new(),
            Some(Farewell::error("peer_left", AWAY, "the run expired")),
        ),
    };
    let victor = state
        .identify
        .read_seat(&seat.peggy_id, seat.ip, &seat.uuid, |_, run| {
            Ok(run.outboxes.get(Side::B).clone())
        })
        .ok()
        .flatten();
    if let Some(victor) = victor {
        for out in to_victor {
            let _ = victor.try_send(out);
        }
    }
    erase(state, seat).await;
    if let Some(farewell) = to_self {
        farewell.send(socket).await;
    }
}

/// Ends the run: the channel goes (the other socket ends) and so do the Peggy's rows.
async fn erase(state: &AppState, seat: &Seat) {
    state.identify.remove(&seat.peggy_id);
    match state.store.delete_peggy(&seat.peggy_id).await {
        Ok(_) => tracing::info!(peggy_id = %seat.peggy_id, "identify: run ended, Peggy erased"),
        Err(e) => {
            tracing::error!(error = %e, peggy_id = %seat.peggy_id, "identify: cannot delete the Peggy");
        }
    }
}

/// A Victor's socket ended: before the verdict only his seat goes and Peggy waits for the next.
pub(super) async fn victor_ends(
    state: &AppState,
    socket: WebSocket,
    seat: &Seat,
    end: End,
    timeouts: Timeouts,
) {
    use close_code::{AWAY, POLICY};
    let (why, to_self) = match end {
        End::Closed => ("Victor left the run".to_owned(), None),
        End::Silent => {
            let why = format!("Victor went silent for {} s", timeouts.idle.as_secs());
            let to_self = Some(Farewell::error("timeout", AWAY, &why));
            (why, to_self)
        }
        End::Stalled(what) => {
            let why = format!("Victor stalled: {what}");
            let to_self = Some(Farewell::error("timeout", POLICY, &why));
            (why, to_self)
        }
        End::Refused(what) => {
            let why = format!("Victor broke the protocol: {what}");
            let to_self = Some(Farewell::error("protocol", POLICY, &why));
            (why, to_self)
        }
        // Peggy's side ended the run (and told him), or the run is gone.
        End::PeerClosed | End::Finished => return,
        End::Dropped => {
            let why = "Peggy left the run, or it expired";
            Farewell::error("peer_left", AWAY, why).send(socket).await;
            return;
        }
    };
    unpair(state, seat, &why).await;
    if let Some(farewell) = to_self {
        farewell.send(socket).await;
    }
}

/// What is left of a run when its Victor's seat goes.
enum Left {
    /// Peggy is free for the next Victor.
    Free,
    /// Peggy owes a reply to his last message; she is free once it came.
    Draining,
    /// The verdict had reached her: her run is over.
    Finished,
    /// The run is gone already.
    Gone,
}

/// Frees the Victor's seat, tells Peggy `unpaired` (saying `why`), and offers her to Victors
/// again — or, if the verdict had reached her, closes her run as finished.
async fn unpair(state: &AppState, seat: &Seat, why: &str) {
    let left = state
        .identify
        .with_seat(&seat.peggy_id, seat.ip, &seat.uuid, |_, run| {
            Ok(unpair_run(run, why))
        })
        .unwrap_or(Left::Gone);
    let _ = state.identify.vacate(&seat.peggy_id, seat.ip, &seat.uuid);
    let peggy_id = &seat.peggy_id;
    match left {
        Left::Free => {
            tracing::info!(%peggy_id, %why, "identify: Victor left; Peggy waits for another");
            free_for_victors(state, seat).await;
        }
        Left::Draining => {
            tracing::info!(%peggy_id, %why, "identify: Victor left; Peggy owes him a reply");
        }
        Left::Finished => {
            tracing::info!(%peggy_id, "identify: Victor left after the verdict; run finished");
        }
        Left::Gone => {}
    }
}

fn unpair_run(run: &mut IdentifyRun, why: &str) -> Left {
    *run.outboxes.get_mut(Side::B) = None;
    let peggy = run.outboxes.get(Side::A).clone();
    match std::mem::take(&mut run.pairing) {
        Pairing::Paired(referee) if referee.verdict_sent() => {
            run.due = None;
            if let Some(peggy) = peggy {
                let _ = peggy.try_send(Out::Close(close_code::NORMAL, FINISHED.into()));
            }
            Left::Finished
        }
        Pairing::Paired(referee) => {
            if let Some(peggy) = peggy {
                let unpaired = Wire::Unpaired {
                    message: why.to_owned(),
                };
                let _ = peggy.try_send(Out::Text(unpaired.to_json()));
            }
            if referee.expecting() == Some(Party::Peggy) {
                // Her reply is still due by the same deadline.
                run.pairing = Pairing::Draining(referee);
                Left::Draining
            } else {
                run.due = None;
                Left::Free
            }
        }
        Pairing::Draining(referee) => {
            run.pairing = Pairing::Draining(referee);
            Left::Draining
        }
        Pairing::Waiting => Left::Free,
    }
}

/// Marks the Peggy waiting again, so the next Victor can claim her.
pub(super) async fn free_for_victors(state: &AppState, seat: &Seat) {
    if let Err(e) = state.store.set_peggy_busy(&seat.peggy_id, false).await {
        tracing::error!(error = %e, peggy_id = %seat.peggy_id, "identify: cannot free the Peggy");
    }
}

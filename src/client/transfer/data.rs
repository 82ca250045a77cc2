//! The data connection of a transfer (a WebSocket to the relay) as a stream of events and
//! frames, and the progress throttle both directions use.

use super::{IN_FLIGHT, Result};
use crate::{
    api::relay::Seat,
    client::{
        Socket, SocketEvent,
        webcrypto::{Backend, FrameOpener, FrameSealer, OpenedFrame},
    },
    protocol::relay::{Direction, FrameReader, SharedKey, data_hello},
};
use futures::{StreamExt, channel::mpsc};
use js_sys::Uint8Array;
use std::collections::VecDeque;

/// Progress is reported about this many times per transfer.
const PROGRESS_STEPS: u64 = 200;

/// The sealer of this side's direction `mine` and the opener of the other, on the best backend.
pub(super) async fn directions(
    key: &SharedKey,
    channel: &str,
    mine: Direction,
) -> Result<(FrameSealer, FrameOpener)> {
    let theirs = match mine {
        Direction::SenderToRecipient => Direction::RecipientToSender,
        Direction::RecipientToSender => Direction::SenderToRecipient,
    };
    let backend = Backend::best();
    let sealer = FrameSealer::new(&key.data_key(channel, mine), backend).await?;
    let opener = FrameOpener::new(&key.data_key(channel, theirs), backend).await?;
    Ok((sealer, opener))
}

/// The data connection as a stream of events.
pub(super) struct Data {
    pub(super) socket: Socket,
    events: mpsc::UnboundedReceiver<SocketEvent>,
    frames: FrameReader,
}

impl Data {
    pub(super) async fn open(seat: &Seat, h_k: &str) -> Result<Self> {
        let (tx, events) = mpsc::unbounded();
        let socket = Socket::connect(&format!("/ws/data/{}", seat.channel), move |_, event| {
            let _ = tx.unbounded_send(event);
        })?;
        let mut data = Self {
            socket,
            events,
            frames: FrameReader::new(),
        };
        match data.next().await? {
            SocketEvent::Open => {}
            other => return Err(format!("the data connection failed: {other:?}").into()),
        }
        data.socket
            .link()
            .send_text(&data_hello(&seat.channel, &seat.uuid, h_k))?;
        match data.next().await? {
            SocketEvent::Text(t) if t == "ok" => Ok(data),
            SocketEvent::Text(t) => {
                Err(format!("the relay refused the data connection: {t}").into())
            }
            _ => Err("the data connection closed before the other side came".into()),
        }
    }

    pub(super) async fn next(&mut self) -> Result<SocketEvent> {
        self.events
            .next()
            .await
            .ok_or_else(|| "the data connection ended".into())
    }

    /// Takes in one socket event; false once the connection has closed.
    pub(super) fn take(&mut self, event: SocketEvent) -> bool {
        match event {
            SocketEvent::Binary(bytes) => {
                self.frames.push(&bytes);
                true
            }
            SocketEvent::Closed { .. } => false,
            _ => true,
        }
    }

    /// Starts opening frames that have arrived, keeping at most [`IN_FLIGHT`] open at once and
    /// taking in socket messages only as frames are needed (so a sender that sends more than it
    /// announced is caught before much of it is held). False once the connection has closed.
    pub(super) fn open_arrived(
        &mut self,
        opener: &mut FrameOpener,
        pending: &mut VecDeque<OpenedFrame>,
    ) -> Result<bool> {
        let mut open = true;
        while pending.len() < IN_FLIGHT {
            if let Some(frame) = self.frames.next_frame().map_err(|e| e.to_string())? {
                pending.push_back(opener.open(frame)?);
                continue;
            }
            match self.events.try_recv() {
                Ok(event) => open &= self.take(event),
                Err(_) => break,
            }
        }
        Ok(open)
    }

    /// The next frame, opened; an error if the connection closes first.
    pub(super) async fn next_opened(
        &mut self,
        opener: &mut FrameOpener,
    ) -> Result<(Uint8Array, bool)> {
        loop {
            if let Some(frame) = self.frames.next_frame().map_err(|e| e.to_string())? {
                return Ok(opener.open(frame)?.plaintext().await?);
            }
            let event = self.next().await?;
            if !self.take(event) {
                opener.finish()?;
                return Err("the transfer ended early".into());
            }
        }
    }

    /// Seals one frame and sends it at once (the small messages: answers, acknowledgements).
    pub(super) async fn send_sealed(
        &self,
        sealer: &mut FrameSealer,
        plaintext: &[u8],
        last: bool,
    ) -> Result<()> {
        let frame = sealer
            .seal(&Uint8Array::from(plaintext), last)?
            .bytes()
            .await?;
        Ok(self.socket.link().send_js(&frame)?)
    }
}

/// Calls `report` about [`PROGRESS_STEPS`] times over a transfer, and at its end.
pub(super) struct Throttle {
    total: u64,
    next: u64,
}

impl Throttle {
    pub(super) fn new(total: u64) -> Self {
        Self { total, next: 0 }
    }

    pub(super) fn update(&mut self, done: u64, report: &impl Fn(u64, u64)) {
        if done >= self.next || done >= self.total {
            report(done, self.total);
            self.next = done + (self.total / PROGRESS_STEPS).max(1);
        }
    }
}

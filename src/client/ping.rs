//! The relay check: one `ping` over `/ws/ping`, timed.

use super::{Socket, SocketEvent, now_ms};
use crate::{components::relay_check::CheckResult, protocol::ping::PingMessage};
use std::cell::Cell;

/// Connects, sends one ping, and calls `done` once with the round trip or the failure.
pub fn start(done: impl Fn(CheckResult) + 'static) -> Result<Socket, String> {
    let nonce = (js_sys::Math::random() * 1e15) as u64;
    let sent_at = Cell::new(0.0);
    let finished = Cell::new(false);
    Socket::connect("/ws/ping", move |link, event| {
        if finished.get() {
            return;
        }
        match event {
            SocketEvent::Open => {
                sent_at.set(now_ms());
                if let Err(e) = link.send_text(&PingMessage::Ping { nonce }.encode()) {
                    finished.set(true);
                    done(CheckResult::Failed(e));
                }
            }
            SocketEvent::Text(text) => {
                if PingMessage::decode(&text) == Some(PingMessage::Pong { nonce }) {
                    finished.set(true);
                    done(CheckResult::RoundTrip {
                        millis: now_ms() - sent_at.get(),
                    });
                    link.close();
                }
            }
            SocketEvent::Binary(_) => {}
            SocketEvent::Closed { code, reason } => {
                finished.set(true);
                done(CheckResult::Failed(format!("closed ({code}) {reason}")));
            }
        }
    })
}

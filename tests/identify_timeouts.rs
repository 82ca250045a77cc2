//! Stuck runs against a real server (a step timeout of 2 s): a client that stays alive — it
//! pings, and answers the server's pings — but does not send what the run expects loses its part,
//! with a clear error on both sides, within the timeout. A stalled Victor frees Peggy for the next
//! one, who identifies her; a stalled Peggy is erased.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

mod common;

use common::identify::*;
use futures::{SinkExt, StreamExt};
use serde_json::Value;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::{Message, protocol::CloseFrame};
use zkrelay::{
    protocol::identify::{Message as Wire, PeggyRun},
    rng::os_rng,
};

/// Reads `ws` until it closes, sending a ping every 300 ms meanwhile (and answering the
/// server's): a client that is alive but does nothing. The `error` before the close, the close
/// and when it came.
async fn ping_until_closed(ws: &mut Ws) -> (Value, CloseFrame, Instant) {
    let mut error = None;
    let mut tick = tokio::time::interval(Duration::from_millis(300));
    loop {
        tokio::select! {
            msg = tokio::time::timeout(Duration::from_secs(10), ws.next()) => {
                match msg.expect("no close within 10 s") {
                    Some(Ok(Message::Close(Some(frame)))) => {
                        let error = error.expect("no error before the close");
                        return (error, frame, Instant::now());
                    }
                    Some(Ok(Message::Text(text))) => {
                        error = Some(serde_json::from_str::<Value>(&text).unwrap());
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                    other => panic!("expected a close frame, got {other:?}"),
                }
            }
            _ = tick.tick() => ws.send(Message::Ping(Default::default())).await.unwrap(),
        }
    }
}

/// Reads Peggy's `unpaired`, sending pings meanwhile; its message and when it came.
async fn ping_until_unpaired(ws: &mut Ws) -> (String, Instant) {
    let mut tick = tokio::time::interval(Duration::from_millis(300));
    loop {
        tokio::select! {
            msg = tokio::time::timeout(Duration::from_secs(10), ws.next()) => {
                match msg.expect("no message within 10 s") {
                    Some(Ok(Message::Text(text))) => {
                        match Wire::parse(&text, usize::MAX).unwrap() {
                            Wire::Unpaired { message } => return (message, Instant::now()),
                            other => panic!("expected unpaired, got {other:?}"),
                        }
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                    other => panic!("expected unpaired, got {other:?}"),
                }
            }
            _ = tick.tick() => ws.send(Message::Ping(Default::default())).await.unwrap(),
        }
    }
}

/// Asserts a step timeout: code `timeout`, close 1008, `says` in the message, within `step` (and
/// a little) of `since`, not before.
fn timed_out(end: &(Value, CloseFrame, Instant), says: &str, since: Instant, step: Duration) {
    let (error, frame, at) = end;
    assert_eq!(error["type"], "error", "{error}");
    assert_eq!(error["code"], "timeout", "{error}");
    assert_eq!(error["message"], says, "{error}");
    assert_eq!(u16::from(frame.code), 1008, "{frame:?}");
    let waited = at.duration_since(since);
    assert!(
        waited >= step - Duration::from_millis(100),
        "after {waited:?}"
    );
    assert!(waited < step + Duration::from_secs(2), "after {waited:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stuck_runs_end_on_the_step_timeout_blaming_whose_turn_it_was() {
    let step = Duration::from_secs(2);
    let server = start(60, |c| c.identify.step_timeout_secs = 2).await;
    let mut rng = os_rng();

    // A Victor who pings but never sends his challenge: he loses his seat, Peggy waits again.
    let (peggy, mut p, mut v) = paired(&server).await;
    let mut prover = PeggyRun::new(&peggy.key);
    send_text(&mut v, r#"{"type":"start","rounds":2}"#).await;
    let start = next_wire(&mut p).await;
    for m in prover.handle(&mut rng, start).unwrap().send {
        send_text(&mut p, &m.to_json()).await;
    }
    next_text(&mut v).await; // her commitment
    let since = Instant::now();
    let says = "Victor stalled: the run waited 2 s for Victor's challenge for round 1";
    let (victor_end, (told, at)) =
        tokio::join!(ping_until_closed(&mut v), ping_until_unpaired(&mut p));
    timed_out(&victor_end, says, since, step);
    assert_eq!(told, says);
    assert!(at.duration_since(since) < step + Duration::from_secs(2));
    prover
        .handle(&mut rng, Wire::Unpaired { message: told })
        .unwrap();
    free_again(&server, &peggy.id).await;
    let (v, key) = pair(&server, &peggy.id, &mut p, 4).await;
    honest_run(&server, &peggy, &mut prover, &mut p, v, key, 2).await;

    // A Victor who pairs and never starts: the same.
    let (peggy, mut p, mut v) = paired(&server).await;
    let since = Instant::now();
    let says = "Victor stalled: the run waited 2 s for Victor's start";
    let (victor_end, (told, _)) =
        tokio::join!(ping_until_closed(&mut v), ping_until_unpaired(&mut p));
    timed_out(&victor_end, says, since, step);
    assert_eq!(told, says);
    free_again(&server, &peggy.id).await;
    drop(p);
    gone(&server, &peggy).await;

    // A Peggy who pings but never commits: both get the error, and she is erased.
    let (peggy, mut p, mut v) = paired(&server).await;
    send_text(&mut v, r#"{"type":"start","rounds":2}"#).await;
    next_text(&mut p).await;
    let since = Instant::now();
    let says = "Peggy stalled: the run waited 2 s for Peggy's commitment for round 1";
    let (peggy_end, victor_end) =
        tokio::join!(ping_until_closed(&mut p), ping_until_closed(&mut v));
    timed_out(&peggy_end, says, since, step);
    timed_out(&victor_end, says, since, step);
    gone(&server, &peggy).await;

    // A Peggy who owes a reply to a Victor who left, and never sends it: erased too.
    let (peggy, mut p, mut v) = paired(&server).await;
    send_text(&mut v, r#"{"type":"start","rounds":2}"#).await;
    let since = Instant::now();
    next_text(&mut p).await;
    drop(v);
    unpaired(&mut p, "Victor left the run").await;
    let peggy_end = ping_until_closed(&mut p).await;
    timed_out(&peggy_end, says, since, step);
    gone(&server, &peggy).await;
    assert!(listed(&server).await.is_empty());
    server.stop().await.unwrap();
}

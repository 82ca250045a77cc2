//! Part 2: Victor's challenge → Peggy's response through zkrelay and through the minimal
//! forwarder, alternating blocks.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};
use zkrelay::{
    cli::identify::{next, send},
    protocol::{
        ffs::{PublicKey, SecretKey},
        identify::{Message as Wire, Party, PeggyRun, Referee, VictorRun},
    },
    rng::os_rng,
};

use crate::{Result, Ws, client::*, forwarder::*, report::*};

/// What Victor timed in the relayed runs.
#[derive(Default)]
pub(crate) struct Timed {
    /// Challenge sent → response received, every round.
    rtt: Vec<Duration>,
    /// Commitment received → the next round's commitment received (a whole round: challenge,
    /// response, Victor's check, result, Peggy's next commitment).
    round: Vec<Duration>,
}

/// Victor's side of a whole run, timing every round.
pub(crate) async fn run_victor_timed(
    ws: &mut Ws,
    public: PublicKey,
    rounds: u32,
    timed: &mut Timed,
) -> Result<bool> {
    let (mut run, start) = VictorRun::new(public, rounds).map_err(|e| e.to_string())?;
    send(ws, &start).await?;
    let mut rng = os_rng();
    let mut challenged: Option<Instant> = None;
    let mut committed: Option<Instant> = None;
    loop {
        let message = next(ws).await?;
        let now = Instant::now();
        match message {
            Wire::Response { .. } => {
                if let Some(at) = challenged.take() {
                    timed.rtt.push(now - at);
                }
            }
            Wire::Commit { .. } => {
                if let Some(at) = committed.replace(now) {
                    timed.round.push(now - at);
                }
            }
            _ => {}
        }
        let acked = matches!(message, Wire::Ack);
        let step = run.handle(message).map_err(|e| format!("Victor: {e}"))?;
        for message in &step.send {
            send(ws, message).await?;
        }
        if run.awaiting_challenge() {
            let (_, message) = run.challenge(&mut rng).map_err(|e| e.to_string())?;
            challenged = Some(Instant::now());
            send(ws, &message).await?;
        }
        if acked {
            return Ok(run.verdict().is_some_and(|v| v.accepted));
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Via {
    Zkrelay,
    Forwarder,
}

/// Where the relayed runs go.
pub(crate) struct Targets<'a> {
    /// zkrelay's address and base URL, and a client for its server functions.
    server: SocketAddr,
    base: &'a str,
    http: &'a reqwest::Client,
    forwarder: SocketAddr,
}

/// One run of `rounds` rounds through `via`; what Victor timed goes into `timed`.
pub(crate) async fn relayed_run(
    via: Via,
    targets: &Targets<'_>,
    k: usize,
    rounds: u32,
    timed: &mut Timed,
) -> Result<()> {
    let Targets {
        server,
        base,
        http,
        forwarder,
    } = *targets;
    let peggy_ip = address(0, 3);
    let victor_ip = address(0, 4);
    let (peggy_ws, mut victor_ws, key, public) = match via {
        Via::Zkrelay => {
            let (seat, key) = register(http, base, "bench-relay", k).await?;
            let peggy_ws = connect(server, peggy_ip, &format!("/ws/identify/peggy?{seat}")).await?;
            let id = peggy_id_of(&seat);
            let (victor_ws, public) = victor_paired(server, victor_ip, id).await?;
            (peggy_ws, victor_ws, key, public)
        }
        Via::Forwarder => {
            let (_, key) = register(http, base, "bench-forwarder", k).await?;
            let public = key.public_key().clone();
            let peggy_ws = connect(forwarder, peggy_ip, "/").await?;
            let victor_ws = connect(forwarder, victor_ip, "/").await?;
            (peggy_ws, victor_ws, key, public)
        }
    };
    let peggy = tokio::spawn(run_peggy(peggy_ws, key));
    let accepted = run_victor_timed(&mut victor_ws, public, rounds, timed).await?;
    hang_up(victor_ws).await;
    peggy.await.map_err(|e| e.to_string())??;
    if accepted {
        Ok(())
    } else {
        Err("the verdict was not accepted".into())
    }
}

/// `zkrelay-load relay`.
#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    server: Server,
    /// Rounds per block.
    #[arg(long, default_value_t = 500)]
    rounds: u32,
    /// Blocks, alternating zkrelay and the forwarder.
    #[arg(long, default_value_t = 4)]
    blocks: usize,
    /// Peggy's k.
    #[arg(long, default_value_t = 20)]
    k: usize,
}

pub(crate) async fn relay(args: Args) -> Result<()> {
    let (base, server) = args.server.parse()?;
    let Args {
        rounds, blocks, k, ..
    } = args;
    let (mut child, forwarder) = start_forwarder()?;
    let http = reqwest::Client::new();
    let targets = Targets {
        server,
        base: &base,
        http: &http,
        forwarder,
    };
    let mut zk = Timed::default();
    let mut fw = Timed::default();
    let mut errors = Vec::new();
    for block in 0..blocks {
        let order = if block % 2 == 0 {
            [Via::Zkrelay, Via::Forwarder]
        } else {
            [Via::Forwarder, Via::Zkrelay]
        };
        for via in order {
            let timed = if via == Via::Zkrelay {
                &mut zk
            } else {
                &mut fw
            };
            let before = timed.rtt.len();
            let result = relayed_run(via, &targets, k, rounds, timed).await;
            let name = if via == Via::Zkrelay {
                "zkrelay"
            } else {
                "forwarder"
            };
            eprintln!(
                "relay block {}: {name}: {} rounds{}",
                block + 1,
                timed.rtt.len() - before,
                result
                    .as_ref()
                    .err()
                    .map_or_else(String::new, |e| format!(", FAILED: {e}"))
            );
            if let Err(e) = result {
                errors.push(format!("{name}: {e}"));
            }
        }
    }
    drop(child.stdin.take());
    let _ = child.wait();
    for timed in [&mut zk, &mut fw] {
        timed.rtt.sort();
        timed.round.sort();
    }
    let figures = |s: &[Duration]| {
        format!(
            "p50 **{}**, p99 {}, mean {}, max {} ({} rounds)",
            ms(percentile(s, 50.0)),
            ms(percentile(s, 99.0)),
            ms(mean(s)),
            ms(percentile(s, 100.0)),
            s.len()
        )
    };
    let ratio = |a: Duration, b: Duration| {
        if b.is_zero() {
            f64::NAN
        } else {
            a.as_secs_f64() / b.as_secs_f64()
        }
    };
    table_head(&format!(
        "2. Relayed round trip through zkrelay vs a minimal axum forwarder \
         ({blocks} blocks × {rounds}-round runs each way, alternating; k = {k})"
    ));
    row(
        "challenge sent → response received, through zkrelay (referee checks every message)",
        figures(&zk.rtt),
    );
    row(
        "challenge sent → response received, through the minimal forwarder",
        figures(&fw.rtt),
    );
    row(
        "**p50(zkrelay) / p50(forwarder)** (goal ≤ 1.2)",
        format!(
            "**{:.2}**",
            ratio(percentile(&zk.rtt, 50.0), percentile(&fw.rtt, 50.0))
        ),
    );
    row(
        "p99(zkrelay) / p99(forwarder)",
        format!(
            "{:.2}",
            ratio(percentile(&zk.rtt, 99.0), percentile(&fw.rtt, 99.0))
        ),
    );
    row(
        "whole round (commitment → next commitment at Victor), through zkrelay",
        figures(&zk.round),
    );
    row(
        "whole round, through the minimal forwarder",
        figures(&fw.round),
    );
    let (_, key) = register(&http, &base, "bench-referee", k).await?;
    let costs = referee_costs(&key, rounds)?;
    row(
        "the referee's check alone, in this process (mean per message, one run of the same \
         length): commit / challenge / response / result",
        costs
            .iter()
            .map(|d| format!("{:.1} µs", d.as_secs_f64() * 1e6))
            .collect::<Vec<_>>()
            .join(" / "),
    );
    row(
        "runs failed",
        if errors.is_empty() {
            "0".to_owned()
        } else {
            errors.join("; ")
        },
    );
    Ok(())
}

/// What [`Referee::check`] costs per message kind (commit, challenge, response, result), on the
/// messages of a real run of `rounds` rounds made by the pure state machines, averaged over a
/// few passes.
pub(crate) fn referee_costs(key: &SecretKey, rounds: u32) -> Result<[Duration; 4]> {
    let public = key.public_key().clone();
    let mut rng = os_rng();
    let mut peggy = PeggyRun::new(key);
    let (mut victor, start) = VictorRun::new(public.clone(), rounds).map_err(|e| e.to_string())?;
    let mut script = vec![(Party::Victor, start)];
    let mut to_peggy = vec![script[0].1.clone()];
    while let Some(message) = to_peggy.pop() {
        let step = peggy.handle(&mut rng, message).map_err(|e| e.to_string())?;
        for sent in step.send {
            script.push((Party::Peggy, sent.clone()));
            let step = victor.handle(sent).map_err(|e| e.to_string())?;
            let mut replies = step.send;
            if victor.awaiting_challenge() {
                replies.push(victor.challenge(&mut rng).map_err(|e| e.to_string())?.1);
            }
            for reply in replies {
                script.push((Party::Victor, reply.clone()));
                to_peggy.insert(0, reply);
            }
        }
    }
    let script: Vec<(Party, String, usize)> = script
        .into_iter()
        .map(|(party, m)| {
            let kind = match m {
                Wire::Commit { .. } => 0,
                Wire::Challenge { .. } => 1,
                Wire::Response { .. } => 2,
                Wire::Result { .. } => 3,
                _ => 4,
            };
            (party, m.to_json(), kind)
        })
        .collect();
    let mut total = [Duration::ZERO; 5];
    let mut count = [0u32; 5];
    for _ in 0..5 {
        let mut referee = Referee::new(&public);
        for (party, text, kind) in &script {
            let at = Instant::now();
            let checked = referee.check(*party, text);
            total[*kind] += at.elapsed();
            count[*kind] += 1;
            checked.map_err(|e| format!("the referee refused a real run: {e}"))?;
        }
        if !referee.is_done() {
            return Err("the scripted run did not finish".into());
        }
    }
    Ok(std::array::from_fn(|i| total[i] / count[i].max(1)))
}

//! Part 3: N concurrent pairs, one round per second each: CLI-core Peggys and paced Victors on
//! the pure state machine.

use std::{
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};
use tokio::sync::{Semaphore, mpsc, watch};
use zkrelay::{
    cli::{
        identify::{self as cli, Seen, next, send},
        transfer::Endpoint,
    },
    protocol::identify::{Message as Wire, VictorRun},
    rng::os_rng,
};

use crate::{Result, client::*, report::*};

/// What one paced Victor measured.
#[derive(Default)]
pub(crate) struct PacedVictor {
    /// Challenge sent → response verified, every round.
    latencies: Vec<Duration>,
    /// Rounds whose commitment arrived after the round's tick (the challenge went out late).
    late: usize,
    accepted: bool,
}

/// Victor `i` of `pairs`: connects, starts a run of `rounds` rounds, then sends round r's
/// challenge at `t0 + (r − 1) s + i/pairs s` and times it until the response is verified.
pub(crate) async fn paced_victor(
    server: SocketAddr,
    peggy_id: String,
    i: usize,
    pairs: usize,
    rounds: u32,
    connected: mpsc::UnboundedSender<Result<()>>,
    mut t0: watch::Receiver<Option<Instant>>,
) -> Result<PacedVictor> {
    let (mut ws, public) = match victor_paired(server, address(2, i), &peggy_id).await {
        Ok(v) => {
            let _ = connected.send(Ok(()));
            v
        }
        Err(e) => {
            let _ = connected.send(Err(e.clone()));
            return Err(e);
        }
    };
    let (mut run, start) = VictorRun::new(public, rounds).map_err(|e| e.to_string())?;
    send(&mut ws, &start).await?;
    let t0 = loop {
        if let Some(t0) = *t0.borrow_and_update() {
            break t0;
        }
        t0.changed().await.map_err(|_| "no start time".to_owned())?;
    };
    let offset = Duration::from_secs(1) * u32::try_from(i).unwrap_or(0)
        / u32::try_from(pairs.max(1)).unwrap_or(1);
    let mut rng = os_rng();
    let mut seen = PacedVictor::default();
    loop {
        let message = next(&mut ws).await?;
        let acked = matches!(message, Wire::Ack);
        let step = run.handle(message).map_err(|e| format!("Victor: {e}"))?;
        for message in &step.send {
            send(&mut ws, message).await?;
        }
        if run.awaiting_challenge() {
            let due = t0 + Duration::from_secs(u64::from(run.round() - 1)) + offset;
            if Instant::now() > due + Duration::from_millis(1) {
                seen.late += 1;
            }
            tokio::time::sleep_until(due.into()).await;
            let (_, challenge) = run.challenge(&mut rng).map_err(|e| e.to_string())?;
            let sent = Instant::now();
            send(&mut ws, &challenge).await?;
            let response = next(&mut ws).await?;
            if !matches!(response, Wire::Response { .. }) {
                return Err(format!("expected a response, got {}", response.kind()));
            }
            let step = run.handle(response).map_err(|e| format!("Victor: {e}"))?;
            seen.latencies.push(sent.elapsed());
            for message in &step.send {
                send(&mut ws, message).await?;
            }
        }
        if acked {
            seen.accepted = run.verdict().is_some_and(|v| v.accepted);
            hang_up(ws).await;
            return Ok(seen);
        }
    }
}

/// `zkrelay-load load`.
#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    server: Server,
    /// The server's process id, for its memory, CPU time and open files (0: not measured).
    #[arg(long, default_value_t = 0)]
    server_pid: u32,
    /// Concurrent Peggy–Victor pairs.
    #[arg(long, default_value_t = 1000)]
    pairs: usize,
    /// Seconds of one round per second per pair.
    #[arg(long, default_value_t = 20)]
    seconds: u32,
    #[command(flatten)]
    setup: Setup,
}

pub(crate) async fn load(args: Args) -> Result<()> {
    let (base, server) = args.server.parse()?;
    let Args {
        server_pid: pid,
        pairs,
        seconds,
        setup: Setup {
            k,
            setup_concurrency: concurrency,
        },
        ..
    } = args;

    // Peggys: the CLI's own `peggy`, each from its own address, a few registering at a time.
    let setup = Instant::now();
    let gate = Arc::new(Semaphore::new(concurrency));
    let (waiting_tx, mut waiting_rx) = mpsc::unbounded_channel::<(usize, Result<String>)>();
    let mut peggys = Vec::with_capacity(pairs);
    for i in 0..pairs {
        let gate = Arc::clone(&gate);
        let waiting = waiting_tx.clone();
        let endpoint = Endpoint {
            server: base.clone(),
            bind: Some(address(1, i)),
        };
        peggys.push(tokio::spawn(async move {
            let Ok(permit) = gate.acquire_owned().await else {
                return Err("gate closed".to_owned());
            };
            let mut permit = Some(permit);
            let told = waiting.clone();
            let result = cli::peggy(
                &endpoint,
                &format!("load-{i}"),
                k,
                false,
                None,
                move |seen| {
                    if let Seen::Waiting { peggy_id, .. } = seen {
                        permit.take();
                        let _ = told.send((i, Ok(peggy_id)));
                    }
                },
            )
            .await;
            if let Err(e) = &result {
                let _ = waiting.send((i, Err(e.clone())));
            }
            result
        }));
    }
    drop(waiting_tx);
    let mut ids: Vec<Option<String>> = vec![None; pairs];
    let mut setup_errors = Vec::new();
    let mut answered = 0;
    while answered < pairs {
        let Some((i, result)) = waiting_rx.recv().await else {
            break;
        };
        // A Peggy answers once before her run: waiting, or failed.
        if ids[i].is_some() {
            continue;
        }
        match result {
            Ok(id) => ids[i] = Some(id),
            Err(e) => setup_errors.push(format!("Peggy {i}: {e}")),
        }
        answered += 1;
        if answered % 100 == 0 {
            eprintln!(
                "load: {answered}/{pairs} Peggys waiting ({:.0} s)",
                setup.elapsed().as_secs_f64()
            );
        }
    }
    let peggy_setup = setup.elapsed();

    // Victors: connect (a few at a time), get paired, send `start`; then all start together.
    let victor_setup = Instant::now();
    let (t0_tx, t0_rx) = watch::channel(None);
    let (connected_tx, mut connected_rx) = mpsc::unbounded_channel();
    let connect_gate = Arc::new(Semaphore::new(64));
    let mut victors = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let Some(id) = id.clone() else { continue };
        let gate = Arc::clone(&connect_gate);
        let connected = connected_tx.clone();
        let t0 = t0_rx.clone();
        victors.push(tokio::spawn(async move {
            let permit = gate.acquire_owned().await;
            let (tx, mut rx) = mpsc::unbounded_channel();
            let task = tokio::spawn(paced_victor(server, id, i, pairs, seconds, tx, t0));
            let opened = rx.recv().await.unwrap_or(Err("victor task ended".into()));
            drop(permit);
            let _ = connected.send(opened);
            task.await.map_err(|e| e.to_string())?
        }));
    }
    drop(connected_tx);
    let mut victors_connected = 0;
    let mut connect_errors = Vec::new();
    for _ in 0..victors.len() {
        let Some(opened) = connected_rx.recv().await else {
            break;
        };
        match opened {
            Ok(()) => victors_connected += 1,
            Err(e) => connect_errors.push(e),
        }
    }
    let victor_setup = victor_setup.elapsed();
    eprintln!(
        "load: {victors_connected} Victors paired in {:.1} s; rounds start in 1 s",
        victor_setup.as_secs_f64()
    );
    let cpu_before = (cpu_seconds(pid), cpu_seconds(std::process::id()));
    let started = Instant::now();
    t0_tx
        .send(Some(Instant::now() + Duration::from_secs(1)))
        .map_err(|_| "no Victor is listening".to_owned())?;

    let mut latencies = Vec::new();
    let mut late = 0;
    let mut accepted = 0;
    let mut run_errors = Vec::new();
    for victor in victors {
        match victor.await.map_err(|e| e.to_string()).and_then(|r| r) {
            Ok(v) => {
                latencies.extend(v.latencies);
                late += v.late;
                accepted += usize::from(v.accepted);
            }
            Err(e) => run_errors.push(e),
        }
    }
    let rounds_phase = started.elapsed();
    let cpu_after = (cpu_seconds(pid), cpu_seconds(std::process::id()));
    let mut peggy_errors = Vec::new();
    for peggy in peggys {
        if let Err(e) = peggy.await.map_err(|e| e.to_string()).and_then(|r| r) {
            peggy_errors.push(e);
        }
    }
    latencies.sort();
    let summary = |errors: &[String]| {
        if errors.is_empty() {
            "0".to_owned()
        } else {
            let mut distinct: Vec<&String> = errors.iter().collect();
            distinct.sort();
            distinct.dedup();
            format!(
                "{} (e.g. {})",
                errors.len(),
                distinct
                    .iter()
                    .take(3)
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        }
    };
    table_head(&format!(
        "3. {pairs} concurrent pairs, one round per second each for {seconds} s \
         (t = {seconds}, k = {k}; round i of pair p at t0 + (i − 1) s + p/{pairs} s)"
    ));
    row(
        "round latency, challenge sent → response verified (goal p99 ≤ 50 ms)",
        format!(
            "p50 **{}**, p99 **{}**, mean {}, max {} ({} rounds)",
            ms(percentile(&latencies, 50.0)),
            ms(percentile(&latencies, 99.0)),
            ms(mean(&latencies)),
            ms(percentile(&latencies, 100.0)),
            latencies.len()
        ),
    );
    row(
        "rounds expected / measured",
        format!("{} / {}", pairs * seconds as usize, latencies.len()),
    );
    row("runs accepted", format!("{accepted} of {pairs}"));
    row(
        "challenges sent late (commitment arrived after the round's tick)",
        late.to_string(),
    );
    row(
        "set-up: Peggys registered and waiting (`cli::identify::peggy`, 8 at a time)",
        format!(
            "{} in {:.1} s",
            ids.iter().flatten().count(),
            peggy_setup.as_secs_f64()
        ),
    );
    row(
        "set-up: Victors connected and paired (64 at a time)",
        format!("{victors_connected} in {:.1} s", victor_setup.as_secs_f64()),
    );
    if let ((Some(s0), Some(g0)), (Some(s1), Some(g1))) = (cpu_before, cpu_after) {
        let wall = rounds_phase.as_secs_f64();
        row(
            "CPU during the rounds (user + sys, from /proc; 2 cores = 200 %)",
            format!(
                "server {:.1} s = {:.0} %; load generator {:.1} s = {:.0} % (over {wall:.1} s)",
                s1 - s0,
                100.0 * (s1 - s0) / wall,
                g1 - g0,
                100.0 * (g1 - g0) / wall
            ),
        );
    }
    row("failures: Peggy set-up", summary(&setup_errors));
    row("failures: Victor connect", summary(&connect_errors));
    row("failures: Victor runs", summary(&run_errors));
    row("failures: Peggy runs", summary(&peggy_errors));
    Ok(())
}

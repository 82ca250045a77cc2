//! Part 4: N registered, connected, waiting Peggys; the server's VmRSS before and after.

use futures::StreamExt;
use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};
use tokio::sync::{Semaphore, mpsc};
use tokio_tungstenite::tungstenite::Message;

use crate::{Result, client::*, report::*};

/// `zkrelay-load idle`.
#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    server: Server,
    /// The server's process id, for its memory and open files.
    #[arg(long)]
    server_pid: u32,
    /// Waiting Peggys.
    #[arg(long, default_value_t = 10_000)]
    peggys: usize,
    #[command(flatten)]
    setup: Setup,
}

pub(crate) async fn idle(args: Args) -> Result<()> {
    let (base, server) = args.server.parse()?;
    let Args {
        server_pid: pid,
        peggys,
        setup: Setup {
            k,
            setup_concurrency: concurrency,
        },
        ..
    } = args;
    if pid == 0 {
        return Err("--server-pid is required".into());
    }
    let rss_before = proc_status(pid, "VmRSS").ok_or("cannot read the server's VmRSS")?;
    let fds_before = open_fds(pid).unwrap_or(0);
    let threads_before = proc_status(pid, "Threads").unwrap_or(0);

    let started = Instant::now();
    let gate = Arc::new(Semaphore::new(concurrency));
    let connected = Arc::new(AtomicUsize::new(0));
    let dropped = Arc::new(AtomicUsize::new(0));
    let clients: Vec<reqwest::Client> = (0..concurrency).map(|_| reqwest::Client::new()).collect();
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Result<()>>();
    let mut holders = Vec::with_capacity(peggys);
    for i in 0..peggys {
        let gate = Arc::clone(&gate);
        let http = clients[i % clients.len()].clone();
        let base = base.clone();
        let done = done_tx.clone();
        let connected = Arc::clone(&connected);
        let dropped = Arc::clone(&dropped);
        holders.push(tokio::spawn(async move {
            let opened = async {
                let _permit = gate.acquire_owned().await.map_err(|e| e.to_string())?;
                let (seat, key) = register(&http, &base, &format!("idle-{i}"), k).await?;
                let ws =
                    connect(server, address(3, i), &format!("/ws/identify/peggy?{seat}")).await?;
                Ok::<_, String>((ws, key))
            }
            .await;
            let (mut ws, _key) = match opened {
                Ok(v) => v,
                Err(e) => {
                    let _ = done.send(Err(e));
                    return;
                }
            };
            connected.fetch_add(1, Ordering::Relaxed);
            let _ = done.send(Ok(()));
            // Wait as a Peggy does: read (answering the server's pings) until the end.
            while let Some(Ok(message)) = ws.next().await {
                if matches!(message, Message::Close(_)) {
                    break;
                }
            }
            dropped.fetch_add(1, Ordering::Relaxed);
        }));
    }
    drop(done_tx);
    let mut errors = Vec::new();
    let mut answered = 0;
    while answered < peggys {
        let Some(result) = done_rx.recv().await else {
            break;
        };
        answered += 1;
        if let Err(e) = result {
            errors.push(e);
        }
        if answered % 1000 == 0 {
            eprintln!(
                "idle: {answered}/{peggys} Peggys set up ({:.0} s)",
                started.elapsed().as_secs_f64()
            );
        }
    }
    let setup = started.elapsed();
    // Let the server settle (pings go out every idle_timeout / 4) before reading its memory.
    tokio::time::sleep(Duration::from_secs(10)).await;
    let rss_after = proc_status(pid, "VmRSS").ok_or("cannot read the server's VmRSS")?;
    let hwm = proc_status(pid, "VmHWM").unwrap_or(0);
    let fds_after = open_fds(pid).unwrap_or(0);
    let threads_after = proc_status(pid, "Threads").unwrap_or(0);
    let listed: Vec<serde_json::Value> = server_fn(&clients[0], &base, "list_peggys", &[]).await?;
    let still = connected.load(Ordering::Relaxed) - dropped.load(Ordering::Relaxed);
    let own_rss = proc_status(std::process::id(), "VmRSS").unwrap_or(0);

    table_head(&format!(
        "4. {peggys} idle Peggys (registered, connected, no Victor), k = {k}"
    ));
    row(
        "Peggys connected and still waiting after 10 s / listed by `list_peggys`",
        format!("{still} / {}", listed.len()),
    );
    row(
        "server VmRSS before → after (goal ≤ 1 GiB)",
        format!(
            "{} → **{}** (+{} = {:.1} KiB per Peggy); VmHWM {}",
            mib(rss_before),
            mib(rss_after),
            mib(rss_after.saturating_sub(rss_before)),
            rss_after.saturating_sub(rss_before) as f64 / still.max(1) as f64,
            mib(hwm)
        ),
    );
    row(
        "server open files / threads before → after",
        format!("{fds_before} → {fds_after} / {threads_before} → {threads_after}"),
    );
    row(
        "set-up (draw on demand, keygen, register, connect; 8 at a time, shared HTTP clients)",
        format!("{:.1} s", setup.as_secs_f64()),
    );
    row("load generator VmRSS", mib(own_rss));
    row(
        "failures",
        if errors.is_empty() {
            "0".to_owned()
        } else {
            format!(
                "{} (e.g. {})",
                errors.len(),
                errors
                    .iter()
                    .take(3)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        },
    );
    for holder in holders {
        holder.abort();
    }
    Ok(())
}

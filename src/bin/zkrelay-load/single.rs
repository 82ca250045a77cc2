//! Part 1: CLI vs CLI — `zkrelay peggy` and `zkrelay victor` processes, one full run each time.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use crate::{Result, client::*, report::*};

/// A child process whose stderr lines arrive with the instant they were read.
pub(crate) struct Child {
    child: std::process::Child,
    spawned: Instant,
    lines: std::sync::mpsc::Receiver<(Instant, String)>,
    seen: Vec<(Instant, String)>,
}

impl Child {
    fn spawn(bin: &str, args: &[&str]) -> Result<Self> {
        let spawned = Instant::now();
        let mut child = Command::new(bin)
            .args(args)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run {bin}: {e}"))?;
        let stderr = child.stderr.take().ok_or("no stderr")?;
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if tx.send((Instant::now(), line)).is_err() {
                    break;
                }
            }
        });
        Ok(Self {
            child,
            spawned,
            lines,
            seen: Vec::new(),
        })
    }

    /// Waits for a line starting with `prefix`; its arrival.
    fn wait_line(&mut self, prefix: &str, timeout: Duration) -> Result<Instant> {
        if let Some((at, _)) = self.seen.iter().find(|(_, l)| l.starts_with(prefix)) {
            return Ok(*at);
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok((at, line)) => {
                    let hit = line.starts_with(prefix);
                    self.seen.push((at, line));
                    if hit {
                        return Ok(at);
                    }
                }
                Err(_) => {
                    let tail: Vec<&str> = self.seen.iter().map(|(_, l)| l.as_str()).collect();
                    return Err(format!(
                        "no {prefix:?} line within {timeout:?}; saw: {}",
                        tail.join(" / ")
                    ));
                }
            }
        }
    }

    /// Waits for the exit: its instant and whether it succeeded.
    fn wait_exit(&mut self, timeout: Duration) -> Result<(Instant, bool)> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().map_err(|e| e.to_string())? {
                return Ok((Instant::now(), status.success()));
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                return Err(format!("did not exit within {timeout:?}"));
            }
            std::thread::sleep(Duration::from_micros(500));
        }
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub(crate) struct SingleRun {
    spawn_to_paired: Duration,
    paired_to_verdict: Duration,
    spawn_to_verdict: Duration,
    victor_wall: Duration,
    peggy_wall: Duration,
    peggy_registered: Duration,
    /// Median time between Victor's consecutive `round i: x = …` lines (one whole round).
    round: Duration,
    /// Victor's `paired:` line → his first `round 1: x = …` line (start, Peggy's first commit).
    paired_to_first_commit: Duration,
}

pub(crate) fn single_run(
    bin: &str,
    server: &str,
    name: &str,
    rounds: u32,
    k: usize,
) -> Result<SingleRun> {
    let k = k.to_string();
    let rounds = rounds.to_string();
    let mut peggy = Child::spawn(
        bin,
        &[
            "peggy",
            "--server",
            server,
            "--name",
            name,
            "-k",
            &k,
            "--bind",
            "127.0.0.2",
        ],
    )?;
    let registered = peggy.wait_line("registered", Duration::from_secs(60))?;
    let mut victor = Child::spawn(
        bin,
        &[
            "victor",
            "--server",
            server,
            "--peggy",
            name,
            "--rounds",
            &rounds,
            "--bind",
            "127.0.0.3",
        ],
    )?;
    let paired = victor.wait_line("paired:", Duration::from_secs(30))?;
    let verdict = victor.wait_line("verdict:", Duration::from_secs(30))?;
    let (victor_exit, victor_ok) = victor.wait_exit(Duration::from_secs(30))?;
    let (peggy_exit, peggy_ok) = peggy.wait_exit(Duration::from_secs(30))?;
    if !victor_ok || !peggy_ok {
        return Err(format!(
            "exit status: victor {}, peggy {}",
            if victor_ok { "ok" } else { "FAILED" },
            if peggy_ok { "ok" } else { "FAILED" }
        ));
    }
    let mut commits: Vec<Instant> = victor
        .seen
        .iter()
        .filter(|(_, line)| line.starts_with("round ") && line.contains(": x = "))
        .map(|(at, _)| *at)
        .collect();
    commits.sort();
    let mut rounds: Vec<Duration> = commits.windows(2).map(|w| w[1] - w[0]).collect();
    rounds.sort();
    let first_commit = commits.first().copied().unwrap_or(paired);
    Ok(SingleRun {
        round: percentile(&rounds, 50.0),
        paired_to_first_commit: first_commit - paired,
        spawn_to_paired: paired - victor.spawned,
        paired_to_verdict: verdict - paired,
        spawn_to_verdict: verdict - victor.spawned,
        victor_wall: victor_exit - victor.spawned,
        peggy_wall: peggy_exit - peggy.spawned,
        peggy_registered: registered - peggy.spawned,
    })
}

/// `zkrelay-load single`.
#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    server: Server,
    /// The `zkrelay` binary to run as Peggy and Victor.
    #[arg(long)]
    zkrelay: String,
    /// Full runs, one after another.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Rounds per run.
    #[arg(long, default_value_t = 20)]
    rounds: u32,
    /// Peggy's k.
    #[arg(long, default_value_t = 20)]
    k: usize,
}

pub(crate) async fn single(args: Args) -> Result<()> {
    let (base, _) = args.server.parse()?;
    let Args {
        zkrelay: bin,
        runs,
        rounds,
        k,
        ..
    } = args;
    let tag = std::process::id();
    let mut done = Vec::new();
    let mut failures = Vec::new();
    for i in 1..=runs {
        let name = format!("bench-{tag}-{i}");
        let (bin, base) = (bin.clone(), base.clone());
        let result = tokio::task::spawn_blocking(move || single_run(&bin, &base, &name, rounds, k))
            .await
            .map_err(|e| e.to_string())?;
        match result {
            Ok(run) => {
                eprintln!(
                    "single run {i}: paired→verdict {}, spawn→verdict {}",
                    ms(run.paired_to_verdict),
                    ms(run.spawn_to_verdict)
                );
                done.push(run);
            }
            Err(e) => {
                eprintln!("single run {i}: FAILED: {e}");
                failures.push(e);
            }
        }
    }
    table_head(&format!(
        "1. One run, CLI vs CLI: t = {rounds}, k = {k} ({runs} runs, fresh Peggy each)"
    ));
    let list = |f: fn(&SingleRun) -> Duration| {
        let mut all: Vec<Duration> = done.iter().map(f).collect();
        let each = all
            .iter()
            .map(|d| format!("{:.1}", d.as_secs_f64() * 1e3))
            .collect::<Vec<_>>()
            .join(", ");
        all.sort();
        format!(
            "median **{}** (each, ms: {each})",
            ms(percentile(&all, 50.0))
        )
    };
    row(
        "Victor connected (`paired:` line) → `verdict:` line",
        list(|r| r.paired_to_verdict),
    );
    row(
        "`zkrelay victor` spawned → `verdict:` line (process start, list, connect, run)",
        list(|r| r.spawn_to_verdict),
    );
    row(
        "of which `paired:` → Victor's first `round 1: x` line (start → Peggy's first commitment)",
        list(|r| r.paired_to_first_commit),
    );
    row(
        "one round inside that run (median gap between Victor's `round i: x` lines)",
        list(|r| r.round),
    );
    row(
        "`zkrelay victor` spawned → `paired:` line",
        list(|r| r.spawn_to_paired),
    );
    row(
        "`zkrelay victor` wall time (spawn → exit, incl. the server's close)",
        list(|r| r.victor_wall),
    );
    row(
        "`zkrelay peggy` spawned → `registered` line (draw, keygen, register, connect)",
        list(|r| r.peggy_registered),
    );
    row(
        "`zkrelay peggy` wall time (spawn → exit; includes waiting for the Victor)",
        list(|r| r.peggy_wall),
    );
    row(
        "runs failed",
        if failures.is_empty() {
            "0".to_owned()
        } else {
            format!("{}: {}", failures.len(), failures.join("; "))
        },
    );
    Ok(())
}

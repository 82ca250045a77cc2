//! Identify under load (issue 4): a scripted benchmark, not a timed test. `scripts/bench-identify`
//! builds and starts release servers with throwaway databases and runs one part of this program
//! against each; every part prints a Markdown table of what it measured (stdout) and its progress
//! (stderr).
//!
//! ```text
//! identify_load single    --server URL --zkrelay BIN [--runs 5] [--rounds 20] [--k 20]
//!     CLI vs CLI: `zkrelay peggy` and `zkrelay victor` processes, one full run each time.
//! identify_load relay     --server URL [--rounds 500] [--blocks 4] [--k 20]
//!     Victor's challenge → Peggy's response through zkrelay and through a minimal axum
//!     forwarder (this program re-run as `forwarder`, a separate process), alternating blocks.
//! identify_load load      --server URL --server-pid PID [--pairs 1000] [--seconds 20] [--k 20]
//!     N concurrent pairs, one round per second each: CLI-core Peggys (`cli::identify::peggy`)
//!     and paced Victors on the pure state machine.
//! identify_load idle      --server URL --server-pid PID [--peggys 10000] [--k 20]
//!     N registered, connected, waiting Peggys; the server's VmRSS before and after.
//! identify_load forwarder
//!     Internal: the minimal forwarder; prints `listening ADDR`, exits when stdin closes.
//! ```
//!
//! Every client socket binds its own loopback source address (127.K.X.Y), so each "person" has an
//! address of their own: a run admits two addresses, and channel opens are limited per address.

use axum::{
    Router,
    extract::{
        State, WebSocketUpgrade,
        ws::{Message as AxumMessage, Utf8Bytes, WebSocket},
    },
    response::Response,
    routing::get,
};
use futures::StreamExt;
use serde::de::DeserializeOwned;
use std::{
    collections::HashMap,
    io::{BufRead, BufReader, Write},
    net::{IpAddr, Ipv4Addr, SocketAddr},
    process::{Command, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};
use tokio::{
    io::AsyncReadExt,
    net::TcpListener,
    sync::{Semaphore, mpsc, oneshot, watch},
};
use tokio_tungstenite::tungstenite::Message;
use zkrelay::{
    api::{DrawnModulus, Registered},
    cli::{
        identify::{self as cli, Seen, next, send},
        transfer::Endpoint,
    },
    protocol::{
        ffs::{self, BlumModulus, PublicKey, SecretKey, wire},
        identify::{Message as Wire, Party, PeggyRun, Referee, VictorRun},
    },
    rng::os_rng,
};

type Result<T> = std::result::Result<T, String>;
type Ws = cli::Socket;

/// Linux reports CPU times in /proc in units of USER_HZ, which is 100.
const USER_HZ: f64 = 100.0;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let Some(part) = args.first().cloned() else {
        eprintln!(
            "identify_load: nothing to do without a part; run scripts/bench-identify \
             (it starts the servers this benchmark needs)"
        );
        return std::process::ExitCode::SUCCESS;
    };
    let result = Options::parse(&args[1..]).and_then(|options| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the async runtime: {e}"))?;
        runtime.block_on(async {
            match part.as_str() {
                "single" => single(&options).await,
                "relay" => relay(&options).await,
                "load" => load(&options).await,
                "idle" => idle(&options).await,
                "forwarder" => forwarder().await,
                other => Err(format!("unknown part {other:?}")),
            }
        })
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("identify_load {part}: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

// ------------------------------------------------------------------ options and helpers

/// `--key value` pairs.
struct Options(HashMap<String, String>);

impl Options {
    fn parse(args: &[String]) -> Result<Self> {
        let mut map = HashMap::new();
        let mut it = args.iter();
        while let Some(key) = it.next() {
            let key = key
                .strip_prefix("--")
                .ok_or_else(|| format!("expected --option, got {key:?}"))?;
            let value = it.next().ok_or_else(|| format!("--{key} needs a value"))?;
            map.insert(key.to_owned(), value.clone());
        }
        Ok(Self(map))
    }

    fn text(&self, key: &str) -> Result<String> {
        self.0
            .get(key)
            .cloned()
            .ok_or_else(|| format!("--{key} is required"))
    }

    fn number<T: std::str::FromStr>(&self, key: &str, default: T) -> Result<T> {
        match self.0.get(key) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| format!("--{key} {v:?} is not a number")),
        }
    }

    /// The server's base URL and socket address.
    fn server(&self) -> Result<(String, SocketAddr)> {
        let url = self.text("server")?;
        let addr = url
            .trim_end_matches('/')
            .strip_prefix("http://")
            .and_then(|a| a.parse().ok())
            .ok_or_else(|| format!("--server must be http://IP:PORT, not {url:?}"))?;
        Ok((url.trim_end_matches('/').to_owned(), addr))
    }
}

/// The `i`-th address of kind `kind` (0 ≤ i < 62,500): 127.kind.(i / 250).(i % 250 + 1).
fn address(kind: u8, i: usize) -> IpAddr {
    let hi = u8::try_from(i / 250).unwrap_or(u8::MAX);
    let lo = u8::try_from(i % 250 + 1).unwrap_or(u8::MAX);
    IpAddr::V4(Ipv4Addr::new(127, kind, hi, lo))
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// The p-th percentile (nearest rank) of sorted samples.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn mean(samples: &[Duration]) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    samples.iter().sum::<Duration>() / u32::try_from(samples.len()).unwrap_or(u32::MAX)
}

/// A field of /proc/PID/status in kB (VmRSS, VmHWM, Threads…).
fn proc_status(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

fn open_fds(pid: u32) -> Option<usize> {
    Some(std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count())
}

/// User + system CPU seconds a process has used so far.
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which ends with the last ')'): state is field 3, utime 14.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / USER_HZ)
}

fn mib(kb: u64) -> String {
    format!("{:.1} MiB", kb as f64 / 1024.0)
}

fn row(what: impl AsRef<str>, figure: impl AsRef<str>) {
    println!("| {} | {} |", what.as_ref(), figure.as_ref());
}

fn table_head(title: &str) {
    println!("\n#### {title}\n");
    println!("| what | figure |");
    println!("|---|---|");
}

// ------------------------------------------------------------------ a client on the pure protocol

/// Opens a WebSocket at `path` on `server` from `bind` (the CLI's own client).
async fn connect(server: SocketAddr, bind: IpAddr, path: &str) -> Result<Ws> {
    let endpoint = Endpoint {
        server: format!("http://{server}"),
        bind: Some(bind),
    };
    cli::connect(&endpoint, path).await
}

/// Closes politely and waits (briefly) for the other end to close too.
async fn hang_up(mut ws: Ws) {
    let _ = ws.close(None).await;
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
}

async fn server_fn<T: DeserializeOwned>(
    http: &reqwest::Client,
    base: &str,
    name: &str,
    args: &[(&str, &str)],
) -> Result<T> {
    cli::call_server_fn(http, base, name, args).await
}

/// Draws a modulus, makes a key with k secrets and registers it: the query that opens Peggy's
/// socket (`peggy_id=…&secret=…`) and her key.
async fn register(
    http: &reqwest::Client,
    base: &str,
    name: &str,
    k: usize,
) -> Result<(String, SecretKey)> {
    let drawn: DrawnModulus = server_fn(http, base, "draw_modulus", &[]).await?;
    let n = wire::decode(&drawn.n, ffs::MAX_BITS).map_err(|e| format!("modulus: {e}"))?;
    let modulus = BlumModulus::from_stored(&n).map_err(|e| format!("modulus: {e}"))?;
    let key = SecretKey::generate(&mut os_rng(), &modulus, k).map_err(|e| format!("keys: {e}"))?;
    let public = serde_json::to_string(key.public_key()).map_err(|e| format!("key: {e}"))?;
    let modulus_id = drawn.modulus_id.to_string();
    let registered: Registered = server_fn(
        http,
        base,
        "register_peggy",
        &[
            ("name", name),
            ("modulus_id", &modulus_id),
            ("public_key", &public),
        ],
    )
    .await?;
    let seat = format!(
        "peggy_id={}&secret={}",
        registered.peggy_id, registered.peggy_secret
    );
    Ok((seat, key))
}

/// The `peggy_id` of a seat query from [`register`].
fn peggy_id_of(seat: &str) -> &str {
    seat.strip_prefix("peggy_id=")
        .and_then(|rest| rest.split('&').next())
        .unwrap_or_default()
}

/// Connects Victor to Peggy `peggy_id` on zkrelay from `bind`: his socket and, from the server's
/// `paired`, her public key. A Peggy whose socket just opened may not be seated yet (the server
/// seats her after the handshake); then Victor is told so and tries again shortly, up to 5 s.
async fn victor_paired(
    server: SocketAddr,
    bind: IpAddr,
    peggy_id: &str,
) -> Result<(Ws, PublicKey)> {
    let path = format!("/ws/identify/victor?peggy_id={peggy_id}");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut ws = connect(server, bind, &path).await?;
        match next(&mut ws).await {
            Ok(Wire::Paired {
                public_key: Some(key),
                ..
            }) => return Ok((ws, key)),
            Ok(other) => return Err(format!("expected paired, got {}", other.kind())),
            Err(e) if e.contains("not connected") && Instant::now() < deadline => {
                drop(ws);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Peggy's side of a whole run on the pure state machine.
async fn run_peggy(mut ws: Ws, key: SecretKey) -> Result<()> {
    let mut run = PeggyRun::new(&key);
    let mut rng = os_rng();
    while !run.is_finished() {
        let message = next(&mut ws).await?;
        let step = run
            .handle(&mut rng, message)
            .map_err(|e| format!("Peggy: {e}"))?;
        for message in &step.send {
            send(&mut ws, message).await?;
        }
    }
    hang_up(ws).await;
    Ok(())
}

// ------------------------------------------------------------------ part 1: CLI vs CLI

/// A child process whose stderr lines arrive with the instant they were read.
struct Child {
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

struct SingleRun {
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

fn single_run(bin: &str, server: &str, name: &str, rounds: u32, k: usize) -> Result<SingleRun> {
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

async fn single(options: &Options) -> Result<()> {
    let (base, _) = options.server()?;
    let bin = options.text("zkrelay")?;
    let runs: usize = options.number("runs", 5)?;
    let rounds: u32 = options.number("rounds", 20)?;
    let k: usize = options.number("k", 20)?;
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

// ------------------------------------------------------------------ part 2: relay vs forwarder

/// The minimal forwarder: pairs sockets in arrival order (1st with 2nd, 3rd with 4th…) and
/// copies text messages between the two of a pair unchanged.
async fn forwarder() -> Result<()> {
    type Waiting = Arc<
        Mutex<
            Option<(
                mpsc::Sender<Utf8Bytes>,
                oneshot::Sender<mpsc::Sender<Utf8Bytes>>,
            )>,
        >,
    >;

    async fn upgrade(ws: WebSocketUpgrade, State(waiting): State<Waiting>) -> Response {
        ws.on_upgrade(move |socket| forward(socket, waiting))
    }

    async fn forward(mut socket: WebSocket, waiting: Waiting) {
        let (outbox, mut inbox) = mpsc::channel::<Utf8Bytes>(64);
        let first = {
            let mut slot = waiting.lock().unwrap_or_else(|e| e.into_inner());
            match slot.take() {
                Some((peer, give)) => {
                    let _ = give.send(outbox);
                    Ok(peer)
                }
                None => {
                    let (give, take) = oneshot::channel();
                    *slot = Some((outbox, give));
                    Err(take)
                }
            }
        };
        let peer = match first {
            Ok(peer) => peer,
            Err(take) => match take.await {
                Ok(peer) => peer,
                Err(_) => return,
            },
        };
        loop {
            tokio::select! {
                incoming = socket.recv() => match incoming {
                    Some(Ok(AxumMessage::Text(text))) => {
                        if peer.send(text).await.is_err() {
                            return;
                        }
                    }
                    Some(Ok(AxumMessage::Binary(_) | AxumMessage::Ping(_) | AxumMessage::Pong(_))) => {}
                    Some(Ok(AxumMessage::Close(_)) | Err(_)) | None => return,
                },
                outgoing = inbox.recv() => match outgoing {
                    Some(text) => {
                        if socket.send(AxumMessage::Text(text)).await.is_err() {
                            return;
                        }
                    }
                    None => return,
                },
            }
        }
    }

    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("bind: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening {addr}").map_err(|e| e.to_string())?;
        out.flush().map_err(|e| e.to_string())?;
    }
    let waiting: Waiting = Arc::default();
    let app = Router::new().route("/", get(upgrade)).with_state(waiting);
    let stdin_closed = async {
        let mut stdin = tokio::io::stdin();
        let mut buf = [0u8; 64];
        while let Ok(n) = stdin.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
    };
    axum::serve(listener, app)
        .with_graceful_shutdown(stdin_closed)
        .await
        .map_err(|e| e.to_string())
}

/// Starts this program as the forwarder process; its child handle and address.
fn start_forwarder() -> Result<(std::process::Child, SocketAddr)> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut child = Command::new(exe)
        .arg("forwarder")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start the forwarder: {e}"))?;
    let stdout = child.stdout.take().ok_or("forwarder: no stdout")?;
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    let addr = line
        .trim()
        .strip_prefix("listening ")
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| format!("forwarder said {line:?}"))?;
    Ok((child, addr))
}

/// What Victor timed in the relayed runs.
#[derive(Default)]
struct Timed {
    /// Challenge sent → response received, every round.
    rtt: Vec<Duration>,
    /// Commitment received → the next round's commitment received (a whole round: challenge,
    /// response, Victor's check, result, Peggy's next commitment).
    round: Vec<Duration>,
}

/// Victor's side of a whole run, timing every round.
async fn run_victor_timed(
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
enum Via {
    Zkrelay,
    Forwarder,
}

/// Where the relayed runs go.
struct Targets<'a> {
    /// zkrelay's address and base URL, and a client for its server functions.
    server: SocketAddr,
    base: &'a str,
    http: &'a reqwest::Client,
    forwarder: SocketAddr,
}

/// One run of `rounds` rounds through `via`; what Victor timed goes into `timed`.
async fn relayed_run(
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

async fn relay(options: &Options) -> Result<()> {
    let (base, server) = options.server()?;
    let rounds: u32 = options.number("rounds", 500)?;
    let blocks: usize = options.number("blocks", 4)?;
    let k: usize = options.number("k", 20)?;
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
fn referee_costs(key: &SecretKey, rounds: u32) -> Result<[Duration; 4]> {
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

// ------------------------------------------------------------------ part 3: concurrent pairs

/// What one paced Victor measured.
#[derive(Default)]
struct PacedVictor {
    /// Challenge sent → response verified, every round.
    latencies: Vec<Duration>,
    /// Rounds whose commitment arrived after the round's tick (the challenge went out late).
    late: usize,
    accepted: bool,
}

/// Victor `i` of `pairs`: connects, starts a run of `rounds` rounds, then sends round r's
/// challenge at `t0 + (r − 1) s + i/pairs s` and times it until the response is verified.
async fn paced_victor(
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

async fn load(options: &Options) -> Result<()> {
    let (base, server) = options.server()?;
    let pid: u32 = options.number("server-pid", 0)?;
    let pairs: usize = options.number("pairs", 1000)?;
    let seconds: u32 = options.number("seconds", 20)?;
    let k: usize = options.number("k", 20)?;
    let concurrency: usize = options.number("setup-concurrency", 8)?;

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

// ------------------------------------------------------------------ part 4: idle Peggys

async fn idle(options: &Options) -> Result<()> {
    let (base, server) = options.server()?;
    let pid: u32 = options.number("server-pid", 0)?;
    let peggys: usize = options.number("peggys", 10_000)?;
    let k: usize = options.number("k", 20)?;
    let concurrency: usize = options.number("setup-concurrency", 8)?;
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

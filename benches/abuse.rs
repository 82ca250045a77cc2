//! Abuse (issue 11): a scripted attack bench, not a timed test. `scripts/bench-abuse` builds and
//! starts a release server (or `ZKRELAY_BIN`, another build) on loopback with a throwaway database
//! for each part, runs the part against it and stops it. Each part prints one Markdown table row
//! (stdout) and its progress and details (stderr, lines starting `detail:` are kept by the script).
//!
//! ```text
//! abuse header                                        the table's head (goals beside the columns)
//! abuse reference  --server URL --server-pid PID [--seconds 10]
//!     no attack: the normal user's probe alone.
//! abuse slowloris  --server URL --server-pid PID [--connections 500] [--seconds 15]
//!                  [--byte-ms 1000] [--retry-ms 1000]
//!     N connections from the attacker, each sending request headers one byte every byte-ms and
//!     never finishing them; a connection the server closes is opened again after retry-ms.
//! abuse websockets --server URL --server-pid PID [--sockets 2000] [--seconds 15] [--handshakes 64]
//!     N `/ws/ping` WebSockets opened from the attacker (handshakes at a time), then held idle.
//! abuse scan       --server URL --server-pid PID [--names 9000] [--live 300] [--owners 15]
//!                  [--seconds 20] [--concurrency 8] [--seed S] [--mix-live]
//!     honest senders on 127.0.1.1..=owners open `live` channels; the attacker then asks
//!     `POST /open {"channel": NAME, "role": "recipient"}` for `names` random names of the shape
//!     the server gives out (as an attacker who knows no live name must), with --mix-live also
//!     the live names shuffled in.
//! abuse draw-flood --server URL --server-pid PID [--concurrency 16] [--seconds 15]
//!     `POST /api/draw_modulus` (form-encoded, empty) in a loop on each of N keep-alive
//!     connections; the server's CPU over the flood.
//! ```
//!
//! During every part a normal user on its own address (127.0.0.3) sends `GET /` every 20 ms on
//! one keep-alive connection (its own thread and runtime), and a sampler reads the server's VmRSS
//! and open descriptors from /proc every 50 ms. Every part ends by itself after `--seconds`
//! (whatever the server does), so it also runs against a build without limits.

use clap::{Args, Parser, Subcommand};
use futures::StreamExt;
use rand::{Rng, SeedableRng, rngs::StdRng, seq::SliceRandom};
use std::{
    collections::{BTreeMap, HashSet},
    future::Future,
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{
        TcpSocket, TcpStream,
        tcp::{OwnedReadHalf, OwnedWriteHalf},
    },
    sync::Semaphore,
};
use tokio_tungstenite::tungstenite;
use zkrelay::protocol::relay::{CHANNEL_NAMES, channel_name, is_channel_name};

type Result<T> = std::result::Result<T, String>;

/// Linux reports CPU times in /proc in units of USER_HZ, which is 100.
const USER_HZ: f64 = 100.0;

#[derive(Parser)]
#[command(
    name = "abuse",
    about = "Attacks on a running zkrelay server (scripts/bench-abuse)"
)]
struct Cli {
    #[command(subcommand)]
    part: Option<Part>,
}

#[derive(Subcommand)]
enum Part {
    /// Prints the table's head.
    Header,
    /// No attack: the probe alone.
    Reference {
        #[command(flatten)]
        common: Common,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// Connections that send their headers one byte at a time.
    Slowloris {
        #[command(flatten)]
        common: Common,
        #[arg(long, default_value_t = 500)]
        connections: usize,
        #[arg(long, default_value_t = 15)]
        seconds: u64,
        /// One byte every this many milliseconds on each connection.
        #[arg(long, default_value_t = 1000)]
        byte_ms: u64,
        /// A connection the server closed is opened again after this many milliseconds.
        #[arg(long, default_value_t = 1000)]
        retry_ms: u64,
    },
    /// Idle `/ws/ping` WebSockets from one address.
    Websockets {
        #[command(flatten)]
        common: Common,
        #[arg(long, default_value_t = 2000)]
        sockets: usize,
        #[arg(long, default_value_t = 15)]
        seconds: u64,
        /// Handshakes in flight at once.
        #[arg(long, default_value_t = 64)]
        handshakes: usize,
    },
    /// A scan of channel names while honest channels are live.
    Scan {
        #[command(flatten)]
        common: Common,
        /// Random names of the live names' shape.
        #[arg(long, default_value_t = 9000)]
        names: usize,
        /// Channels opened by honest senders before the scan.
        #[arg(long, default_value_t = 300)]
        live: usize,
        /// Honest senders' addresses (127.0.1.1, …), each opening live/owners channels.
        #[arg(long, default_value_t = 15)]
        owners: usize,
        /// Spread the requests evenly over this many seconds (0: as fast as the server answers).
        #[arg(long, default_value_t = 15)]
        pace_seconds: u64,
        /// The scan stops here, wherever it is.
        #[arg(long, default_value_t = 20)]
        seconds: u64,
        /// The attacker's requests in flight (keep-alive connections).
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
        /// Seed of the names and their order (random if not given; printed).
        #[arg(long)]
        seed: Option<u64>,
        /// Shuffle the live names into the list (a list far denser in live names than any
        /// attacker can make): then what is found is what the join burst lets through.
        #[arg(long)]
        mix_live: bool,
    },
    /// `POST /api/draw_modulus` as fast as the server answers.
    DrawFlood {
        #[command(flatten)]
        common: Common,
        /// Keep-alive connections, each with one draw in flight.
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        #[arg(long, default_value_t = 15)]
        seconds: u64,
        /// After the flood, how long the server's CPU is watched for work the flood left behind.
        #[arg(long, default_value_t = 5)]
        tail_seconds: u64,
    },
}

#[derive(Args, Clone)]
struct Common {
    /// The server's base URL, http://IP:PORT.
    #[arg(long)]
    server: String,
    /// The server's process id (for /proc).
    #[arg(long)]
    server_pid: u32,
    /// The attacker's source address.
    #[arg(long, default_value = "127.0.0.2")]
    attacker: IpAddr,
    /// The normal user's source address (the probe).
    #[arg(long, default_value = "127.0.0.3")]
    user: IpAddr,
    /// The probe's period in milliseconds.
    #[arg(long, default_value_t = 20)]
    probe_ms: u64,
}

impl Common {
    fn addr(&self) -> Result<SocketAddr> {
        self.server
            .trim_end_matches('/')
            .strip_prefix("http://")
            .and_then(|a| a.parse().ok())
            .ok_or_else(|| format!("--server must be http://IP:PORT, not {:?}", self.server))
    }

    fn base(&self) -> String {
        self.server.trim_end_matches('/').to_owned()
    }
}

fn main() -> std::process::ExitCode {
    // `cargo bench` passes --bench to every bench binary.
    let args = std::env::args().filter(|a| a != "--bench");
    let cli = Cli::parse_from(args);
    let Some(part) = cli.part else {
        eprintln!(
            "abuse: nothing to do without a part; run scripts/bench-abuse \
             (it starts the servers this benchmark attacks)"
        );
        return std::process::ExitCode::SUCCESS;
    };
    if let Part::Header = part {
        header();
        return std::process::ExitCode::SUCCESS;
    }
    if let Err(e) = raise_open_file_limit() {
        eprintln!("abuse: {e}");
    }
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
        .and_then(|runtime| {
            runtime.block_on(async {
                match part {
                    Part::Header => Ok(()),
                    Part::Reference { common, seconds } => reference(&common, seconds).await,
                    Part::Slowloris {
                        common,
                        connections,
                        seconds,
                        byte_ms,
                        retry_ms,
                    } => slowloris(&common, connections, seconds, byte_ms, retry_ms).await,
                    Part::Websockets {
                        common,
                        sockets,
                        seconds,
                        handshakes,
                    } => websockets(&common, sockets, seconds, handshakes).await,
                    Part::Scan {
                        common,
                        names,
                        live,
                        owners,
                        pace_seconds,
                        seconds,
                        concurrency,
                        seed,
                        mix_live,
                    } => {
                        let scan = ScanPlan {
                            mix_live,
                            names,
                            live,
                            owners,
                            pace_seconds,
                            seconds,
                            concurrency,
                            seed,
                        };
                        scan_names(&common, &scan).await
                    }
                    Part::DrawFlood {
                        common,
                        concurrency,
                        seconds,
                        tail_seconds,
                    } => draw_flood(&common, concurrency, seconds, tail_seconds).await,
                }
            })
        });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("abuse: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// This process opens thousands of sockets: take every descriptor the hard limit allows.
fn raise_open_file_limit() -> Result<()> {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).map_err(|e| format!("getrlimit: {e}"))?;
    if soft < hard {
        setrlimit(Resource::RLIMIT_NOFILE, hard, hard)
            .map_err(|e| format!("cannot raise the open-file limit to {hard}: {e}"))?;
    }
    if hard < 4096 {
        eprintln!("abuse: warning: the open-file limit is {hard}; the websockets part needs more");
    }
    Ok(())
}

// ------------------------------------------------------------------ the table

fn header() {
    println!(
        "| attack (from 127.0.0.2) | normal `GET /` from 127.0.0.3: p50 / p99 (goal p99 ≤ 50 ms) \
         | server VmRSS peak (goal ≤ 256 MiB) | open fds peak | server CPU | attacker refused (how) \
         | figure (goal) |"
    );
    println!("|---|---|---|---|---|---|---|");
}

/// What the probe and the sampler saw during one part.
struct Seen {
    probe: Probe,
    peaks: Peaks,
    wall: Duration,
    cpu: Option<f64>,
}

fn row(attack: &str, seen: &Seen, refused: &str, figure: &str) {
    let p = &seen.probe;
    let probe = if p.latencies.is_empty() {
        format!("no answer ({} failed)", p.failures)
    } else {
        let failed = if p.failures == 0 {
            String::new()
        } else {
            format!(", **{} failed** ({})", p.failures, p.first_failure)
        };
        format!(
            "{} / **{}** (max {}, {} requests{failed})",
            ms(percentile(&p.latencies, 50.0)),
            ms(percentile(&p.latencies, 99.0)),
            ms(percentile(&p.latencies, 100.0)),
            p.latencies.len()
        )
    };
    let cpu = match seen.cpu {
        Some(s) => format!(
            "{:.2} cores ({s:.1} s in {:.1} s)",
            s / seen.wall.as_secs_f64(),
            seen.wall.as_secs_f64()
        ),
        None => "?".to_owned(),
    };
    println!(
        "| {attack} | {probe} | {} → **{}** | {} → {} | {cpu} | {refused} | {figure} |",
        mib(seen.peaks.rss_before_kb),
        mib(seen.peaks.rss_peak_kb),
        seen.peaks.fds_before,
        seen.peaks.fds_peak
    );
}

fn detail(text: impl AsRef<str>) {
    eprintln!("detail: {}", text.as_ref());
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn mib(kb: u64) -> String {
    format!("{:.1} MiB", kb as f64 / 1024.0)
}

/// The p-th percentile (nearest rank) of sorted samples.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// "429 ×9280, 200 ×20" from a count per kind, most frequent first.
fn counts(map: &BTreeMap<String, usize>) -> String {
    if map.is_empty() {
        return "none".to_owned();
    }
    let mut items: Vec<(&String, &usize)> = map.iter().collect();
    items.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    items
        .iter()
        .map(|(k, n)| format!("{k} ×{n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn bump(map: &Mutex<BTreeMap<String, usize>>, key: impl Into<String>) {
    let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
    *map.entry(key.into()).or_default() += 1;
}

fn take(map: &Mutex<BTreeMap<String, usize>>) -> BTreeMap<String, usize> {
    std::mem::take(&mut *map.lock().unwrap_or_else(|e| e.into_inner()))
}

// ------------------------------------------------------------------ /proc

/// A field of /proc/PID/status in kB (VmRSS, VmHWM…).
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

// ------------------------------------------------------------------ probe and sampler

#[derive(Default)]
struct Probe {
    latencies: Vec<Duration>,
    failures: usize,
    first_failure: String,
}

#[derive(Default, Clone, Copy)]
struct Peaks {
    rss_before_kb: u64,
    rss_peak_kb: u64,
    fds_before: usize,
    fds_peak: usize,
}

/// The normal user's probe and the server sampler, running while an attack does.
struct Watch {
    stop: Arc<AtomicBool>,
    probe: std::thread::JoinHandle<Probe>,
    sampler: std::thread::JoinHandle<Peaks>,
    started: Instant,
    cpu_before: Option<f64>,
    pid: u32,
}

impl Watch {
    fn start(common: &Common) -> Result<Self> {
        let pid = common.server_pid;
        let rss = proc_status(pid, "VmRSS").ok_or(format!("cannot read /proc/{pid}/status"))?;
        let fds = open_fds(pid).unwrap_or(0);
        let stop = Arc::new(AtomicBool::new(false));
        let sampler = {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut peaks = Peaks {
                    rss_before_kb: rss,
                    rss_peak_kb: rss,
                    fds_before: fds,
                    fds_peak: fds,
                };
                while !stop.load(Ordering::Relaxed) {
                    if let Some(rss) = proc_status(pid, "VmRSS") {
                        peaks.rss_peak_kb = peaks.rss_peak_kb.max(rss);
                    }
                    if let Some(fds) = open_fds(pid) {
                        peaks.fds_peak = peaks.fds_peak.max(fds);
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                peaks
            })
        };
        let probe = {
            let stop = Arc::clone(&stop);
            let url = format!("{}/", common.base());
            let user = common.user;
            let period = Duration::from_millis(common.probe_ms.max(1));
            std::thread::spawn(move || probe(&url, user, period, &stop))
        };
        Ok(Self {
            stop,
            probe,
            sampler,
            started: Instant::now(),
            cpu_before: cpu_seconds(pid),
            pid,
        })
    }

    fn finish(self) -> Seen {
        let wall = self.started.elapsed();
        let cpu = cpu_seconds(self.pid)
            .zip(self.cpu_before)
            .map(|(after, before)| after - before);
        self.stop.store(true, Ordering::Relaxed);
        let mut probe = self.probe.join().unwrap_or_default();
        probe.latencies.sort();
        let peaks = self.sampler.join().unwrap_or_default();
        Seen {
            probe,
            peaks,
            wall,
            cpu,
        }
    }
}

/// `GET url` every `period` from `user` on one keep-alive connection, on a runtime of its own.
fn probe(url: &str, user: IpAddr, period: Duration, stop: &AtomicBool) -> Probe {
    let mut seen = Probe::default();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            seen.failures = 1;
            seen.first_failure = format!("no runtime: {e}");
            return seen;
        }
    };
    runtime.block_on(async {
        let http = match reqwest::Client::builder()
            .local_address(user)
            .pool_max_idle_per_host(1)
            .tcp_nodelay(true)
            .timeout(Duration::from_secs(5))
            .build()
        {
            Ok(c) => c,
            Err(e) => {
                seen.failures = 1;
                seen.first_failure = format!("no client: {e}");
                return;
            }
        };
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while !stop.load(Ordering::Relaxed) {
            tick.tick().await;
            let sent = Instant::now();
            let outcome = match http.get(url).send().await {
                Ok(res) if res.status().is_success() => {
                    res.bytes().await.map(|_| ()).map_err(|e| e.to_string())
                }
                Ok(res) => Err(format!("status {}", res.status().as_u16())),
                Err(e) => Err(e.to_string()),
            };
            match outcome {
                Ok(()) => seen.latencies.push(sent.elapsed()),
                Err(e) => {
                    if seen.failures == 0 {
                        seen.first_failure = e;
                    }
                    seen.failures += 1;
                }
            }
        }
    });
    seen
}

/// A TCP connection from `from` to `to`.
async fn connect_from(from: IpAddr, to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = match to {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    socket.bind(SocketAddr::new(from, 0))?;
    let stream = socket.connect(to).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Runs `attack` until it returns or `deadline`; false if the deadline came first.
async fn until<F: Future<Output = ()>>(deadline: Instant, attack: F) -> bool {
    tokio::time::timeout_at(deadline.into(), attack)
        .await
        .is_ok()
}

// ------------------------------------------------------------------ reference

async fn reference(common: &Common, seconds: u64) -> Result<()> {
    let watch = Watch::start(common)?;
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let seen = watch.finish();
    row(&format!("none (reference, {seconds} s)"), &seen, "—", "—");
    Ok(())
}

// ------------------------------------------------------------------ 1. slowloris

/// The `i`-th byte of a request whose headers never end.
fn slow_byte(prefix: &[u8], i: usize) -> u8 {
    const LINE: &[u8] = b"X-Slow: 1\r\n";
    match prefix.get(i) {
        Some(b) => *b,
        None => LINE[(i - prefix.len()) % LINE.len()],
    }
}

#[derive(Default)]
struct SlowStats {
    attempts: AtomicUsize,
    connect_errors: AtomicUsize,
    /// Connections open and unanswered for at least `HELD_AFTER` right now, and at most.
    held: AtomicUsize,
    max_held: AtomicUsize,
    held_at_end: AtomicUsize,
    /// How connections ended: "503 reply", "closed, no reply", "reset"…
    endings: Mutex<BTreeMap<String, usize>>,
    /// How long connections that had been held lasted before the server ended them.
    held_for: Mutex<Vec<Duration>>,
    bytes_sent: AtomicUsize,
}

/// A connection counts as held (admitted and kept waiting) once it is this old without an answer.
const HELD_AFTER: Duration = Duration::from_millis(500);

async fn read_to_end(reader: &mut OwnedReadHalf) -> (Vec<u8>, Option<std::io::ErrorKind>) {
    let mut got = Vec::new();
    let mut buf = [0u8; 512];
    loop {
        match reader.read(&mut buf).await {
            Ok(0) => return (got, None),
            Ok(n) => {
                if got.len() < 64 {
                    got.extend_from_slice(&buf[..n.min(64)]);
                }
            }
            Err(e) => return (got, Some(e.kind())),
        }
    }
}

/// Sends one byte every `every` until a write fails.
async fn drip(writer: &mut OwnedWriteHalf, prefix: &[u8], every: Duration, sent: &AtomicUsize) {
    let mut i = 0;
    loop {
        if writer.write_all(&[slow_byte(prefix, i)]).await.is_err() {
            return;
        }
        sent.fetch_add(1, Ordering::Relaxed);
        i += 1;
        tokio::time::sleep(every).await;
    }
}

/// "HTTP/1.1 503 …" → "503 reply".
fn reply_kind(got: &[u8], error: Option<std::io::ErrorKind>) -> String {
    let text = String::from_utf8_lossy(got);
    match text.strip_prefix("HTTP/1.") {
        Some(rest) => format!("{} reply", rest.get(2..5).unwrap_or("???")),
        None if !got.is_empty() => "other bytes".to_owned(),
        None => match error {
            None => "closed, no reply".to_owned(),
            Some(kind) => format!("{kind:?}, no reply"),
        },
    }
}

async fn slow_connection(
    server: SocketAddr,
    from: IpAddr,
    deadline: Instant,
    every: Duration,
    retry: Duration,
    stats: Arc<SlowStats>,
) {
    let prefix = format!("GET / HTTP/1.1\r\nHost: {server}\r\nUser-Agent: slowloris\r\n");
    while Instant::now() < deadline {
        stats.attempts.fetch_add(1, Ordering::Relaxed);
        let connected = tokio::time::timeout_at(deadline.into(), connect_from(from, server)).await;
        let stream = match connected {
            Err(_) => return,
            Ok(Err(_)) => {
                stats.connect_errors.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(retry).await;
                continue;
            }
            Ok(Ok(s)) => s,
        };
        let opened = Instant::now();
        let (mut reader, mut writer) = stream.into_split();
        let dripping = drip(&mut writer, prefix.as_bytes(), every, &stats.bytes_sent);
        let reading = read_to_end(&mut reader);
        let mark = tokio::time::sleep(HELD_AFTER);
        let end = tokio::time::sleep_until(deadline.into());
        tokio::pin!(dripping, reading, mark, end);
        let (mut marked, mut dripped) = (false, false);
        let ended = loop {
            tokio::select! {
                outcome = &mut reading => break Some(outcome),
                () = &mut dripping, if !dripped => dripped = true,
                () = &mut mark, if !marked => {
                    marked = true;
                    let now = stats.held.fetch_add(1, Ordering::Relaxed) + 1;
                    stats.max_held.fetch_max(now, Ordering::Relaxed);
                }
                () = &mut end => break None,
            }
        };
        if marked {
            stats.held.fetch_sub(1, Ordering::Relaxed);
        }
        match ended {
            None => {
                stats.held_at_end.fetch_add(1, Ordering::Relaxed);
                return;
            }
            Some((got, error)) => {
                bump(&stats.endings, reply_kind(&got, error));
                if marked {
                    stats
                        .held_for
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(opened.elapsed());
                }
            }
        }
        tokio::time::sleep(retry).await;
    }
}

async fn slowloris(
    common: &Common,
    connections: usize,
    seconds: u64,
    byte_ms: u64,
    retry_ms: u64,
) -> Result<()> {
    let server = common.addr()?;
    let stats = Arc::new(SlowStats::default());
    let watch = Watch::start(common)?;
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            tokio::spawn(slow_connection(
                server,
                common.attacker,
                deadline,
                Duration::from_millis(byte_ms),
                Duration::from_millis(retry_ms),
                Arc::clone(&stats),
            ))
        })
        .collect();
    for task in tasks {
        let _ = task.await;
    }
    let seen = watch.finish();
    let endings = take(&stats.endings);
    let mut held_for =
        std::mem::take(&mut *stats.held_for.lock().unwrap_or_else(|e| e.into_inner()));
    held_for.sort();
    let refused_503 = endings.get("503 reply").copied().unwrap_or(0);
    let cut = held_for.len();
    let attempts = stats.attempts.load(Ordering::Relaxed);
    row(
        &format!(
            "1. slowloris: {connections} connections, headers 1 byte / {byte_ms} ms, \
             reopened {retry_ms} ms after the server closes one ({seconds} s)"
        ),
        &seen,
        &format!(
            "{refused_503} of {attempts} connection attempts answered `503` at once; {}",
            if cut == 0 {
                "none held closed by the server".to_owned()
            } else {
                format!(
                    "{cut} held ones closed by the server after {}–{} (median {})",
                    secs(percentile(&held_for, 0.0)),
                    secs(percentile(&held_for, 100.0)),
                    secs(percentile(&held_for, 50.0)),
                )
            }
        ),
        &format!(
            "at most **{}** held open at once; {} still open at the end",
            stats.max_held.load(Ordering::Relaxed),
            stats.held_at_end.load(Ordering::Relaxed)
        ),
    );
    detail(format!(
        "slowloris: {attempts} connection attempts, {} connect errors, {} header bytes sent; \
         endings: {}",
        stats.connect_errors.load(Ordering::Relaxed),
        stats.bytes_sent.load(Ordering::Relaxed),
        counts(&endings)
    ));
    Ok(())
}

fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

// ------------------------------------------------------------------ 2. idle WebSockets

async fn websockets(
    common: &Common,
    sockets: usize,
    seconds: u64,
    handshakes: usize,
) -> Result<()> {
    let server = common.addr()?;
    let url = format!("ws://{server}/ws/ping");
    let gate = Arc::new(Semaphore::new(handshakes.max(1)));
    let outcomes = Arc::new(Mutex::new(BTreeMap::new()));
    let open = Arc::new(AtomicUsize::new(0));
    let max_open = Arc::new(AtomicUsize::new(0));
    let closed_by_server = Arc::new(AtomicUsize::new(0));
    let watch = Watch::start(common)?;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let all_tried = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..sockets)
        .map(|_| {
            let gate = Arc::clone(&gate);
            let outcomes = Arc::clone(&outcomes);
            let open = Arc::clone(&open);
            let max_open = Arc::clone(&max_open);
            let closed_by_server = Arc::clone(&closed_by_server);
            let all_tried = Arc::clone(&all_tried);
            let url = url.clone();
            let from = common.attacker;
            tokio::spawn(async move {
                let attempt = async {
                    let _permit = gate.acquire_owned().await.map_err(|e| e.to_string())?;
                    let tcp = connect_from(from, server)
                        .await
                        .map_err(|e| format!("connect: {:?}", e.kind()))?;
                    let shake = tokio_tungstenite::client_async(url.as_str(), tcp);
                    match tokio::time::timeout(Duration::from_secs(5), shake).await {
                        Err(_) => Err("handshake timed out".to_owned()),
                        Ok(Ok((ws, _))) => Ok(ws),
                        Ok(Err(tungstenite::Error::Http(res))) => {
                            Err(format!("{}", res.status().as_u16()))
                        }
                        Ok(Err(tungstenite::Error::Io(e))) => Err(format!("{:?}", e.kind())),
                        Ok(Err(e)) => Err(e.to_string()),
                    }
                };
                until(deadline, async {
                    let result = attempt.await;
                    all_tried.fetch_add(1, Ordering::Relaxed);
                    match result {
                        Ok(mut ws) => {
                            bump(&outcomes, "101 (open)");
                            let now = open.fetch_add(1, Ordering::Relaxed) + 1;
                            max_open.fetch_max(now, Ordering::Relaxed);
                            // Idle: never send; read only to see the server close it.
                            while let Some(Ok(msg)) = ws.next().await {
                                if msg.is_close() {
                                    break;
                                }
                            }
                            open.fetch_sub(1, Ordering::Relaxed);
                            closed_by_server.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(kind) => bump(&outcomes, kind),
                    }
                })
                .await
            })
        })
        .collect();
    let mut unfinished = 0;
    for task in tasks {
        if !task.await.unwrap_or(true) {
            unfinished += 1;
        }
    }
    let tried_in = started.elapsed();
    let seen = watch.finish();
    let outcomes = take(&outcomes);
    let opened = outcomes.get("101 (open)").copied().unwrap_or(0);
    let refused: usize = outcomes
        .iter()
        .filter(|(k, _)| k.as_str() != "101 (open)")
        .map(|(_, n)| n)
        .sum();
    let untried = sockets - all_tried.load(Ordering::Relaxed);
    row(
        &format!(
            "2. {sockets} idle WebSockets `/ws/ping` ({handshakes} handshakes at a time, \
             held {seconds} s)"
        ),
        &seen,
        &format!(
            "{refused} of {sockets}: {}",
            counts_without(&outcomes, "101 (open)")
        ),
        &format!(
            "**{opened}** opened, at most **{}** open at once, {} closed by the server{}",
            max_open.load(Ordering::Relaxed),
            closed_by_server.load(Ordering::Relaxed),
            if untried > 0 {
                format!(", {untried} not tried by the end")
            } else {
                String::new()
            }
        ),
    );
    detail(format!(
        "websockets: outcomes {}; {unfinished} tasks still open or waiting at the deadline \
         ({:.1} s)",
        counts(&outcomes),
        tried_in.as_secs_f64()
    ));
    Ok(())
}

fn counts_without(map: &BTreeMap<String, usize>, skip: &str) -> String {
    let mut rest = map.clone();
    rest.remove(skip);
    counts(&rest)
}

// ------------------------------------------------------------------ 3. name scan

struct ScanPlan {
    names: usize,
    live: usize,
    owners: usize,
    pace_seconds: u64,
    seconds: u64,
    concurrency: usize,
    seed: Option<u64>,
    mix_live: bool,
}

/// An HTTP client from `ip` keeping `idle` connections alive; a request gives up after `timeout`.
fn client_from(ip: IpAddr, idle: usize, timeout: Duration) -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .local_address(ip)
        .pool_max_idle_per_host(idle)
        .tcp_nodelay(true)
        .timeout(timeout)
        .build()
        .map_err(|e| format!("cannot make an HTTP client: {e}"))
}

/// The honest senders: `live` channels from `owners` addresses 127.0.1.x.
async fn open_live_channels(base: &str, live: usize, owners: usize) -> Result<Vec<String>> {
    let owners = owners.clamp(1, 250);
    let mut tasks = Vec::new();
    for o in 0..owners {
        let share = live / owners + usize::from(o < live % owners);
        let ip = IpAddr::V4(Ipv4Addr::new(127, 0, 1, u8::try_from(o + 1).unwrap_or(1)));
        let http = client_from(ip, 1, Duration::from_secs(5))?;
        let url = format!("{base}/open");
        tasks.push(tokio::spawn(async move {
            let mut names = Vec::with_capacity(share);
            for _ in 0..share {
                let res = http
                    .post(&url)
                    .json(&serde_json::json!({}))
                    .send()
                    .await
                    .map_err(|e| format!("honest sender {ip}: {e}"))?;
                let status = res.status().as_u16();
                let body: serde_json::Value = res
                    .json()
                    .await
                    .map_err(|e| format!("honest sender {ip}: {e}"))?;
                let name = body["channel"].as_str().filter(|_| status == 200);
                match name {
                    Some(name) => names.push(name.to_owned()),
                    None => return Err(format!("honest sender {ip}: {status} {body}")),
                }
            }
            Ok::<_, String>(names)
        }));
    }
    let mut names = Vec::with_capacity(live);
    for task in tasks {
        names.extend(task.await.map_err(|e| e.to_string())??);
    }
    Ok(names)
}

type NameMaker = Box<dyn Fn(&mut StdRng) -> String>;

/// A random name of the same shape as the live ones: `NNNNNN-word` (the hardened server), or
/// D digits without a leading zero (the server before it gave out 4-digit names).
/// Also says how many names of that shape there are.
fn name_maker(live: &[String]) -> Result<(String, NameMaker, u64)> {
    if live.iter().all(|n| is_channel_name(n)) {
        return Ok((
            "NNNNNN-word".to_owned(),
            Box::new(|rng: &mut StdRng| channel_name(rng)),
            CHANNEL_NAMES,
        ));
    }
    let digits = live.first().map_or(0, String::len);
    if digits > 0
        && digits < 19
        && live
            .iter()
            .all(|n| n.len() == digits && n.bytes().all(|b| b.is_ascii_digit()))
    {
        let low = 10u64.pow(u32::try_from(digits - 1).unwrap_or(0));
        return Ok((
            format!("{digits} digits"),
            Box::new(move |rng: &mut StdRng| rng.gen_range(low..low * 10).to_string()),
            low * 9,
        ));
    }
    Err(format!(
        "the live channels' names have no shape this bench knows: {:?}",
        &live[..live.len().min(5)]
    ))
}

async fn scan_names(common: &Common, plan: &ScanPlan) -> Result<()> {
    let base = common.base();
    let live = open_live_channels(&base, plan.live, plan.owners).await?;
    let live_set: HashSet<String> = live.iter().cloned().collect();
    let (shape, make, space) = name_maker(&live)?;
    let seed = plan.seed.unwrap_or_else(|| rand::thread_rng().r#gen());
    let mut rng = StdRng::seed_from_u64(seed);
    let mut names: Vec<String> = (0..plan.names).map(|_| make(&mut rng)).collect();
    if plan.mix_live {
        names.extend(live.iter().cloned());
        names.shuffle(&mut rng);
    }
    let total = names.len();
    let first_live = names.iter().position(|n| live_set.contains(n));
    eprintln!(
        "scan: {} live channels from {} honest addresses; {total} names ({shape}, seed {seed})",
        live.len(),
        plan.owners
    );

    let http = client_from(common.attacker, plan.concurrency, Duration::from_secs(5))?;
    let names = Arc::new(names);
    let live_set = Arc::new(live_set);
    let next = Arc::new(AtomicUsize::new(0));
    let statuses = Arc::new(Mutex::new(BTreeMap::new()));
    let found = Arc::new(Mutex::new(HashSet::new()));
    // Live names the server looked up for the attacker (answered anything but 429).
    let live_looked_up = Arc::new(AtomicUsize::new(0));
    let watch = Watch::start(common)?;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(plan.seconds);
    // Request i leaves at started + i · gap (when paced).
    let gap = Duration::from_secs(plan.pace_seconds) / u32::try_from(total.max(1)).unwrap_or(1);
    let workers: Vec<_> = (0..plan.concurrency.max(1))
        .map(|_| {
            let http = http.clone();
            let names = Arc::clone(&names);
            let live_set = Arc::clone(&live_set);
            let next = Arc::clone(&next);
            let statuses = Arc::clone(&statuses);
            let found = Arc::clone(&found);
            let live_looked_up = Arc::clone(&live_looked_up);
            let url = format!("{base}/open");
            tokio::spawn(until(deadline, async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(name) = names.get(i) else { return };
                    let due = started + gap * u32::try_from(i).unwrap_or(u32::MAX);
                    tokio::time::sleep_until(due.into()).await;
                    let body = serde_json::json!({"channel": name, "role": "recipient"});
                    let status = match http.post(&url).json(&body).send().await {
                        Ok(res) => {
                            let status = res.status().as_u16();
                            let _ = res.bytes().await;
                            status.to_string()
                        }
                        Err(e) if e.is_timeout() => "timeout".to_owned(),
                        Err(_) => "error".to_owned(),
                    };
                    if live_set.contains(name) && status != "429" {
                        live_looked_up.fetch_add(1, Ordering::Relaxed);
                        if status == "200" {
                            found
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .insert(name.clone());
                        }
                    }
                    bump(&statuses, status);
                }
            }))
        })
        .collect();
    for worker in workers {
        let _ = worker.await;
    }
    let scan_time = started.elapsed();
    let seen = watch.finish();
    let statuses = take(&statuses);
    let asked: usize = statuses.values().sum();
    let found = found.lock().unwrap_or_else(|e| e.into_inner()).len();
    let refused = statuses.get("429").copied().unwrap_or(0);
    let get = |s: &str| statuses.get(s).copied().unwrap_or(0);
    row(
        &format!(
            "3{}. name scan: {} random `{shape}` names{} with {} channels live, \
             {} in flight, {} ({})",
            if plan.mix_live { "b" } else { "a" },
            plan.names,
            if plan.mix_live {
                " + the live ones shuffled in"
            } else {
                ""
            },
            live.len(),
            plan.concurrency,
            if plan.pace_seconds == 0 {
                "flat out".to_owned()
            } else {
                format!("paced over {} s", plan.pace_seconds)
            },
            if asked < total {
                format!("{asked} of {total} asked by the {} s limit", plan.seconds)
            } else {
                format!("all {total} asked in {:.1} s", scan_time.as_secs_f64())
            }
        ),
        &seen,
        &format!("{refused} of {asked} `429`"),
        &format!(
            "**{found}** of {} live channels found ({}); answers: 200 ×{}, 404 ×{}, 429 ×{}{}",
            live.len(),
            if plan.mix_live {
                // Not blind luck: each name the server looked up was live with this chance.
                format!(
                    "no goal: the list is {:.1} % live, so the {} names looked up should hold {:.2}",
                    100.0 * live.len() as f64 / total as f64,
                    asked - refused,
                    (asked - refused) as f64 * live.len() as f64 / total as f64
                )
            } else {
                "goal 0".to_owned()
            },
            get("200"),
            get("404"),
            refused,
            {
                let other = counts_without(
                    &statuses
                        .iter()
                        .filter(|(k, _)| !matches!(k.as_str(), "200" | "404"))
                        .map(|(k, v)| (k.clone(), *v))
                        .collect(),
                    "429",
                );
                if other == "none" {
                    String::new()
                } else {
                    format!(", {other}")
                }
            }
        ),
    );
    // What blind luck gives the names the server looked up, with 10,000 channels live (the
    // issue's figure) in the whole name space.
    let looked_up = asked - refused;
    let blind = (looked_up as f64 * 10_000.0 / space as f64).min(1.0);
    detail(format!(
        "scan{}: seed {seed}; the first live name was at position {} of {total}; {} live names \
         were looked up (answered other than 429); answers: {}; {looked_up} names looked up in \
         all, which with 10,000 channels live among {space} names hit one with \
         probability ≤ {blind:.1e}",
        if plan.mix_live {
            " (live names mixed in)"
        } else {
            ""
        },
        first_live.map_or("—".to_owned(), |p| (p + 1).to_string()),
        live_looked_up.load(Ordering::Relaxed),
        counts(&statuses)
    ));
    Ok(())
}

// ------------------------------------------------------------------ 4. draw_modulus flood

async fn draw_flood(
    common: &Common,
    concurrency: usize,
    seconds: u64,
    tail_seconds: u64,
) -> Result<()> {
    let base = common.base();
    // No timeout of its own: a draw waits as long as the server makes it (the flood's end stops it).
    let http = client_from(
        common.attacker,
        concurrency,
        Duration::from_secs(seconds + 60),
    )?;
    let statuses = Arc::new(Mutex::new(BTreeMap::new()));
    let answer_times = Arc::new(Mutex::new(Vec::new()));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let watch = Watch::start(common)?;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let workers: Vec<_> = (0..concurrency.max(1))
        .map(|_| {
            let http = http.clone();
            let statuses = Arc::clone(&statuses);
            let answer_times = Arc::clone(&answer_times);
            let in_flight = Arc::clone(&in_flight);
            let url = format!("{base}/api/draw_modulus");
            tokio::spawn(until(deadline, async move {
                loop {
                    in_flight.fetch_add(1, Ordering::Relaxed);
                    let sent = Instant::now();
                    let res = http
                        .post(&url)
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body("")
                        .send()
                        .await;
                    let status = match res {
                        Ok(res) => {
                            let status = res.status().as_u16();
                            let _ = res.bytes().await;
                            status.to_string()
                        }
                        Err(e) if e.is_timeout() => "timeout".to_owned(),
                        Err(_) => "error".to_owned(),
                    };
                    in_flight.fetch_sub(1, Ordering::Relaxed);
                    answer_times
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(sent.elapsed());
                    bump(&statuses, status);
                }
            }))
        })
        .collect();
    for worker in workers {
        let _ = worker.await;
    }
    let unanswered = in_flight.load(Ordering::Relaxed);
    let seen = watch.finish();
    let pid = common.server_pid;
    let tail_before = cpu_seconds(pid);
    tokio::time::sleep(Duration::from_secs(tail_seconds)).await;
    let tail = cpu_seconds(pid)
        .zip(tail_before)
        .map(|(after, before)| after - before);
    let statuses = take(&statuses);
    let mut times = std::mem::take(&mut *answer_times.lock().unwrap_or_else(|e| e.into_inner()));
    times.sort();
    let answered: usize = statuses.values().sum();
    let ok = statuses.get("200").copied().unwrap_or(0);
    let cores = seen.cpu.map(|s| s / seen.wall.as_secs_f64());
    row(
        &format!(
            "4. `draw_modulus` flood, pool empty: {concurrency} keep-alive connections, \
             one draw in flight on each ({seconds} s)"
        ),
        &seen,
        &if answered == ok {
            format!("none of {answered} answers")
        } else {
            format!(
                "{} of {answered} answers: {}",
                answered - ok,
                counts_without(&statuses, "200")
            )
        },
        &format!(
            "server CPU **{}** (goal ≤ 1 core); **{ok}** moduli handed out; {unanswered} \
             draws unanswered at the end",
            cores.map_or("?".to_owned(), |c| format!("{c:.2} cores"))
        ),
    );
    detail(format!(
        "draw-flood: answers {} ({:.0}/s), answer time p50 {} p99 {} max {}; server CPU in the \
         {tail_seconds} s after the flood: {}",
        counts(&statuses),
        answered as f64 / seen.wall.as_secs_f64(),
        ms(percentile(&times, 50.0)),
        ms(percentile(&times, 99.0)),
        ms(percentile(&times, 100.0)),
        tail.map_or("?".to_owned(), |s| format!(
            "{s:.1} s = {:.2} cores",
            s / tail_seconds.max(1) as f64
        ))
    ));
    Ok(())
}

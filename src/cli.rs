//! The `zkrelay` command line: `serve` (the default) runs the web app and relay; `send` and
//! `receive` are the Relay's participants; `peggy` and `victor` are Identify's.

pub mod identify;
mod prompt;
mod sink;
pub mod transfer;

use crate::server::{self, AppState, Config};
use clap::{Args, Parser, Subcommand};
use std::{path::PathBuf, process::ExitCode};
use tracing_subscriber::EnvFilter;

#[derive(Debug, Parser)]
#[command(
    name = "zkrelay",
    version,
    about = "Watch a zero-knowledge proof happen; relay a secret to whoever holds the code."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the web app, the HTTP API and the relay (the default).
    Serve(ServeArgs),
    /// Send files and folders, standard input (`-`) or a text to whoever enters the code this
    /// prints.
    Send(SendArgs),
    /// Receive what a sender sends; asks for the code (or reads ZKRELAY_CODE).
    Receive(ReceiveArgs),
    /// Register as a new Peggy and prove your identity to the Victor who picks you.
    Peggy(PeggyArgs),
    /// Run many identifications in memory, an honest and a bluffing Peggy against a Victor, and
    /// compare the bluffer's acceptance rate with the theory 2^-k·t (no server needed).
    Soundness(SoundnessArgs),
    /// Identify a waiting Peggy by name; exits 0 only if she is accepted.
    Victor(VictorArgs),
}

#[derive(Debug, Args)]
struct PeggyArgs {
    #[command(flatten)]
    relay: RelayArgs,
    /// The name Victors see in the list (1–40 characters).
    #[arg(long)]
    name: String,
    /// Number of secrets k (1–64); soundness per round is 2^-k.
    #[arg(long, short, default_value_t = crate::protocol::ffs::DEFAULT_K)]
    k: usize,
    /// Play a Peggy without the secret: forget them once the public key is registered and
    /// guess each challenge (a round passes with probability 2^-k). Victor is not told.
    #[arg(long)]
    cheat: bool,
    /// Use a readable, insecure demo modulus instead of one from the pool: `hac` (the
    /// Handbook's Example 10.27, n = 553913, with the book's key) or an even size of 16–64 bits.
    #[arg(long, value_name = "hac|BITS")]
    demo: Option<crate::api::DemoModulus>,
}

#[derive(Debug, Args)]
struct SoundnessArgs {
    /// Runs per Peggy (1–100000).
    #[arg(long, short = 'n', default_value_t = 1000,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(crate::protocol::identify::soundness::MAX_RUNS)))]
    runs: u32,
    /// Secrets k (1–64): a bluffer survives a round with probability 2^-k.
    #[arg(long, short, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=64))]
    k: u8,
    /// Rounds t per run (1–1024).
    #[arg(long, short = 't', default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1024))]
    rounds: u32,
    /// Bits of the Blum modulus made for the batch (even, 16–4096; under 1024 is a demo size).
    #[arg(long, default_value_t = 2048)]
    bits: u32,
}

#[derive(Debug, Args)]
struct VictorArgs {
    #[command(flatten)]
    relay: RelayArgs,
    /// The name of the Peggy to identify.
    #[arg(long)]
    peggy: String,
    /// Rounds t [default: the smallest t with k·t ≥ 40].
    #[arg(long, short = 't')]
    rounds: Option<u32>,
    /// Seconds to wait for a free Peggy of that name to appear.
    #[arg(long, default_value_t = 30)]
    wait: u64,
}

#[derive(Debug, Args)]
struct RelayArgs {
    /// The zkrelay server.
    #[arg(long, env = "ZKRELAY_SERVER", default_value = "http://127.0.0.1:3000")]
    server: String,
    /// Local address to connect from.
    #[arg(long, hide = true)]
    bind: Option<std::net::IpAddr>,
}

#[derive(Debug, Args)]
struct SendArgs {
    #[command(flatten)]
    relay: RelayArgs,
    /// Files and folders to send, or `-` for standard input. A folder is sent whole, in name
    /// order; symbolic links inside it are skipped (each named on stderr), never followed; one
    /// named here is followed. The recipient sees the list and accepts it before anything is
    /// written.
    #[arg(
        required_unless_present = "text",
        conflicts_with = "text",
        value_name = "PATH"
    )]
    paths: Vec<PathBuf>,
    /// Send this text instead of a file.
    #[arg(long)]
    text: Option<String>,
}

#[derive(Debug, Args)]
struct ReceiveArgs {
    #[command(flatten)]
    relay: RelayArgs,
    /// Folder for received files (never overwritten; names are sanitized).
    #[arg(long, short, default_value = ".")]
    dir: PathBuf,
    /// Write whatever arrives to standard output instead (a text or one file).
    #[arg(long)]
    stdout: bool,
    /// Accept several files without asking (without a terminal to ask on, they are declined
    /// unless this is given).
    #[arg(long, short)]
    yes: bool,
}

#[derive(Debug, Default, Args)]
struct ServeArgs {
    /// Settings file [default: ./Leptos.toml if present, else built-in defaults].
    #[arg(long, short, env = "ZKRELAY_CONFIG")]
    config: Option<PathBuf>,
}

/// Parses the command line and runs it; the process exit code says whether it succeeded.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("zkrelay: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command.unwrap_or(Command::Serve(ServeArgs::default())) {
        Command::Serve(args) => runtime.block_on(serve(args)),
        Command::Send(args) => runtime.block_on(send(args)),
        Command::Receive(args) => runtime.block_on(receive(args)),
        Command::Peggy(args) => runtime.block_on(peggy(args)),
        Command::Victor(args) => runtime.block_on(victor(args)),
        Command::Soundness(args) => soundness(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("zkrelay: {e}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("zkrelay=info,tower_http=info"));
    tracing_subscriber::fmt().with_env_filter(filter).init();
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    let path = args.config.or_else(|| {
        let default = PathBuf::from("Leptos.toml");
        default.exists().then_some(default)
    });
    let config = Config::load(path.as_deref())?;
    let listeners = server::Listeners::bind(&config)?;
    let state = AppState::new(config).await?;
    let names = |listeners: &[tokio::net::TcpListener]| {
        listeners
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .map(|a| a.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    tracing::info!(
        instance = %state.store.instance(),
        "zkrelay listening on http://{} (relay data on tcp {})",
        names(&listeners.http),
        names(&listeners.data)
    );
    server::run(listeners, state, shutdown_signal())
        .await
        .map_err(|e| format!("server failed: {e}"))?;
    tracing::info!("zkrelay stopped");
    Ok(())
}

/// The code from the environment (never from arguments, which other users can see).
fn code_from_env() -> Option<String> {
    std::env::var("ZKRELAY_CODE")
        .ok()
        .filter(|c| !c.trim().is_empty())
}

fn endpoint(args: &RelayArgs) -> transfer::Endpoint {
    transfer::Endpoint {
        server: args.server.clone(),
        bind: args.bind,
    }
}

async fn send(args: SendArgs) -> Result<(), String> {
    let payload = match (&args.text, args.paths.as_slice()) {
        (Some(text), _) => transfer::Payload::Text(text.clone()),
        (None, []) => return Err("nothing to send".into()),
        (None, [path]) if path.as_os_str() == "-" => transfer::Payload::Stdin,
        (None, paths) if paths.iter().any(|p| p.as_os_str() == "-") => {
            return Err("`-` (standard input) cannot be sent with other files".into());
        }
        // One file keeps the one-file header that every receiver (and the pages) reads.
        (None, [path]) if path.is_file() => transfer::Payload::File(path.clone()),
        (None, paths) => transfer::Payload::Files(paths.to_vec()),
    };
    let mut code = code_from_env();
    loop {
        let sent = transfer::send(
            &endpoint(&args.relay),
            payload.clone(),
            code.as_deref(),
            |phrase| {
                eprintln!("On the other side run `zkrelay receive` and enter:\n\n    {phrase}\n");
            },
        )
        .await;
        match sent {
            Ok(done) => {
                eprintln!("delivered: {} ({})", done.summary(), done.kind);
                return Ok(());
            }
            // A stranger (or a typo) on the channel: offer a fresh channel and code at once.
            Err(e) if e.start_again() => {
                let again =
                    !matches!(payload, transfer::Payload::Stdin) && ask_start_again(&e.to_string());
                if !again {
                    return Err(format!(
                        "{e}\nRun the same command again for a fresh channel and code."
                    ));
                }
                code = None;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Asks on the terminal whether to start again on a fresh channel (never when stdin is not a
/// terminal: scripts get the error).
fn ask_start_again(why: &str) -> bool {
    use std::io::{BufRead, IsTerminal, Read, Write};
    if !std::io::stdin().is_terminal() {
        return false;
    }
    eprint!("{why}\nStart again on a fresh channel with a new code? [Y/n] ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    let read = std::io::stdin().lock().take(64).read_line(&mut line);
    read.is_ok() && matches!(line.trim(), "" | "y" | "Y" | "yes")
}

async fn receive(args: ReceiveArgs) -> Result<(), String> {
    let phrase = match code_from_env() {
        Some(code) => code,
        None => prompt::read_phrase()?,
    };
    let destination = if args.stdout {
        transfer::Destination::Stdout
    } else {
        transfer::Destination::Folder(args.dir.clone())
    };
    let yes = args.yes;
    let consent: transfer::Consent = Box::new(move |manifest| ask_accept(manifest, yes));
    let done =
        transfer::receive_asking(&endpoint(&args.relay), phrase.trim(), &destination, consent)
            .await?;
    match (&done.path, &done.text) {
        (Some(path), _) => eprintln!("received {} into {}", done.summary(), path.display()),
        (None, Some(text)) => println!("{text}"),
        (None, None) if !done.files.is_empty() => {
            eprintln!("received {} into:", done.summary());
            for path in &done.files {
                eprintln!("  {}", path.display());
            }
        }
        (None, None) => eprintln!("received {}", done.summary()),
    }
    Ok(())
}

/// Entries of a manifest shown before the question.
const SHOWN_ENTRIES: usize = 20;

/// Shows what several files would be written and asks on the terminal (`yes` accepts without
/// asking; without a terminal, the answer is no).
fn ask_accept(manifest: &crate::protocol::relay::Manifest, yes: bool) -> Result<(), String> {
    use std::io::{BufRead, IsTerminal, Read, Write};
    let entries = manifest.entries();
    let files = manifest.file_count();
    eprintln!(
        "The sender offers {files} files and {} folders, {} in all:",
        entries.len() - files,
        readable_size(manifest.total_size())
    );
    for entry in entries.iter().take(SHOWN_ENTRIES) {
        eprintln!("  {}", entry.display());
    }
    if entries.len() > SHOWN_ENTRIES {
        eprintln!("  … and {} more", entries.len() - SHOWN_ENTRIES);
    }
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(
            "several files were offered and there is no terminal to ask: declined \
                    (receive with --yes to accept them)"
                .into(),
        );
    }
    eprint!("Accept? [y/N] ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    let read = std::io::stdin().lock().take(64).read_line(&mut line);
    if read.is_ok() && matches!(line.trim(), "y" | "Y" | "yes") {
        Ok(())
    } else {
        Err("you declined the files; nothing was written".into())
    }
}

/// `n` bytes for people: `512 bytes`, `3.4 MB`.
fn readable_size(n: u64) -> String {
    match n {
        0..1_000 => format!("{n} bytes"),
        1_000..1_000_000 => format!("{:.1} kB", n as f64 / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1} MB", n as f64 / 1e6),
        _ => format!("{:.1} GB", n as f64 / 1e9),
    }
}

fn print_seen(seen: identify::Seen) {
    if let Some(line) = identify::describe(&seen) {
        eprintln!("{line}");
    }
}

fn verdict_result(outcome: identify::Outcome) -> Result<(), String> {
    if outcome.accepted {
        println!("accepted");
        Ok(())
    } else {
        println!("rejected");
        Err(format!(
            "Victor rejected after {} of {} rounds",
            outcome.rounds_passed, outcome.rounds
        ))
    }
}

async fn peggy(args: PeggyArgs) -> Result<(), String> {
    let outcome = identify::peggy(
        &endpoint(&args.relay),
        &args.name,
        args.k,
        args.cheat,
        args.demo,
        print_seen,
    )
    .await?;
    verdict_result(outcome)
}

fn soundness(args: &SoundnessArgs) -> Result<(), String> {
    use crate::protocol::{
        ffs::{BlumModulus, SecretKey},
        identify::soundness::{Contender, Tally},
    };
    let mut rng = crate::rng::os_rng();
    let modulus = BlumModulus::generate_demo(&mut rng, args.bits)
        .map_err(|e| format!("cannot make a {}-bit modulus: {e}", args.bits))?;
    let key = SecretKey::generate(&mut rng, &modulus, usize::from(args.k))
        .map_err(|e| format!("cannot make keys: {e}"))?;
    let public = key.public_key();
    println!(
        "{} runs of t = {} rounds each, k = {}, |n| = {} bits{}",
        args.runs,
        args.rounds,
        args.k,
        modulus.bits(),
        if modulus.is_demo() {
            " (demo size: insecure)"
        } else {
            ""
        }
    );
    for (who, contender) in [
        ("honest Peggy", Contender::honest(&key)),
        (
            "Peggy without the secret",
            Contender::cheating(public.clone()),
        ),
    ] {
        let mut tally = Tally::new(public.k(), args.rounds);
        for _ in 0..args.runs {
            tally.record(
                contender
                    .run(&mut rng, public, args.rounds)
                    .map_err(|e| e.to_string())?,
            );
        }
        let caught: Vec<String> = tally
            .caught()
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(i, n)| format!("{}:{n}", i + 1))
            .collect();
        println!(
            "{who}: accepted {} of {} = {:.4}; a bluffer's 2^-{} = {:.4} ± {:.4} (3σ), measured at {:.2}σ; caught in round {}",
            tally.accepted(),
            tally.runs(),
            tally.rate(),
            u32::from(args.k) * args.rounds,
            tally.expected(),
            3.0 * tally.sigma(),
            tally.deviation(),
            if caught.is_empty() {
                "none".to_owned()
            } else {
                caught.join(" ")
            }
        );
    }
    Ok(())
}

async fn victor(args: VictorArgs) -> Result<(), String> {
    let endpoint = endpoint(&args.relay);
    let wait = std::time::Duration::from_secs(args.wait);
    let peggy = identify::find_peggy(&endpoint, &args.peggy, wait).await?;
    let k = usize::try_from(peggy.k).unwrap_or(crate::protocol::ffs::DEFAULT_K);
    let rounds = args
        .rounds
        .unwrap_or_else(|| crate::protocol::ffs::default_rounds(k));
    let outcome = identify::victor(&endpoint, &peggy.peggy_id, rounds, print_seen).await?;
    verdict_result(outcome)
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing open requests");
}

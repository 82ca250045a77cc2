//! Identify under load (issue 4): a scripted benchmark, not a timed test. `scripts/bench-identify`
//! builds and starts release servers with throwaway databases and runs one part of this program
//! against each; every part prints a Markdown table of what it measured (stdout) and its progress
//! (stderr).
//!
//! `zkrelay-load --help` lists the parts (`single`, `relay`, `load`, `idle`) and their options.
//!
//! Every client socket binds its own loopback source address (127.K.X.Y), so each "person" has an
//! address of their own: a run admits two addresses, and channel opens are limited per address.

mod client;
mod forwarder;
mod idle;
mod load;
mod relay;
mod report;
mod single;

use clap::{Parser, Subcommand};

pub(crate) type Result<T> = std::result::Result<T, String>;
pub(crate) type Ws = zkrelay::cli::identify::Socket;

/// Identify under load: the parts `scripts/bench-identify` runs against servers it starts.
#[derive(Parser)]
#[command(name = "zkrelay-load", version)]
struct Cli {
    #[command(subcommand)]
    part: Part,
}

#[derive(Subcommand)]
enum Part {
    /// CLI vs CLI: `zkrelay peggy` and `zkrelay victor` processes, one full run each time.
    Single(single::Args),
    /// Challenge → response through zkrelay and through a minimal forwarder, alternating blocks.
    Relay(relay::Args),
    /// N concurrent pairs, one round per second each.
    Load(load::Args),
    /// N registered, connected, waiting Peggys; the server's memory before and after.
    Idle(idle::Args),
    /// Internal: the minimal forwarder; prints `listening ADDR`, exits when stdin closes.
    #[command(hide = true)]
    Forwarder,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
        .and_then(|runtime| {
            runtime.block_on(async {
                match cli.part {
                    Part::Single(args) => single::single(args).await,
                    Part::Relay(args) => relay::relay(args).await,
                    Part::Load(args) => load::load(args).await,
                    Part::Idle(args) => idle::idle(args).await,
                    Part::Forwarder => forwarder::forwarder().await,
                }
            })
        });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("zkrelay-load: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

//! The `zkrelay` command line: `serve` (the default) runs the web app and relay.

use crate::server::{self, AppState, Config};
use clap::{Args, Parser, Subcommand};
use std::{path::PathBuf, process::ExitCode};
use tokio::net::TcpListener;
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
    let listen = config.server.listen;
    let data_listen = config.relay.data_listen;
    let state = AppState::new(config).await?;
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let data_listener = TcpListener::bind(data_listen)
        .await
        .map_err(|e| format!("cannot listen on {data_listen} (relay data port): {e}"))?;
    tracing::info!("zkrelay listening on http://{listen} (relay data on tcp {data_listen})");
    server::run(listener, Some(data_listener), state, shutdown_signal())
        .await
        .map_err(|e| format!("server failed: {e}"))?;
    tracing::info!("zkrelay stopped");
    Ok(())
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

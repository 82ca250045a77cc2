//! A client on the pure protocol: sockets from their own loopback addresses, registrations, a Peggy.

use futures::StreamExt;
use serde::de::DeserializeOwned;
use std::{
    net::{IpAddr, SocketAddr},
    time::{Duration, Instant},
};
use zkrelay::{
    api::{DrawnModulus, Registered},
    cli::{
        identify::{self as cli, next, send},
        transfer::Endpoint,
    },
    protocol::{
        ffs::{self, BlumModulus, PublicKey, SecretKey, wire},
        identify::{Message as Wire, PeggyRun},
    },
    rng::os_rng,
};

use crate::{Result, Ws};

/// `--server http://IP:PORT`: the server under test.
#[derive(clap::Args)]
pub(crate) struct Server {
    /// The server's base URL, http://IP:PORT.
    #[arg(long = "server")]
    url: String,
}

/// How many Peggys register at once, and their k.
#[derive(clap::Args)]
pub(crate) struct Setup {
    /// Peggy's k.
    #[arg(long, default_value_t = 20)]
    pub k: usize,
    /// Registrations in flight at once while setting up.
    #[arg(long, default_value_t = 8)]
    pub setup_concurrency: usize,
}

impl Server {
    /// The base URL without a trailing slash, and the socket address.
    pub(crate) fn parse(&self) -> Result<(String, SocketAddr)> {
        let base = self.url.trim_end_matches('/');
        let addr = base
            .strip_prefix("http://")
            .and_then(|a| a.parse().ok())
            .ok_or_else(|| format!("--server must be http://IP:PORT, not {:?}", self.url))?;
        Ok((base.to_owned(), addr))
    }
}

/// Opens a WebSocket at `path` on `server` from `bind` (the CLI's own client).
pub(crate) async fn connect(server: SocketAddr, bind: IpAddr, path: &str) -> Result<Ws> {
    let endpoint = Endpoint {
        server: format!("http://{server}"),
        bind: Some(bind),
    };
    cli::connect(&endpoint, path).await
}

/// Closes politely and waits (briefly) for the other end to close too.
pub(crate) async fn hang_up(mut ws: Ws) {
    let _ = ws.close(None).await;
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
}

pub(crate) async fn server_fn<T: DeserializeOwned>(
    http: &reqwest::Client,
    base: &str,
    name: &str,
    args: &[(&str, &str)],
) -> Result<T> {
    cli::call_server_fn(http, base, name, args).await
}

/// Draws a modulus, makes a key with k secrets and registers it: the query that opens Peggy's
/// socket (`peggy_id=…&secret=…`) and her key.
pub(crate) async fn register(
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
pub(crate) fn peggy_id_of(seat: &str) -> &str {
    seat.strip_prefix("peggy_id=")
        .and_then(|rest| rest.split('&').next())
        .unwrap_or_default()
}

/// Connects Victor to Peggy `peggy_id` on zkrelay from `bind`: his socket and, from the server's
/// `paired`, her public key. A Peggy whose socket just opened may not be seated yet (the server
/// seats her after the handshake); then Victor is told so and tries again shortly, up to 5 s.
pub(crate) async fn victor_paired(
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
pub(crate) async fn run_peggy(mut ws: Ws, key: SecretKey) -> Result<()> {
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

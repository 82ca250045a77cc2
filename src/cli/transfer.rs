//! `zkrelay send` and `zkrelay receive`: the Relay's CLI participants (docs/PROTOCOL.md).
//!
//! The flows drive the pure [`crate::protocol::relay`] code over the relay's HTTP API and a raw TCP
//! data connection. They are library functions so tests run them in-process against a real server.
//! A data connection that drops is connected again, a few times with growing pauses, and the
//! transfer goes on from the bytes the recipient kept ([`resume`]).

mod frames;
mod outgoing;
mod progress;
mod receiving;
mod resume;
mod sending;
mod walk;

use crate::{
    api::relay::{POLL_SECS, RelayClient, Seat, TransferError, Transport, handshake},
    protocol::relay::{Code, Manifest, resumable_data_hello, split_phrase},
};
use outgoing::{Outgoing, open_payload};
use rand::rngs::OsRng;
use receiving::Receiving;
use resume::{Failure, Link};
use sending::Sending;
use std::{
    net::{IpAddr, SocketAddr},
    path::PathBuf,
    time::{Duration, Instant},
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpSocket, TcpStream},
};

/// How long each side waits for the other before giving up.
const PEER_TIMEOUT: Duration = Duration::from_secs(600);

/// Where and how to reach the relay.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// Base URL of the server, e.g. `http://127.0.0.1:3000`.
    pub server: String,
    /// Local address to connect from (tests act as different people this way).
    pub bind: Option<IpAddr>,
}

/// What to send.
#[derive(Debug, Clone)]
pub enum Payload {
    Text(String),
    File(PathBuf),
    /// Several files and folders (each folder walked in name order, symbolic links in it
    /// skipped): a manifest, then their contents.
    Files(Vec<PathBuf>),
    /// Standard input, sent as a file named `stdin`.
    Stdin,
}

/// Asked before several files are written, with their checked manifest: `Ok` to accept, else
/// why not (the sender is told no, nothing is written, and `receive` fails with the reason).
pub type Consent = Box<dyn FnOnce(&Manifest) -> std::result::Result<(), String> + Send>;

/// Where received content goes.
#[derive(Debug, Clone)]
pub enum Destination {
    /// Files into this folder (sanitized names, never overwriting); text to stdout.
    Folder(PathBuf),
    /// Everything to standard output.
    Stdout,
}

/// What a finished transfer reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub kind: String,
    pub bytes: u64,
    /// Where a received file was written (receive side).
    pub path: Option<PathBuf>,
    /// Where each top-level file or folder of several went (receive side).
    pub files: Vec<PathBuf>,
    /// Received text (receive side, when the destination is a folder).
    pub text: Option<String>,
    /// How long the encrypted data took, from the first stapled connection to the
    /// acknowledgement (pauses to reconnect included).
    pub data_time: Duration,
    /// SHA-256 of the whole content (hex).
    pub sha256: Option<String>,
    /// The offsets at which the transfer resumed after dropped connections.
    pub resumed_at: Vec<u64>,
}

impl Delivered {
    /// "N bytes in S s (R MB/s), SHA-256 H", and where it resumed.
    pub fn summary(&self) -> String {
        let secs = self.data_time.as_secs_f64();
        let mut text = format!(
            "{} bytes in {secs:.2} s ({:.0} MB/s)",
            self.bytes,
            self.bytes as f64 / secs.max(1e-6) / 1e6
        );
        if let Some(sha256) = &self.sha256 {
            text += &format!(", SHA-256 {sha256}");
        }
        for offset in &self.resumed_at {
            text += &format!(", resumed at {offset} of {}", self.bytes);
        }
        text
    }
}

type Result<T> = std::result::Result<T, TransferError>;

/// An HTTP client for one server, connecting from the endpoint's address.
pub(super) struct Api {
    pub(super) http: reqwest::Client,
    pub(super) base: String,
}

impl Api {
    pub(super) fn new(endpoint: &Endpoint) -> Result<Self> {
        let mut builder = reqwest::Client::builder().timeout(Duration::from_secs(POLL_SECS + 15));
        if let Some(ip) = endpoint.bind {
            builder = builder.local_address(ip);
        }
        let http = builder
            .build()
            .map_err(|e| format!("cannot make an HTTP client: {e}"))?;
        Ok(Self {
            http,
            base: endpoint.server.trim_end_matches('/').to_owned(),
        })
    }

    /// The relay's routes over this client.
    pub(super) fn relay(self) -> RelayClient<Self> {
        RelayClient::new(self).giving_up_after(PEER_TIMEOUT.as_secs())
    }
}

impl Transport for Api {
    async fn request(
        &self,
        path: &str,
        body: Option<String>,
    ) -> std::result::Result<(u16, String), String> {
        let url = format!("{}{path}", self.base);
        let req = match body {
            Some(body) => self
                .http
                .post(url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body),
            None => self.http.get(url),
        };
        let res = req.send().await.map_err(|e| e.to_string())?;
        let status = res.status().as_u16();
        let text = res.text().await.map_err(|e| e.to_string())?;
        Ok((status, text))
    }
}

/// Sends `payload` to whoever enters the phrase this prints (via `announce`). `code` is used if
/// given (a phrase `channel-words` also names the channel), else a random code on a random channel.
pub async fn send(
    endpoint: &Endpoint,
    payload: Payload,
    code: Option<&str>,
    announce: impl FnOnce(&str),
) -> Result<Delivered> {
    let (channel_name, code) = match code {
        None => (None, Code::generate(&mut OsRng)),
        Some(text) => match Code::parse(text) {
            Ok(code) => (None, code),
            Err(_) => {
                let (channel, code) = split_phrase(text).map_err(|e| e.to_string())?;
                (Some(channel), code)
            }
        },
    };
    // Everything that can fail locally fails before the relay is involved.
    let outgoing = open_payload(&payload).await?;
    let api = Api::new(endpoint)?.relay();
    let seat = api.open_sender(channel_name.as_deref()).await?;
    let result = async {
        let confirmed = handshake::sender(&api, &seat, &code, OsRng, announce).await?;
        let link = Link {
            api: &api,
            endpoint,
            seat: &seat,
            confirmed: &confirmed,
        };
        send_over(&link, Sending::new(outgoing)).await
    }
    .await;
    if result.is_err() {
        api.close(&seat).await;
    }
    result
}

/// Receives a text or one file from the sender who shared `phrase_text` (`channel-words`);
/// several files are declined (see [`receive_asking`]).
pub async fn receive(
    endpoint: &Endpoint,
    phrase_text: &str,
    destination: &Destination,
) -> Result<Delivered> {
    let decline: Consent =
        Box::new(|_| Err("several files were offered and not asked for: declined".into()));
    receive_asking(endpoint, phrase_text, destination, decline).await
}

/// Receives from the sender who shared `phrase_text`; several files are written only once
/// `consent` accepts their manifest.
pub async fn receive_asking(
    endpoint: &Endpoint,
    phrase_text: &str,
    destination: &Destination,
    consent: Consent,
) -> Result<Delivered> {
    let (channel, code) = split_phrase(phrase_text).map_err(|e| e.to_string())?;
    if let Destination::Folder(dir) = destination
        && !dir.is_dir()
    {
        return Err(format!("{} is not a folder", dir.display()).into());
    }
    let api = Api::new(endpoint)?.relay();
    let seat = api.open_recipient(&channel).await?;
    let result = async {
        let confirmed = handshake::recipient(&api, &seat, &code, OsRng).await?;
        let link = Link {
            api: &api,
            endpoint,
            seat: &seat,
            confirmed: &confirmed,
        };
        receive_over(&link, Receiving::new(destination, consent)).await
    }
    .await;
    if result.is_err() {
        api.close(&seat).await;
    }
    result
}

/// Sends over as many data connections as it takes.
async fn send_over(link: &Link<'_>, sending: Sending) -> Result<Delivered> {
    let started = Instant::now();
    let (sending, result) = link.carry(true, sending, Sending::run).await;
    result?;
    let sending = sending.ok_or("the sending thread failed")?;
    Ok(Delivered {
        kind: sending.kind().to_owned(),
        bytes: sending.total(),
        path: None,
        files: Vec::new(),
        text: None,
        data_time: started.elapsed(),
        sha256: sending.digest.map(|d| crate::protocol::hex::encode(&d)),
        resumed_at: sending.resumed_at,
    })
}

/// Receives over as many data connections as it takes; on failure nothing is kept.
async fn receive_over(link: &Link<'_>, receiving: Receiving) -> Result<Delivered> {
    let started = Instant::now();
    match link.carry(false, receiving, Receiving::run).await {
        (Some(receiving), Ok(())) => {
            let done = tokio::task::spawn_blocking(move || receiving.finish(started.elapsed()));
            done.await.map_err(|_| "the receiving thread failed")?
        }
        (receiving, result) => {
            if let Some(receiving) = receiving {
                receiving.discard();
            }
            Err(result
                .err()
                .unwrap_or_else(|| "the receiving thread failed".into()))
        }
    }
}

/// Calls `open`, connects the TCP data connection and waits for the relay's `ok` (`ok 3`: the
/// other side is resumable too, `ok 2`: it is not). Returns the data version both speak.
async fn connect_data(
    api: &RelayClient<Api>,
    endpoint: &Endpoint,
    seat: &Seat,
    h_k: &str,
) -> std::result::Result<(TcpStream, u8), Failure> {
    let opened = api.open_data(seat).await?;
    let port = opened
        .data_port
        .ok_or("the relay has no TCP data port; use the web page")?;
    let host = reqwest::Url::parse(&endpoint.server)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .ok_or("the server URL has no host")?;
    // An IPv6 literal comes bracketed: `[::1]`.
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    let ip: IpAddr = match literal.parse() {
        Ok(ip) => ip,
        Err(_) => tokio::net::lookup_host((host.as_str(), port))
            .await
            .ok()
            .and_then(|mut a| a.next())
            .map(|a| a.ip())
            .ok_or_else(|| format!("cannot resolve {host}"))?,
    };
    let socket = if ip.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(|e| e.to_string())?;
    if let Some(bind) = endpoint.bind {
        socket
            .bind(SocketAddr::new(bind, 0))
            .map_err(|e| e.to_string())?;
    }
    let mut stream = socket
        .connect(SocketAddr::new(ip, port))
        .await
        .map_err(|e| Failure::Dropped(format!("cannot open the data connection: {e}")))?;
    let _ = stream.set_nodelay(true);
    let hello = resumable_data_hello(&seat.channel, &seat.uuid, h_k);
    stream
        .write_all(format!("{hello}\n").as_bytes())
        .await
        .map_err(|e| Failure::Dropped(e.to_string()))?;
    let mut line = Vec::new();
    let deadline = Instant::now() + PEER_TIMEOUT;
    loop {
        let byte = tokio::time::timeout_at(deadline.into(), stream.read_u8())
            .await
            .map_err(|_| "the other side never connected")?
            .map_err(|_| "the relay closed the data connection")?;
        if byte == b'\n' || line.len() > 512 {
            break;
        }
        line.push(byte);
    }
    let line = String::from_utf8_lossy(&line);
    match &*line {
        "ok" | "ok 2" => Ok((stream, 2)),
        "ok 3" => Ok((stream, 3)),
        // The relay has not yet seen this side's previous connection end: try again.
        busy if busy.starts_with("error conflict this side is already connected") => Err(
            Failure::Dropped("the relay still holds the previous connection".into()),
        ),
        _ => Err(format!("the relay refused the data connection: {line}").into()),
    }
}

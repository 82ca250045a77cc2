//! `zkrelay send` and `zkrelay receive`: the Relay's CLI participants (docs/PROTOCOL.md).
//!
//! The flows drive the pure [`crate::protocol::relay`] code over the relay's HTTP API and a raw TCP
//! data connection. They are library functions so tests run them in-process against a real server.

mod frames;
mod progress;
mod receiving;
mod walk;

use crate::{
    api::relay::{POLL_SECS, RelayClient, Seat, TransferError, Transport, handshake},
    protocol::relay::{Code, Header, MAX_MANIFEST_BYTES, Manifest, data_hello, split_phrase},
};
use frames::stream_out;
use rand::rngs::OsRng;
use receiving::stream_in;
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
    /// How long the encrypted data took, from the stapled connection to the acknowledgement.
    pub data_time: Duration,
}

impl Delivered {
    /// "N bytes in S s (R MB/s)".
    pub fn summary(&self) -> String {
        let secs = self.data_time.as_secs_f64();
        format!(
            "{} bytes in {secs:.2} s ({:.0} MB/s)",
            self.bytes,
            self.bytes as f64 / secs.max(1e-6) / 1e6
        )
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
        let stream = connect_data(&api, endpoint, &seat, &confirmed.h_k).await?;
        stream_out(stream, &confirmed.key, &seat.channel, outgoing).await
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
        let stream = connect_data(&api, endpoint, &seat, &confirmed.h_k).await?;
        stream_in(stream, &confirmed.key, &seat.channel, destination, consent).await
    }
    .await;
    if result.is_err() {
        api.close(&seat).await;
    }
    result
}

/// Calls `open`, connects the TCP data connection and waits for the relay's `ok`.
async fn connect_data(
    api: &RelayClient<Api>,
    endpoint: &Endpoint,
    seat: &Seat,
    h_k: &str,
) -> Result<TcpStream> {
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
        .map_err(|e| format!("cannot open the data connection: {e}"))?;
    let _ = stream.set_nodelay(true);
    stream
        .write_all(format!("{}\n", data_hello(&seat.channel, &seat.uuid, h_k)).as_bytes())
        .await
        .map_err(|e| e.to_string())?;
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
    if line != "ok" {
        return Err(format!("the relay refused the data connection: {line}").into());
    }
    Ok(stream)
}

/// The content to send, read on a blocking thread.
type Source = Box<dyn std::io::Read + Send>;

/// What the sender seals: the header, the manifest (several files) and the content.
pub(super) struct Outgoing {
    header: Header,
    manifest: Option<Vec<u8>>,
    source: Source,
}

async fn open_payload(payload: &Payload) -> Result<Outgoing> {
    let (header, source): (Header, Source) = match payload {
        Payload::Text(text) => (
            Header::text(text.len() as u64),
            Box::new(std::io::Cursor::new(text.clone().into_bytes())),
        ),
        Payload::Files(paths) => {
            let paths = paths.clone();
            let (manifest, source) = tokio::task::spawn_blocking(move || walk::collect(&paths))
                .await
                .map_err(|_| "the thread reading the folders failed")??;
            let bytes = manifest.encode();
            if bytes.len() as u64 > MAX_MANIFEST_BYTES {
                return Err(
                    "the list of these files is over 16 MiB: send an archive instead".into(),
                );
            }
            return Ok(Outgoing {
                header: Header::files(bytes.len() as u64, manifest.total_size()),
                manifest: Some(bytes),
                source: Box::new(source),
            });
        }
        Payload::File(path) => {
            let file = std::fs::File::open(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let size = file.metadata().map_err(|e| e.to_string())?.len();
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "file".into());
            (Header::file(name, size), Box::new(file))
        }
        Payload::Stdin => {
            // Standard input's length is unknown ahead: read it fully (bounded by memory).
            let mut bytes = Vec::new();
            tokio::io::stdin()
                .read_to_end(&mut bytes)
                .await
                .map_err(|e| format!("cannot read standard input: {e}"))?;
            (
                Header::file("stdin".into(), bytes.len() as u64),
                Box::new(std::io::Cursor::new(bytes)),
            )
        }
    };
    Ok(Outgoing {
        header,
        manifest: None,
        source,
    })
}

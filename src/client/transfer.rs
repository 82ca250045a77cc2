//! The Relay in the browser: the same protocol as `zkrelay send` / `receive` (docs/PROTOCOL.md),
//! with the relay's HTTP API over `fetch` and the data connection over a WebSocket.
//!
//! Content stays in JavaScript memory: the sender reads its text or files slice by slice and
//! keeps several frames sealing at once (see [`super::webcrypto`]); the recipient opens frames as
//! they arrive and collects each file's plaintext into a `Blob`. Several files travel as one
//! transfer of kind `files` (stream version 2: a manifest, the recipient's yes or no, then the
//! contents back to back): transfer/outgoing.rs and transfer/incoming.rs; transfer/data.rs is the
//! data connection.

mod data;
mod incoming;
mod outgoing;

use crate::{
    api::relay::{RelayClient, TransferError, Transport, handshake},
    protocol::relay::{Code, MAX_FRAME_PLAINTEXT, Manifest, split_phrase},
};
use data::{Data, Throttle, directions};
use futures::channel::oneshot;
use gloo_net::http::Request;
use rand::rngs::OsRng;

/// Bytes the socket may hold unsent before the sender waits.
const MAX_BUFFERED: u32 = 8 << 20;
/// Bytes of a file read per slice.
const READ_SLICE: usize = 32 * MAX_FRAME_PLAINTEXT;
/// Frames being sealed or opened at once.
const IN_FLIGHT: usize = 16;
/// Largest content a browser accepts into memory (all files together).
pub const MAX_BROWSER_BYTES: u64 = 512 << 20;

/// What the sender hands over.
#[derive(Debug, Clone)]
pub enum Outgoing {
    Text(String),
    /// A file chosen in the page; read slice by slice while it is sent.
    File(web_sys::File),
    /// Several files, sent as one transfer (the recipient sees the list and answers first).
    Files(Vec<web_sys::File>),
}

/// What the recipient got.
#[derive(Debug, Clone)]
pub enum Incoming {
    Text(String),
    /// One file or several, in the sender's order.
    Files(Vec<ReceivedFile>),
}

/// One received file.
#[derive(Debug, Clone)]
pub struct ReceivedFile {
    /// The download's name: one sanitized component.
    pub name: String,
    /// Its path in the transfer, for people (`dir/a.txt`); the name for a single file.
    pub shown: String,
    pub size: u64,
    pub blob: web_sys::Blob,
}

type Result<T> = std::result::Result<T, TransferError>;

/// The relay's HTTP API over `fetch`, from this page's origin.
struct Fetch;

impl Transport for Fetch {
    async fn request(
        &self,
        path: &str,
        body: Option<String>,
    ) -> std::result::Result<(u16, String), String> {
        let sent = match body {
            Some(body) => {
                Request::post(path)
                    .header("content-type", "application/json")
                    .body(body)
                    .map_err(|e| e.to_string())?
                    .send()
                    .await
            }
            None => Request::get(path).send().await,
        }
        .map_err(|e| e.to_string())?;
        let status = sent.status();
        let text = sent.text().await.map_err(|e| e.to_string())?;
        Ok((status, text))
    }
}

/// The page waits as long as the person does.
fn relay() -> RelayClient<Fetch> {
    RelayClient::new(Fetch)
}

/// Sends `outgoing`; `on_phrase` gets the phrase to read aloud, `on_progress` (done, total) bytes.
pub async fn send(
    outgoing: Outgoing,
    on_phrase: impl Fn(String),
    on_progress: impl Fn(u64, u64),
) -> Result<u64> {
    let size = match &outgoing {
        Outgoing::Text(t) => t.len() as f64,
        Outgoing::File(file) => file.size(),
        Outgoing::Files(files) => {
            outgoing::manifest_of(files)?;
            files.iter().map(|f| f.size()).sum()
        }
    };
    if size > MAX_BROWSER_BYTES as f64 {
        return Err("that is too large for a browser tab; use the zkrelay CLI".into());
    }
    let code = Code::generate(&mut OsRng);
    let api = relay();
    let seat = api.open_sender(None).await?;
    let result = async {
        let confirmed =
            handshake::sender(&api, &seat, &code, OsRng, |p| on_phrase(p.to_owned())).await?;
        api.open_data(&seat).await?;
        let mut data = Data::open(&seat, &confirmed.h_k).await?;
        outgoing::stream_out(
            &mut data,
            &confirmed.key,
            &seat.channel,
            outgoing,
            &on_progress,
        )
        .await
    }
    .await;
    if result.is_err() {
        api.close(&seat).await;
    }
    result
}

/// Receives from the sender who shared `phrase_text`. For several files, `ask` is shown their
/// checked manifest and answers (through the receiver it returns) whether to take them.
pub async fn receive(
    phrase_text: &str,
    on_progress: impl Fn(u64, u64),
    ask: impl Fn(Manifest) -> oneshot::Receiver<bool>,
) -> Result<Incoming> {
    let (channel, code) = split_phrase(phrase_text).map_err(|e| e.to_string())?;
    let api = relay();
    let seat = api.open_recipient(&channel).await?;
    let result = async {
        let confirmed = handshake::recipient(&api, &seat, &code, OsRng).await?;
        api.open_data(&seat).await?;
        let mut data = Data::open(&seat, &confirmed.h_k).await?;
        incoming::stream_in(&mut data, &confirmed.key, &seat.channel, &on_progress, &ask).await
    }
    .await;
    if result.is_err() {
        api.close(&seat).await;
    }
    result
}

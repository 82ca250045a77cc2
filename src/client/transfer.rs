//! The Relay in the browser: the same protocol as `zkrelay send` / `receive` (docs/PROTOCOL.md),
//! with the relay's HTTP API over `fetch` and the data connection over a WebSocket.

use super::{Socket, SocketEvent};
use crate::protocol::relay::{
    Code, Direction, FrameReader, Header, MAX_FRAME_PLAINTEXT, Opener, Sealer, SharedKey,
    handshake::{self, RelayApi, Seat},
    split_phrase,
};
use futures::{StreamExt, channel::mpsc};
use gloo_net::http::Request;
use rand::rngs::OsRng;
use serde_json::{Value, json};

/// Long-poll length per request (the server caps it at 30 s).
const POLL_SECS: u64 = 25;
/// Bytes the socket may hold unsent before the sender waits.
const MAX_BUFFERED: u32 = 4 << 20;
/// Largest content a browser accepts into memory.
pub const MAX_BROWSER_BYTES: u64 = 512 << 20;

/// What the sender hands over.
#[derive(Debug, Clone)]
pub enum Outgoing {
    Text(String),
    File { name: String, bytes: Vec<u8> },
}

/// What the recipient got.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    Text(String),
    File { name: String, bytes: Vec<u8> },
}

type Result<T> = std::result::Result<T, String>;

async fn call(req: gloo_net::http::RequestBuilder, body: Option<Value>) -> Result<(u16, Value)> {
    let sent = match body {
        Some(b) => req.json(&b).map_err(|e| e.to_string())?.send().await,
        None => req.send().await,
    }
    .map_err(|e| format!("cannot reach the relay: {e}"))?;
    let status = sent.status();
    let value: Value = sent
        .json()
        .await
        .map_err(|_| "the relay sent something unreadable".to_owned())?;
    Ok((status, value))
}

fn ok_or_message((status, reply): (u16, Value)) -> Result<Value> {
    if (200..300).contains(&status) && reply["success"] == true {
        Ok(reply)
    } else {
        Err(reply["message"]
            .as_str()
            .unwrap_or("the relay refused")
            .to_owned())
    }
}

/// The relay's HTTP API over `fetch`, from this page's origin.
struct Fetch;

impl RelayApi for Fetch {
    async fn post(&self, path: &str, body: Value) -> Result<Value> {
        ok_or_message(call(Request::post(path), Some(body)).await?)
    }

    async fn get(&self, path: &str) -> Result<Value> {
        ok_or_message(call(Request::get(path), None).await?)
    }

    /// Long-polls until the value is there (the page waits as long as the person does).
    async fn wait(&self, path: &str, _what: &str) -> Result<Value> {
        loop {
            let url = format!("{path}&wait={POLL_SECS}");
            let (status, reply) = call(Request::get(&url), None).await?;
            let not_yet = status == 404
                && reply["message"]
                    .as_str()
                    .is_some_and(|m| m.ends_with("is not there yet"));
            if !not_yet {
                return ok_or_message((status, reply));
            }
        }
    }
}

/// The data connection as a stream of events.
struct Data {
    socket: Socket,
    events: mpsc::UnboundedReceiver<SocketEvent>,
}

impl Data {
    async fn open(seat: &Seat, h_k: &str) -> Result<Self> {
        let Seat { channel, uuid } = seat;
        let (tx, events) = mpsc::unbounded();
        let socket = Socket::connect(&format!("/ws/data/{channel}"), move |_, event| {
            let _ = tx.unbounded_send(event);
        })?;
        let mut data = Self { socket, events };
        match data.next().await? {
            SocketEvent::Open => {}
            other => return Err(format!("the data connection failed: {other:?}")),
        }
        data.socket
            .link()
            .send_text(&format!("zkrelay-data 1 {channel} {uuid} {h_k}"))?;
        match data.next().await? {
            SocketEvent::Text(t) if t == "ok" => Ok(data),
            SocketEvent::Text(t) => Err(format!("the relay refused the data connection: {t}")),
            _ => Err("the data connection closed before the other side came".into()),
        }
    }

    async fn next(&mut self) -> Result<SocketEvent> {
        self.events
            .next()
            .await
            .ok_or_else(|| "the data connection ended".to_owned())
    }

    /// Reads binary messages into `frames` until one frame opens; errors on close.
    async fn next_frame(
        &mut self,
        frames: &mut FrameReader,
        opener: &mut Opener,
    ) -> Result<(Vec<u8>, bool)> {
        loop {
            if let Some(mut frame) = frames.next_frame().map_err(|e| e.to_string())? {
                let last = opener
                    .open_in_place(&mut frame)
                    .map_err(|e| e.to_string())?;
                return Ok((frame, last));
            }
            match self.next().await? {
                SocketEvent::Binary(bytes) => frames.push(&bytes),
                SocketEvent::Closed { .. } => {
                    opener.finish().map_err(|e| e.to_string())?;
                    return Err("the transfer ended early".into());
                }
                _ => {}
            }
        }
    }
}

async fn sleep_ms(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// Sends `outgoing`; `on_phrase` gets the phrase to read aloud, `on_progress` (done, total) bytes.
pub async fn send(
    outgoing: Outgoing,
    on_phrase: impl Fn(String),
    on_progress: impl Fn(u64, u64),
) -> Result<u64> {
    let code = Code::generate(&mut OsRng);
    let seat = handshake::open_sender(&Fetch, None).await?;
    let result = async {
        let confirmed =
            handshake::sender(&Fetch, &seat, &code, OsRng, |p| on_phrase(p.to_owned())).await?;
        handshake::open_data(&Fetch, "sender", &seat).await?;
        let mut data = Data::open(&seat, &confirmed.h_k).await?;
        stream_out(
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
        handshake::close(&Fetch, &seat).await;
    }
    result
}

async fn stream_out(
    data: &mut Data,
    key: &SharedKey,
    channel: &str,
    outgoing: Outgoing,
    on_progress: &impl Fn(u64, u64),
) -> Result<u64> {
    let (header, bytes) = match outgoing {
        Outgoing::Text(t) => (
            Header {
                kind: "text".into(),
                name: None,
                size: t.len() as u64,
            },
            t.into_bytes(),
        ),
        Outgoing::File { name, bytes } => (
            Header {
                kind: "file".into(),
                name: Some(name),
                size: bytes.len() as u64,
            },
            bytes,
        ),
    };
    let total = header.size;
    let link = data.socket.link().clone();
    let mut sealer = Sealer::new(&key.data_key(channel, Direction::SenderToRecipient));
    link.send_binary(
        &sealer
            .seal(&header.encode(), false)
            .map_err(|e| e.to_string())?,
    )?;
    let mut chunks = bytes.chunks(MAX_FRAME_PLAINTEXT).peekable();
    if chunks.peek().is_none() {
        link.send_binary(&sealer.seal(&[], true).map_err(|e| e.to_string())?)?;
    }
    let mut sent = 0u64;
    while let Some(chunk) = chunks.next() {
        let last = chunks.peek().is_none();
        link.send_binary(&sealer.seal(chunk, last).map_err(|e| e.to_string())?)?;
        sent += chunk.len() as u64;
        while link.buffered() > MAX_BUFFERED {
            sleep_ms(10).await;
        }
        on_progress(sent.saturating_sub(u64::from(link.buffered())), total);
    }
    while link.buffered() > 0 {
        sleep_ms(10).await;
    }
    on_progress(total, total);
    let mut opener = Opener::new(&key.data_key(channel, Direction::RecipientToSender));
    let mut frames = FrameReader::new();
    let (ack, _) = data.next_frame(&mut frames, &mut opener).await?;
    let ack: Value = serde_json::from_slice(&ack).map_err(|_| "unreadable confirmation")?;
    if ack["ok"] != true || ack["received"] != total {
        return Err("the recipient reported a problem".into());
    }
    link.close();
    Ok(total)
}

/// Receives from the sender who shared `phrase_text`.
pub async fn receive(phrase_text: &str, on_progress: impl Fn(u64, u64)) -> Result<Incoming> {
    let (channel, code) = split_phrase(phrase_text).map_err(|e| e.to_string())?;
    let seat = handshake::open_recipient(&Fetch, &channel).await?;
    let result = async {
        let confirmed = handshake::recipient(&Fetch, &seat, &code, OsRng).await?;
        handshake::open_data(&Fetch, "recipient", &seat).await?;
        let mut data = Data::open(&seat, &confirmed.h_k).await?;
        stream_in(&mut data, &confirmed.key, &seat.channel, &on_progress).await
    }
    .await;
    if result.is_err() {
        handshake::close(&Fetch, &seat).await;
    }
    result
}

async fn stream_in(
    data: &mut Data,
    key: &SharedKey,
    channel: &str,
    on_progress: &impl Fn(u64, u64),
) -> Result<Incoming> {
    let mut opener = Opener::new(&key.data_key(channel, Direction::SenderToRecipient));
    let mut frames = FrameReader::new();
    let (first, mut last) = data.next_frame(&mut frames, &mut opener).await?;
    let header = Header::decode(&first).map_err(|e| e.to_string())?;
    if header.size > MAX_BROWSER_BYTES {
        return Err("too large for a browser tab; use the zkrelay CLI".into());
    }
    let mut content = Vec::with_capacity(usize::try_from(header.size).unwrap_or(0));
    while !last {
        let (frame, is_last) = data.next_frame(&mut frames, &mut opener).await?;
        content.extend_from_slice(&frame);
        if content.len() as u64 > header.size {
            return Err("the sender sent more than it announced".into());
        }
        on_progress(content.len() as u64, header.size);
        last = is_last;
    }
    if content.len() as u64 != header.size {
        return Err("the transfer is incomplete".into());
    }
    let mut sealer = Sealer::new(&key.data_key(channel, Direction::RecipientToSender));
    let ack =
        serde_json::to_vec(&json!({ "received": header.size, "ok": true })).unwrap_or_default();
    data.socket
        .link()
        .send_binary(&sealer.seal(&ack, true).map_err(|e| e.to_string())?)?;
    on_progress(header.size, header.size);
    Ok(match header.kind.as_str() {
        "text" => Incoming::Text(String::from_utf8_lossy(&content).into_owned()),
        _ => {
            let name =
                crate::protocol::relay::sanitize_filename(header.name.as_deref().unwrap_or(""))
                    .unwrap_or_else(|_| "received".into());
            Incoming::File {
                name,
                bytes: content,
            }
        }
    })
}

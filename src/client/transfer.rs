//! The Relay in the browser: the same protocol as `zkrelay send` / `receive` (docs/PROTOCOL.md),
//! with the relay's HTTP API over `fetch` and the data connection over a WebSocket.
//!
//! Content stays in JavaScript memory: the sender reads the file slice by slice and keeps several
//! frames sealing at once (see [`super::webcrypto`]); the recipient opens frames as they arrive
//! and collects the plaintext into a `Blob`.

use super::{
    Socket, SocketEvent, sleep_ms,
    webcrypto::{Backend, FrameOpener, FrameSealer, OpenedFrame, SealedFrame},
};
use crate::{
    api::relay::{RelayClient, Seat, TransferError, Transport, handshake},
    protocol::relay::{
        Ack, Code, Direction, FrameReader, Header, MAX_FRAME_PLAINTEXT, SharedKey, data_hello,
        split_phrase,
    },
};
use futures::{StreamExt, channel::mpsc};
use gloo_net::http::Request;
use js_sys::{Array, Uint8Array};
use rand::rngs::OsRng;
use std::collections::VecDeque;

/// Bytes the socket may hold unsent before the sender waits.
const MAX_BUFFERED: u32 = 8 << 20;
/// Bytes of the file read per slice.
const READ_SLICE: usize = 32 * MAX_FRAME_PLAINTEXT;
/// Frames being sealed or opened at once.
const IN_FLIGHT: usize = 16;
/// Largest content a browser accepts into memory.
pub const MAX_BROWSER_BYTES: u64 = 512 << 20;
/// Progress is reported about this many times per transfer.
const PROGRESS_STEPS: u64 = 200;

/// What the sender hands over.
#[derive(Debug, Clone)]
pub enum Outgoing {
    Text(String),
    /// A file chosen in the page; read slice by slice while it is sent.
    File(web_sys::File),
}

/// What the recipient got.
#[derive(Debug, Clone)]
pub enum Incoming {
    Text(String),
    File {
        name: String,
        size: u64,
        blob: web_sys::Blob,
    },
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

/// The data connection as a stream of events.
struct Data {
    socket: Socket,
    events: mpsc::UnboundedReceiver<SocketEvent>,
    frames: FrameReader,
}

impl Data {
    async fn open(seat: &Seat, h_k: &str) -> Result<Self> {
        let (tx, events) = mpsc::unbounded();
        let socket = Socket::connect(&format!("/ws/data/{}", seat.channel), move |_, event| {
            let _ = tx.unbounded_send(event);
        })?;
        let mut data = Self {
            socket,
            events,
            frames: FrameReader::new(),
        };
        match data.next().await? {
            SocketEvent::Open => {}
            other => return Err(format!("the data connection failed: {other:?}").into()),
        }
        data.socket
            .link()
            .send_text(&data_hello(&seat.channel, &seat.uuid, h_k))?;
        match data.next().await? {
            SocketEvent::Text(t) if t == "ok" => Ok(data),
            SocketEvent::Text(t) => {
                Err(format!("the relay refused the data connection: {t}").into())
            }
            _ => Err("the data connection closed before the other side came".into()),
        }
    }

    async fn next(&mut self) -> Result<SocketEvent> {
        self.events
            .next()
            .await
            .ok_or_else(|| "the data connection ended".into())
    }

    /// Takes in one socket event; false once the connection has closed.
    fn take(&mut self, event: SocketEvent) -> bool {
        match event {
            SocketEvent::Binary(bytes) => {
                self.frames.push(&bytes);
                true
            }
            SocketEvent::Closed { .. } => false,
            _ => true,
        }
    }

    /// Starts opening frames that have arrived, keeping at most [`IN_FLIGHT`] open at once and
    /// taking in socket messages only as frames are needed (so a sender that sends more than it
    /// announced is caught before much of it is held). False once the connection has closed.
    fn open_arrived(
        &mut self,
        opener: &mut FrameOpener,
        pending: &mut VecDeque<OpenedFrame>,
    ) -> Result<bool> {
        let mut open = true;
        while pending.len() < IN_FLIGHT {
            if let Some(frame) = self.frames.next_frame().map_err(|e| e.to_string())? {
                pending.push_back(opener.open(frame)?);
                continue;
            }
            match self.events.try_recv() {
                Ok(event) => open &= self.take(event),
                Err(_) => break,
            }
        }
        Ok(open)
    }

    /// The next frame, opened; an error if the connection closes first.
    async fn next_opened(&mut self, opener: &mut FrameOpener) -> Result<(Uint8Array, bool)> {
        loop {
            if let Some(frame) = self.frames.next_frame().map_err(|e| e.to_string())? {
                return Ok(opener.open(frame)?.plaintext().await?);
            }
            let event = self.next().await?;
            if !self.take(event) {
                opener.finish()?;
                return Err("the transfer ended early".into());
            }
        }
    }
}

/// Calls `report` about [`PROGRESS_STEPS`] times over a transfer, and at its end.
struct Throttle {
    total: u64,
    next: u64,
}

impl Throttle {
    fn new(total: u64) -> Self {
        Self { total, next: 0 }
    }

    fn update(&mut self, done: u64, report: &impl Fn(u64, u64)) {
        if done >= self.next || done >= self.total {
            report(done, self.total);
            self.next = done + (self.total / PROGRESS_STEPS).max(1);
        }
    }
}

/// Sends `outgoing`; `on_phrase` gets the phrase to read aloud, `on_progress` (done, total) bytes.
pub async fn send(
    outgoing: Outgoing,
    on_phrase: impl Fn(String),
    on_progress: impl Fn(u64, u64),
) -> Result<u64> {
    if let Outgoing::File(file) = &outgoing
        && file.size() > MAX_BROWSER_BYTES as f64
    {
        return Err("that file is too large for a browser tab; use the zkrelay CLI".into());
    }
    let code = Code::generate(&mut OsRng);
    let api = relay();
    let seat = api.open_sender(None).await?;
    let result = async {
        let confirmed =
            handshake::sender(&api, &seat, &code, OsRng, |p| on_phrase(p.to_owned())).await?;
        api.open_data(&seat).await?;
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
        api.close(&seat).await;
    }
    result
}

/// The content to send, read a slice at a time.
enum Source {
    Text(Uint8Array),
    File(web_sys::File),
}

impl Source {
    async fn slice(&self, start: u64, end: u64) -> Result<Uint8Array> {
        match self {
            Source::Text(bytes) => Ok(bytes.subarray(start as u32, end as u32)),
            Source::File(file) => {
                let blob = file
                    .slice_with_f64_and_f64(start as f64, end as f64)
                    .map_err(|_| "cannot read the file")?;
                let buffer = wasm_bindgen_futures::JsFuture::from(blob.array_buffer())
                    .await
                    .map_err(|_| "cannot read the file (was it changed or removed?)")?;
                let bytes = Uint8Array::new(&buffer);
                if u64::from(bytes.length()) != end - start {
                    return Err("the file changed while it was being sent".into());
                }
                Ok(bytes)
            }
        }
    }
}

/// Sends the oldest frame in flight, then waits while the socket holds too much.
async fn send_oldest(data: &Data, in_flight: &mut VecDeque<SealedFrame>) -> Result<()> {
    if let Some(frame) = in_flight.pop_front() {
        let link = data.socket.link();
        link.send_js(&frame.bytes().await?)?;
        while link.buffered() > MAX_BUFFERED {
            sleep_ms(1).await;
        }
    }
    Ok(())
}

async fn stream_out(
    data: &mut Data,
    key: &SharedKey,
    channel: &str,
    outgoing: Outgoing,
    on_progress: &impl Fn(u64, u64),
) -> Result<u64> {
    let (header, source) = match outgoing {
        Outgoing::Text(t) => (
            Header::text(t.len() as u64),
            Source::Text(Uint8Array::from(t.as_bytes())),
        ),
        Outgoing::File(file) => (
            Header::file(file.name(), file.size() as u64),
            Source::File(file),
        ),
    };
    let total = header.size;
    let backend = Backend::best();
    let mut sealer = FrameSealer::new(
        &key.data_key(channel, Direction::SenderToRecipient),
        backend,
    )
    .await?;
    let mut in_flight = VecDeque::new();
    in_flight.push_back(sealer.seal(&Uint8Array::from(&header.encode()[..]), total == 0)?);
    let mut progress = Throttle::new(total);
    let mut offset = 0u64;
    while offset < total {
        let end = (offset + READ_SLICE as u64).min(total);
        let slice = source.slice(offset, end).await?;
        for start in (0..slice.length()).step_by(MAX_FRAME_PLAINTEXT) {
            let stop = (start + MAX_FRAME_PLAINTEXT as u32).min(slice.length());
            let last = offset + u64::from(stop) == total;
            in_flight.push_back(sealer.seal(&slice.subarray(start, stop), last)?);
            if in_flight.len() >= IN_FLIGHT {
                send_oldest(data, &mut in_flight).await?;
                let sent = offset + u64::from(stop);
                let queued = u64::from(data.socket.link().buffered());
                progress.update(sent.saturating_sub(queued), on_progress);
            }
        }
        offset = end;
    }
    while !in_flight.is_empty() {
        send_oldest(data, &mut in_flight).await?;
    }
    let link = data.socket.link().clone();
    while link.buffered() > 0 {
        progress.update(total - u64::from(link.buffered()).min(total), on_progress);
        sleep_ms(10).await;
    }
    on_progress(total, total);
    let mut opener = FrameOpener::new(
        &key.data_key(channel, Direction::RecipientToSender),
        backend,
    )
    .await?;
    let (ack, _) = data.next_opened(&mut opener).await?;
    if !Ack::confirms(&ack.to_vec(), total) {
        return Err("the recipient reported a problem".into());
    }
    link.close();
    Ok(total)
}

/// Receives from the sender who shared `phrase_text`.
pub async fn receive(phrase_text: &str, on_progress: impl Fn(u64, u64)) -> Result<Incoming> {
    let (channel, code) = split_phrase(phrase_text).map_err(|e| e.to_string())?;
    let api = relay();
    let seat = api.open_recipient(&channel).await?;
    let result = async {
        let confirmed = handshake::recipient(&api, &seat, &code, OsRng).await?;
        api.open_data(&seat).await?;
        let mut data = Data::open(&seat, &confirmed.h_k).await?;
        stream_in(&mut data, &confirmed.key, &seat.channel, &on_progress).await
    }
    .await;
    if result.is_err() {
        api.close(&seat).await;
    }
    result
}

async fn stream_in(
    data: &mut Data,
    key: &SharedKey,
    channel: &str,
    on_progress: &impl Fn(u64, u64),
) -> Result<Incoming> {
    let backend = Backend::best();
    let mut opener = FrameOpener::new(
        &key.data_key(channel, Direction::SenderToRecipient),
        backend,
    )
    .await?;
    let (first, mut last) = data.next_opened(&mut opener).await?;
    let header = Header::decode(&first.to_vec()).map_err(|e| e.to_string())?;
    if header.is_files() {
        return Err("the sender sends several files: receive them with `zkrelay receive`".into());
    }
    if header.size > MAX_BROWSER_BYTES {
        return Err("too large for a browser tab; use the zkrelay CLI".into());
    }
    let parts = Array::new();
    let mut received = 0u64;
    let mut progress = Throttle::new(header.size);
    let mut pending = VecDeque::new();
    let mut open = true;
    while !last {
        // Start opening what has arrived, then finish the oldest frame; wait for the socket only
        // when nothing is in flight.
        open &= data.open_arrived(&mut opener, &mut pending)?;
        let Some(frame) = pending.pop_front() else {
            if !open {
                opener.finish()?;
                return Err("the transfer ended early".into());
            }
            let event = data.next().await?;
            open &= data.take(event);
            continue;
        };
        let (plaintext, is_last) = frame.plaintext().await?;
        received += u64::from(plaintext.length());
        if received > header.size {
            return Err("the sender sent more than it announced".into());
        }
        parts.push(&plaintext);
        progress.update(received, on_progress);
        last = is_last;
    }
    if received != header.size {
        return Err("the transfer is incomplete".into());
    }
    let mut sealer = FrameSealer::new(
        &key.data_key(channel, Direction::RecipientToSender),
        backend,
    )
    .await?;
    let ack = Ack::for_received(header.size);
    let ack = sealer
        .seal(&Uint8Array::from(&ack[..]), true)?
        .bytes()
        .await?;
    data.socket.link().send_js(&ack)?;
    on_progress(header.size, header.size);
    Ok(match header.kind.as_str() {
        "text" => {
            let mut bytes = Vec::with_capacity(usize::try_from(received).unwrap_or(0));
            for part in parts.iter() {
                bytes.extend(Uint8Array::from(part).to_vec());
            }
            Incoming::Text(String::from_utf8_lossy(&bytes).into_owned())
        }
        _ => {
            let name =
                crate::protocol::relay::sanitize_filename(header.name.as_deref().unwrap_or(""))
                    .unwrap_or_else(|_| "received".into());
            let options = web_sys::BlobPropertyBag::new();
            options.set_type("application/octet-stream");
            let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options)
                .map_err(|_| "cannot hold the file")?;
            Incoming::File {
                name,
                size: received,
                blob,
            }
        }
    })
}

//! The data connection's two directions on blocking threads: the sender seals the header and the
//! content into frames and reads the acknowledgement; the recipient opens them into a [`Sink`]
//! and acknowledges.

use super::{Delivered, Destination, Result, Source};
use crate::{
    api::relay::TransferError,
    cli::sink::Sink,
    protocol::relay::{
        Ack, Direction, Error, FRAME_OVERHEAD, FrameReader, Header, MAX_FRAME_PLAINTEXT, Opener,
        PREFIX_LEN, Sealer, SharedKey,
    },
};
use std::{
    io::IsTerminal,
    time::{Duration, Instant},
};
use tokio::net::TcpStream;

/// Largest acknowledgement the sender reads back.
const MAX_ACK: usize = 1024;
/// Frames sealed per network write.
const FRAMES_PER_WRITE: usize = 4;
/// Bytes asked of the socket per read.
const READ_CHUNK: usize = 1024 * 1024;
/// A data connection that moves nothing for this long is given up.
const STALL_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a recipient waits, after its acknowledgement, for the sender's direction to end.
const END_TIMEOUT: Duration = Duration::from_secs(30);

/// The data connection as a blocking socket, for the sealing and opening threads: the kernel's
/// socket buffers overlap the network with the crypto, and bytes go from the file to the socket
/// (and back) with no copy in between.
fn blocking(stream: TcpStream) -> Result<std::net::TcpStream> {
    let stream = stream.into_std().map_err(|e| e.to_string())?;
    stream.set_nonblocking(false).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(STALL_TIMEOUT))
        .map_err(|e| e.to_string())?;
    stream
        .set_write_timeout(Some(STALL_TIMEOUT))
        .map_err(|e| e.to_string())?;
    Ok(stream)
}

fn io_error(doing: &str, e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
            format!(
                "{doing}: the connection stalled for {} s",
                STALL_TIMEOUT.as_secs()
            )
        }
        _ => format!("{doing}: {e}"),
    }
}

/// Encrypts header and content to the recipient, then reads its acknowledgement.
pub(super) async fn stream_out(
    stream: TcpStream,
    key: &SharedKey,
    channel: &str,
    header: Header,
    source: Source,
) -> Result<Delivered> {
    let started = Instant::now();
    let stream = blocking(stream)?;
    let data_key = key.data_key(channel, Direction::SenderToRecipient);
    let ack_key = key.data_key(channel, Direction::RecipientToSender);
    let total = header.size;
    let kind = header.kind.clone();
    tokio::task::spawn_blocking(move || send_frames(stream, &data_key, &ack_key, &header, source))
        .await
        .map_err(|_| "the sending thread failed")??;
    Ok(Delivered {
        kind,
        bytes: total,
        path: None,
        text: None,
        data_time: started.elapsed(),
    })
}

fn send_frames(
    mut stream: std::net::TcpStream,
    data_key: &[u8; 32],
    ack_key: &[u8; 32],
    header: &Header,
    mut source: Source,
) -> Result<()> {
    use std::io::{Read, Write};
    const FRAME: usize = PREFIX_LEN + MAX_FRAME_PLAINTEXT + FRAME_OVERHEAD;
    let total = header.size;
    let mut sealer = Sealer::new(data_key);
    let mut out = sealer
        .seal(&header.encode(), false)
        .map_err(|e| e.to_string())?;
    let mut batch = vec![0u8; FRAMES_PER_WRITE * FRAME];
    let mut progress = Progress::new("sending", total);
    let mut sent = 0u64;
    let mut last = false;
    while !last {
        // Read each frame's plaintext into its place in the batch and seal it there.
        let mut used = 0;
        for _ in 0..FRAMES_PER_WRITE {
            let room = &mut batch[used..used + FRAME];
            let n = read_full(
                &mut source,
                &mut room[PREFIX_LEN..PREFIX_LEN + MAX_FRAME_PLAINTEXT],
            )
            .map_err(|e| format!("reading input: {e}"))?;
            sent += n as u64;
            if sent > total {
                return Err("the input grew while it was being sent".into());
            }
            last = n < MAX_FRAME_PLAINTEXT || sent == total;
            if last && sent != total {
                return Err("the input shrank while it was being sent".into());
            }
            let frame = PREFIX_LEN + n + FRAME_OVERHEAD;
            sealer
                .seal_in_place(&mut room[..frame], last)
                .map_err(|e| e.to_string())?;
            used += frame;
            if last {
                break;
            }
        }
        if !out.is_empty() {
            stream
                .write_all(&out)
                .map_err(|e| io_error("sending", &e))?;
            out.clear();
        }
        stream
            .write_all(&batch[..used])
            .map_err(|e| io_error("sending", &e))?;
        progress.update(sent);
    }
    stream
        .shutdown(std::net::Shutdown::Write)
        .map_err(|e| e.to_string())?;
    progress.done();
    // The recipient's acknowledgement, in its own direction.
    let mut opener = Opener::new(ack_key);
    let mut frames = FrameReader::new();
    let ack = loop {
        if let Some((prefix, body)) = frames.next_in_place().map_err(|e| e.to_string())? {
            break opener
                .open_slice(prefix, body)
                .map_err(|e| e.to_string())?
                .to_vec();
        }
        let n = frames
            .fill(MAX_ACK, |room| stream.read(room))
            .map_err(|e| io_error("waiting for the confirmation", &e))?;
        if n == 0 || frames.pending() > MAX_ACK {
            return Err("the recipient did not confirm the transfer".into());
        }
    };
    if !Ack::confirms(&ack, total) {
        return Err(format!(
            "the recipient reported a problem: {}",
            String::from_utf8_lossy(&ack)
        )
        .into());
    }
    Ok(())
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn read_full(input: &mut Source, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Decrypts the sender's stream into `destination`, then acknowledges.
pub(super) async fn stream_in(
    stream: TcpStream,
    key: &SharedKey,
    channel: &str,
    destination: &Destination,
) -> Result<Delivered> {
    let started = Instant::now();
    let stream = blocking(stream)?;
    let data_key = key.data_key(channel, Direction::SenderToRecipient);
    let ack_key = key.data_key(channel, Direction::RecipientToSender);
    let destination = destination.clone();
    tokio::task::spawn_blocking(move || {
        receive_frames(stream, &data_key, &ack_key, &destination, started)
    })
    .await
    .map_err(|_| "the receiving thread failed")?
}

/// Opens the sender's frames into a [`Sink`] and acknowledges them; the content is put in place
/// only once the sender's direction has ended with nothing after the final frame.
fn receive_frames(
    mut stream: std::net::TcpStream,
    data_key: &[u8; 32],
    ack_key: &[u8; 32],
    destination: &Destination,
    started: Instant,
) -> Result<Delivered> {
    use std::io::Read;
    let mut opener = Opener::new(data_key);
    let mut frames = FrameReader::new();
    let mut header: Option<Header> = None;
    let mut sink: Option<Sink> = None;
    let mut received = 0u64;
    let mut progress = Progress::new("receiving", 0);
    let outcome = (|| -> Result<()> {
        loop {
            while let Some((prefix, body)) = frames.next_in_place().map_err(|e| e.to_string())? {
                let plaintext = opener.open_slice(prefix, body).map_err(|e| e.to_string())?;
                match &header {
                    None => {
                        let h = Header::decode(plaintext).map_err(|e| e.to_string())?;
                        progress = Progress::new("receiving", h.size);
                        sink = Some(Sink::create(&h, destination)?);
                        header = Some(h);
                    }
                    Some(h) => {
                        received += plaintext.len() as u64;
                        if received > h.size {
                            return Err("the sender sent more than it announced".into());
                        }
                        if let Some(sink) = &mut sink {
                            sink.write(plaintext)?;
                        }
                        progress.update(received);
                    }
                }
                if prefix.last {
                    // Nothing may follow the final frame, not even part of a frame.
                    return match frames.pending() {
                        0 => Ok(()),
                        _ => Err(after_final()),
                    };
                }
            }
            let n = frames
                .fill(READ_CHUNK, |room| stream.read(room))
                .map_err(|e| io_error("receiving", &e))?;
            if n == 0 {
                opener.finish().map_err(|e| e.to_string())?;
                return Err("the transfer ended early".into());
            }
        }
    })()
    .and_then(|()| match &header {
        Some(h) if received == h.size => Ok(()),
        _ => Err("the transfer is incomplete".into()),
    })
    .and_then(|()| {
        progress.done();
        acknowledge(&mut stream, ack_key, received)
    })
    .and_then(|()| expect_end(&mut stream));
    match (outcome, header, sink) {
        (Ok(()), Some(header), Some(sink)) => {
            let (path, text) = sink.finish()?;
            Ok(Delivered {
                kind: header.kind,
                bytes: received,
                path,
                text,
                data_time: started.elapsed(),
            })
        }
        (outcome, _, sink) => {
            if let Some(sink) = sink {
                sink.discard();
            }
            Err(outcome
                .err()
                .unwrap_or_else(|| "the transfer is incomplete".into()))
        }
    }
}

fn after_final() -> TransferError {
    format!("the sender broke the protocol: {}", Error::AfterFinal).into()
}

/// Sends the recipient's one final frame, `{"received": N, "ok": true}`, and ends its direction.
fn acknowledge(stream: &mut std::net::TcpStream, ack_key: &[u8; 32], received: u64) -> Result<()> {
    use std::io::Write;
    let mut sealer = Sealer::new(ack_key);
    let ack = Ack::for_received(received);
    let frame = sealer.seal(&ack, true).map_err(|e| e.to_string())?;
    stream
        .write_all(&frame)
        .map_err(|e| io_error("confirming", &e))?;
    let _ = stream.shutdown(std::net::Shutdown::Write);
    Ok(())
}

/// Waits for the sender's direction to end (a TCP sender half-closes after its final frame, a
/// browser closes once it has the acknowledgement); any byte before that end is an error.
fn expect_end(stream: &mut std::net::TcpStream) -> Result<()> {
    use std::io::{ErrorKind, Read};
    stream
        .set_read_timeout(Some(END_TIMEOUT))
        .map_err(|e| e.to_string())?;
    let mut byte = [0u8; 1];
    loop {
        return match stream.read(&mut byte) {
            Ok(0) => Ok(()),
            Ok(_) => Err(after_final()),
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                Err(format!(
                    "the sender did not end the transfer within {} s of its final frame",
                    END_TIMEOUT.as_secs()
                )
                .into())
            }
            Err(e) => Err(format!("after the final frame: {e}").into()),
        };
    }
}

/// A progress line on stderr (only when it is a terminal), at most 4 times a second.
struct Progress {
    label: &'static str,
    total: u64,
    started: Instant,
    shown: Instant,
    live: bool,
}

impl Progress {
    fn new(label: &'static str, total: u64) -> Self {
        let now = Instant::now();
        Self {
            label,
            total,
            started: now,
            shown: now,
            live: std::io::stderr().is_terminal(),
        }
    }

    fn update(&mut self, done: u64) {
        if !self.live || self.shown.elapsed() < Duration::from_millis(250) {
            return;
        }
        self.shown = Instant::now();
        let pct = (done * 100).checked_div(self.total).unwrap_or(100);
        let secs = self.started.elapsed().as_secs_f64().max(1e-6);
        eprint!(
            "\r{} {pct:>3}%  {:.1} / {:.1} MB  {:.0} MB/s   ",
            self.label,
            done as f64 / 1e6,
            self.total as f64 / 1e6,
            done as f64 / 1e6 / secs
        );
    }

    fn done(&mut self) {
        if self.live {
            eprintln!(
                "\r{} 100%  {:.1} MB{:30}",
                self.label,
                self.total as f64 / 1e6,
                ""
            );
        }
    }
}

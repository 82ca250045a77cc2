//! The data connection's two directions on blocking threads: the sender seals the header (and a
//! manifest, then waits for the recipient's answer) and the content into frames and reads the
//! acknowledgement; the recipient's half is [`super::receiving`].

use super::{Delivered, Outgoing, Result, Source, progress::Progress};
use crate::{
    api::relay::TransferError,
    protocol::relay::{
        Ack, Answer, Direction, Error, FRAME_OVERHEAD, FrameReader, MAX_FRAME_PLAINTEXT, Opener,
        PREFIX_LEN, Sealer, SharedKey,
    },
};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

/// Largest acknowledgement the sender reads back.
const MAX_ACK: usize = 1024;
/// Frames sealed per network write.
const FRAMES_PER_WRITE: usize = 4;
/// Bytes asked of the socket per read.
pub(super) const READ_CHUNK: usize = 1024 * 1024;
/// A data connection that moves nothing for this long is given up.
const STALL_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a recipient waits, after its acknowledgement, for the sender's direction to end.
const END_TIMEOUT: Duration = Duration::from_secs(30);

/// The data connection as a blocking socket, for the sealing and opening threads: the kernel's
/// socket buffers overlap the network with the crypto, and bytes go from the file to the socket
/// (and back) with no copy in between.
pub(super) fn blocking(stream: TcpStream) -> Result<std::net::TcpStream> {
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

pub(super) fn io_error(doing: &str, e: &std::io::Error) -> String {
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

/// Encrypts the header, the manifest (if any) and the content to the recipient, then reads its
/// acknowledgement.
pub(super) async fn stream_out(
    stream: TcpStream,
    key: &SharedKey,
    channel: &str,
    outgoing: Outgoing,
) -> Result<Delivered> {
    let started = Instant::now();
    let stream = blocking(stream)?;
    let data_key = key.data_key(channel, Direction::SenderToRecipient);
    let ack_key = key.data_key(channel, Direction::RecipientToSender);
    let total = outgoing.header.size;
    let kind = outgoing.header.kind.clone();
    tokio::task::spawn_blocking(move || send_frames(stream, &data_key, &ack_key, outgoing))
        .await
        .map_err(|_| "the sending thread failed")??;
    Ok(Delivered {
        kind,
        bytes: total,
        path: None,
        files: Vec::new(),
        text: None,
        data_time: started.elapsed(),
    })
}

fn send_frames(
    mut stream: std::net::TcpStream,
    data_key: &[u8; 32],
    ack_key: &[u8; 32],
    outgoing: Outgoing,
) -> Result<()> {
    use std::io::Write;
    const FRAME: usize = PREFIX_LEN + MAX_FRAME_PLAINTEXT + FRAME_OVERHEAD;
    let Outgoing {
        header,
        manifest,
        mut source,
    } = outgoing;
    let total = header.size;
    let mut sealer = Sealer::new(data_key);
    let mut out = sealer
        .seal(&header.encode(), false)
        .map_err(|e| e.to_string())?;
    // The recipient's direction: its answer to a manifest, then its acknowledgement.
    let mut replies = Replies::new(ack_key);
    if let Some(manifest) = manifest {
        for part in manifest.chunks(MAX_FRAME_PLAINTEXT) {
            sealer
                .seal_into(part, false, &mut out)
                .map_err(|e| e.to_string())?;
        }
        stream
            .write_all(&out)
            .map_err(|e| io_error("sending", &e))?;
        out.clear();
        let (answer, last) = replies.next(&mut stream, "waiting for the recipient's answer")?;
        if last || !Answer::accepts(&answer) {
            return Err("the recipient declined the files (nothing was sent)".into());
        }
    }
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
    let (ack, _) = replies.next(&mut stream, "waiting for the confirmation")?;
    if !Ack::confirms(&ack, total) {
        return Err(format!(
            "the recipient reported a problem: {}",
            String::from_utf8_lossy(&ack)
        )
        .into());
    }
    Ok(())
}

/// The recipient's direction as the sender reads it: small sealed replies.
struct Replies {
    opener: Opener,
    frames: FrameReader,
}

impl Replies {
    fn new(key: &[u8; 32]) -> Self {
        Self {
            opener: Opener::new(key),
            frames: FrameReader::new(),
        }
    }

    /// The next reply's plaintext (at most [`MAX_ACK`] bytes) and whether it is the final frame.
    fn next(&mut self, stream: &mut std::net::TcpStream, doing: &str) -> Result<(Vec<u8>, bool)> {
        use std::io::Read;
        loop {
            if let Some((prefix, body)) = self.frames.next_in_place().map_err(|e| e.to_string())? {
                let plaintext = self
                    .opener
                    .open_slice(prefix, body)
                    .map_err(|e| e.to_string())?;
                return Ok((plaintext.to_vec(), prefix.last));
            }
            let n = self
                .frames
                .fill(MAX_ACK, |room| stream.read(room))
                .map_err(|e| io_error(doing, &e))?;
            if n == 0 || self.frames.pending() > MAX_ACK {
                return Err("the recipient did not confirm the transfer".into());
            }
        }
    }
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

pub(super) fn after_final() -> TransferError {
    format!("the sender broke the protocol: {}", Error::AfterFinal).into()
}

/// Seals one frame of the recipient's direction; the final one ends that direction.
pub(super) fn reply(
    stream: &mut std::net::TcpStream,
    sealer: &mut Sealer,
    message: &[u8],
    last: bool,
) -> Result<()> {
    use std::io::Write;
    let frame = sealer.seal(message, last).map_err(|e| e.to_string())?;
    stream
        .write_all(&frame)
        .map_err(|e| io_error("answering", &e))?;
    if last {
        let _ = stream.shutdown(std::net::Shutdown::Write);
    }
    Ok(())
}

/// Waits for the sender's direction to end (a TCP sender half-closes after its final frame, a
/// browser closes once it has the acknowledgement); any byte before that end is an error.
pub(super) fn expect_end(stream: &mut std::net::TcpStream) -> Result<()> {
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

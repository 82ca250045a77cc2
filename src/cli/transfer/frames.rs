//! What both halves of the data connection share on their blocking threads: the socket made
//! blocking with stall timeouts, the recipient's small sealed replies (sealing them, and reading
//! them on the sender's side), and the end of the sender's direction. The sender's half is
//! [`super::sending`], the recipient's [`super::receiving`].

use super::{Result, resume::Failure};
use crate::{
    api::relay::TransferError,
    protocol::relay::{Error, FrameReader, Opener, Sealer},
};
use std::time::Duration;
use tokio::net::TcpStream;

/// Largest acknowledgement the sender reads back.
const MAX_ACK: usize = 1024;
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

/// The recipient's direction as the sender reads it: small sealed replies.
pub(super) struct Replies {
    opener: Opener,
    frames: FrameReader,
}

impl Replies {
    pub(super) fn new(key: &[u8; 32]) -> Self {
        Self {
            opener: Opener::new(key),
            frames: FrameReader::new(),
        }
    }

    /// The next reply's plaintext (at most [`MAX_ACK`] bytes) and whether it is the final frame.
    pub(super) fn next(
        &mut self,
        stream: &mut std::net::TcpStream,
        doing: &str,
    ) -> std::result::Result<(Vec<u8>, bool), Failure> {
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
                .map_err(|e| Failure::Dropped(io_error(doing, &e)))?;
            if n == 0 {
                return Err(Failure::Dropped(format!("{doing}: the connection ended")));
            }
            if self.frames.pending() > MAX_ACK {
                return Err("the recipient's reply is too long".into());
            }
        }
    }
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
pub(super) fn read_full(input: &mut dyn std::io::Read, buf: &mut [u8]) -> std::io::Result<usize> {
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
) -> std::result::Result<(), Failure> {
    use std::io::Write;
    let frame = sealer.seal(message, last).map_err(|e| e.to_string())?;
    stream
        .write_all(&frame)
        .map_err(|e| Failure::Dropped(io_error("answering", &e)))?;
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

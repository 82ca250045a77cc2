//! The sender's half of the data connection, on a blocking thread: it seals the header (and a
//! manifest, then waits for the recipient's answer) and the content into frames, and reads the
//! acknowledgement. [`Sending`] outlives one connection: on a version-3 connection the
//! recipient first says how much it holds ([`Resume`]) and the content goes on from there, the
//! SHA-256 of all of it in the final [`Trailer`].

use super::{
    Outgoing,
    frames::{Replies, io_error, read_full},
    progress::Progress,
    resume::{Failure, Keys},
};
use crate::protocol::relay::{
    Ack, Answer, FRAME_OVERHEAD, MAX_FRAME_PLAINTEXT, PREFIX_LEN, Resume, Sealer, Trailer,
};
use sha2::{Digest, Sha256};

/// Frames sealed per network write.
const FRAMES_PER_WRITE: usize = 4;
/// Bytes of one whole frame.
const FRAME: usize = PREFIX_LEN + MAX_FRAME_PLAINTEXT + FRAME_OVERHEAD;

type Attempt<T> = std::result::Result<T, Failure>;

/// A transfer being sent, across its data connections.
pub(super) struct Sending {
    outgoing: Outgoing,
    /// Whether the header (and manifest) went out on some connection: only then may the
    /// recipient ask to resume.
    announced: bool,
    /// Content bytes read from the source, i.e. where the source stands.
    position: u64,
    /// SHA-256 of the content's first `position` bytes, once the transfer has resumed (a
    /// transfer over one connection is proven by its frames and hashes nothing).
    hasher: Option<Sha256>,
    /// The most content ever sealed: a recipient asking to resume beyond it is refused.
    sealed: u64,
    /// Where each resumption started.
    pub(super) resumed_at: Vec<u64>,
    /// SHA-256 of the whole content, once it is all sealed (if the transfer resumed).
    pub(super) digest: Option<[u8; 32]>,
    progress: Progress,
}

impl Sending {
    pub(super) fn new(outgoing: Outgoing) -> Self {
        let total = outgoing.header.size;
        Self {
            outgoing,
            announced: false,
            position: 0,
            hasher: None,
            sealed: 0,
            resumed_at: Vec::new(),
            digest: None,
            progress: Progress::new("sending", total),
        }
    }

    pub(super) fn total(&self) -> u64 {
        self.outgoing.header.size
    }

    pub(super) fn kind(&self) -> &str {
        &self.outgoing.header.kind
    }

    /// One data connection: from the start (or, version 3, from where the recipient says)
    /// to the acknowledgement.
    pub(super) fn run(&mut self, mut stream: std::net::TcpStream, keys: &Keys) -> Attempt<()> {
        let mut sealer = Sealer::new(&keys.sender_to_recipient);
        let mut replies = Replies::new(&keys.recipient_to_sender);
        let from = match keys.version {
            3 => {
                let (resume, _) = replies.next(&mut stream, "waiting for the recipient")?;
                let resume =
                    Resume::decode(&resume).ok_or("the recipient sent no resume offset")?;
                match resume.offset {
                    None => None,
                    Some(offset) if self.announced && offset <= self.sealed => Some(offset),
                    Some(offset) => {
                        return Err(format!(
                            "the recipient asks to resume at byte {offset}, but only {} of {} \
                             were sent: refused (its partial file is not from this transfer)",
                            self.sealed,
                            self.total()
                        )
                        .into());
                    }
                }
            }
            _ => None,
        };
        let mut out = Vec::new();
        let resumed = from.is_some();
        let from = match from {
            Some(offset) => {
                self.resumed_at.push(offset);
                eprintln!("resumed at {offset} of {} bytes", self.total());
                offset
            }
            None => {
                self.announce(&mut stream, &mut sealer, &mut replies, &mut out)?;
                0
            }
        };
        self.seek(from, resumed)?;
        self.send_content(&mut stream, &mut sealer, out, keys.version)?;
        stream
            .shutdown(std::net::Shutdown::Write)
            .map_err(|e| Failure::Dropped(e.to_string()))?;
        self.progress.done();
        let (ack, _) = replies.next(&mut stream, "waiting for the confirmation")?;
        if !Ack::confirms(&ack, self.total()) {
            return Err(format!(
                "the recipient reported a problem: {}",
                String::from_utf8_lossy(&ack)
            )
            .into());
        }
        Ok(())
    }

    /// Seals the header and, for several files, the manifest, and waits for the recipient's
    /// answer to it. The header is left in `out` when no manifest follows.
    fn announce(
        &mut self,
        stream: &mut std::net::TcpStream,
        sealer: &mut Sealer,
        replies: &mut Replies,
        out: &mut Vec<u8>,
    ) -> Attempt<()> {
        use std::io::Write;
        sealer
            .seal_into(&self.outgoing.header.encode(), false, out)
            .map_err(|e| e.to_string())?;
        if let Some(manifest) = &self.outgoing.manifest {
            for part in manifest.chunks(MAX_FRAME_PLAINTEXT) {
                sealer
                    .seal_into(part, false, out)
                    .map_err(|e| e.to_string())?;
            }
            stream
                .write_all(out)
                .map_err(|e| Failure::Dropped(io_error("sending", &e)))?;
            out.clear();
            let (answer, last) = replies.next(stream, "waiting for the recipient's answer")?;
            if last || !Answer::accepts(&answer) {
                return Err("the recipient declined the files (nothing was sent)".into());
            }
        }
        self.announced = true;
        Ok(())
    }

    /// Puts the source at `offset`: from the start again if it is elsewhere, or if a
    /// resumption needs the hash of the bytes before it, hashing what it reads on the way (only
    /// bytes the recipient already holds are skipped, never sent).
    fn seek(&mut self, offset: u64, resumed: bool) -> Attempt<()> {
        let hashing = resumed || self.hasher.is_some();
        if offset == self.position && (self.hasher.is_some() || !hashing) {
            return Ok(());
        }
        let source = &mut self.outgoing.source;
        source
            .restart()
            .map_err(|e| format!("reading input again: {e}"))?;
        self.hasher = hashing.then(Sha256::new);
        self.position = 0;
        let mut buf = vec![0u8; MAX_FRAME_PLAINTEXT];
        while self.position < offset {
            let want = usize::try_from(offset - self.position)
                .unwrap_or(usize::MAX)
                .min(buf.len());
            let n = read_full(source.as_mut(), &mut buf[..want])
                .map_err(|e| format!("reading input again: {e}"))?;
            if n == 0 {
                return Err("the input shrank while it was being sent".into());
            }
            if let Some(hasher) = &mut self.hasher {
                hasher.update(&buf[..n]);
            }
            self.position += n as u64;
        }
        Ok(())
    }

    /// Seals the content from the source's position on (version 2: its last frame is final;
    /// version 3: then the [`Trailer`] is), after whatever is already in `out`.
    fn send_content(
        &mut self,
        stream: &mut std::net::TcpStream,
        sealer: &mut Sealer,
        mut out: Vec<u8>,
        version: u8,
    ) -> Attempt<()> {
        use std::io::Write;
        let total = self.total();
        let trailer = version >= 3;
        let mut batch = vec![0u8; FRAMES_PER_WRITE * FRAME];
        let mut done = false;
        while !done {
            // Read each frame's plaintext into its place in the batch and seal it there.
            let mut used = 0;
            for _ in 0..FRAMES_PER_WRITE {
                let room = &mut batch[used..used + FRAME];
                let n = read_full(
                    self.outgoing.source.as_mut(),
                    &mut room[PREFIX_LEN..PREFIX_LEN + MAX_FRAME_PLAINTEXT],
                )
                .map_err(|e| format!("reading input: {e}"))?;
                if let Some(hasher) = &mut self.hasher {
                    hasher.update(&room[PREFIX_LEN..PREFIX_LEN + n]);
                }
                self.position += n as u64;
                if self.position > total {
                    return Err("the input grew while it was being sent".into());
                }
                done = n < MAX_FRAME_PLAINTEXT || self.position == total;
                if done && self.position != total {
                    return Err("the input shrank while it was being sent".into());
                }
                if trailer && n == 0 {
                    break;
                }
                let frame = PREFIX_LEN + n + FRAME_OVERHEAD;
                sealer
                    .seal_in_place(&mut room[..frame], done && !trailer)
                    .map_err(|e| e.to_string())?;
                used += frame;
                if done {
                    break;
                }
            }
            self.sealed = self.sealed.max(self.position);
            let mut tail = Vec::new();
            if done {
                self.digest = self.hasher.clone().map(|h| h.finalize().into());
                if trailer {
                    sealer
                        .seal_into(&Trailer::encode(self.digest.as_ref()), true, &mut tail)
                        .map_err(|e| e.to_string())?;
                }
            }
            // The header goes before the first batch, the trailer after the last.
            for bytes in [&out[..], &batch[..used], &tail[..]] {
                if !bytes.is_empty() {
                    stream
                        .write_all(bytes)
                        .map_err(|e| Failure::Dropped(io_error("sending", &e)))?;
                }
            }
            out.clear();
            self.progress.update(self.position);
        }
        Ok(())
    }
}

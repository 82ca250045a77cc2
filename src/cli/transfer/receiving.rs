//! The recipient's half of the data connection, on a blocking thread: it opens the sender's
//! frames (the header, a manifest, then the content) into a [`Sink`], answers a manifest only
//! once it is checked and accepted, and acknowledges the content. [`Receiving`] outlives one
//! connection: after a drop it keeps what it has and, on the next version-3 connection, tells
//! the sender its offset; the sender's final [`Trailer`] proves the whole content.

use super::{
    Consent, Delivered, Destination, Result,
    frames::{READ_CHUNK, after_final, expect_end, io_error, reply},
    progress::Progress,
    resume::{Failure, Keys},
};
use crate::{
    api::relay::TransferError,
    cli::sink::{Kept, Sink},
    protocol::{
        hex,
        relay::{Ack, Answer, FrameReader, Header, Manifest, Opener, Resume, Sealer, Trailer},
    },
};
use sha2::{Digest, Sha256};
use std::time::Duration;

type Attempt<T> = std::result::Result<T, Failure>;

/// A transfer being received, across its data connections: the header, a manifest being
/// collected, the content kept so far and its running SHA-256.
pub(super) struct Receiving {
    destination: Destination,
    consent: Option<Consent>,
    header: Option<Header>,
    /// The manifest's bytes while they arrive (at most the header's `manifest`).
    manifest: Option<Vec<u8>>,
    sink: Option<Sink>,
    /// Content bytes opened and kept: the offset a resumption starts at.
    received: u64,
    /// SHA-256 of the content kept so far: from the first resumption on (taken from what is
    /// kept), or from the start for standard output, which cannot be read back.
    hasher: Option<Sha256>,
    /// Whether this side ever told the sender a numeric offset: its trailer must then carry
    /// the SHA-256.
    resumed: bool,
    /// SHA-256 of the whole content, once checked.
    digest: Option<[u8; 32]>,
    /// Where each resumption started.
    pub(super) resumed_at: Vec<u64>,
    progress: Progress,
}

impl Receiving {
    pub(super) fn new(destination: &Destination, consent: Consent) -> Self {
        Self {
            destination: destination.clone(),
            consent: Some(consent),
            header: None,
            manifest: None,
            sink: None,
            received: 0,
            hasher: None,
            resumed: false,
            digest: None,
            resumed_at: Vec::new(),
            progress: Progress::new("receiving", 0),
        }
    }

    /// One data connection: opens the sender's frames into the [`Sink`] (on version 3 after
    /// saying where to go on) and acknowledges them once the sender's direction has ended with
    /// nothing after the final frame.
    pub(super) fn run(&mut self, mut stream: std::net::TcpStream, keys: &Keys) -> Attempt<()> {
        use std::io::Read;
        let mut opener = Opener::new(&keys.sender_to_recipient);
        let mut replies = Sealer::new(&keys.recipient_to_sender);
        let mut frames = FrameReader::new();
        if keys.version >= 3 {
            let offset = self.offset()?;
            reply(
                &mut stream,
                &mut replies,
                &Resume { offset }.encode(),
                false,
            )?;
        } else if self.header.is_some() {
            return Err("the sender cannot resume (it speaks data version 2)".into());
        }
        loop {
            let Some((prefix, body)) = frames.next_in_place().map_err(|e| e.to_string())? else {
                let n = frames
                    .fill(READ_CHUNK, |room| stream.read(room))
                    .map_err(|e| Failure::Dropped(io_error("receiving", &e)))?;
                if n == 0 {
                    // The stream ended before its final frame.
                    let why = opener.finish().err().map(|e| e.to_string());
                    return Err(Failure::Dropped(why.unwrap_or_default()));
                }
                continue;
            };
            let plaintext = opener.open_slice(prefix, body).map_err(|e| e.to_string())?;
            if prefix.last && keys.version >= 3 {
                let checked = self.check_trailer(plaintext);
                if checked.is_err() {
                    let _ = reply(
                        &mut stream,
                        &mut replies,
                        &Ack::mismatch(self.received),
                        true,
                    );
                }
                checked?;
            } else {
                self.take(plaintext, &mut stream, &mut replies)?;
            }
            if prefix.last {
                // Nothing may follow the final frame, not even part of a frame.
                if frames.pending() != 0 {
                    return Err(after_final().into());
                }
                break;
            }
        }
        match &self.header {
            Some(h)
                if self.sink.is_some() && self.manifest.is_none() && self.received == h.size => {}
            _ => return Err("the transfer is incomplete".into()),
        }
        if self.digest.is_none() {
            self.digest = self.hasher.clone().map(|h| h.finalize().into());
        }
        self.progress.done();
        let ack = Ack::for_received(self.received);
        reply(&mut stream, &mut replies, &ack, true)?;
        Ok(expect_end(&mut stream)?)
    }

    /// What to tell the sender on a new version-3 connection: the bytes kept, or `None` to
    /// start over when there is no header or accepted manifest yet. A single file's running
    /// hash is taken again from the partial file on disk, so a change made to it while the
    /// connection was down shows in the final SHA-256.
    fn offset(&mut self) -> Attempt<Option<u64>> {
        let Some(sink) = &self.sink else {
            if self.consent.is_none() {
                return Err("the answer to the list of files was lost: start again".into());
            }
            self.header = None;
            self.manifest = None;
            return Ok(None);
        };
        if let Some(hasher) = sink.hash_kept(self.received)? {
            self.hasher = Some(hasher);
        }
        self.resumed = true;
        if self.received > 0 {
            let total = self.header.as_ref().map_or(0, |h| h.size);
            eprintln!("resuming at {} of {total} bytes", self.received);
            self.resumed_at.push(self.received);
        }
        Ok(Some(self.received))
    }

    /// The sender's final frame in version 3: everything announced has come and its SHA-256 is
    /// the content's.
    fn check_trailer(&mut self, plaintext: &[u8]) -> Attempt<()> {
        let complete = self.sink.is_some()
            && self.manifest.is_none()
            && self
                .header
                .as_ref()
                .is_some_and(|h| h.size == self.received);
        if !complete {
            return Err("the transfer is incomplete".into());
        }
        let theirs = Trailer::decode(plaintext).ok_or("the sender's final frame is malformed")?;
        let ours: Option<[u8; 32]> = self.hasher.clone().map(|h| h.finalize().into());
        let (theirs, ours) = match (theirs, ours) {
            (Some(theirs), Some(ours)) => (theirs, ours),
            // One connection: its frames prove the content.
            (None, ours) if !self.resumed => {
                self.digest = ours;
                return Ok(());
            }
            _ => return Err("the sender sent no SHA-256 for a resumed transfer".into()),
        };
        if theirs != ours {
            return Err(format!(
                "the content does not match the sender's SHA-256 ({}): the partial file was \
                 changed while the connection was down; nothing was kept",
                hex::encode(&theirs)
            )
            .into());
        }
        self.digest = Some(ours);
        Ok(())
    }

    /// Puts the checked content in place and says what arrived.
    pub(super) fn finish(self, data_time: Duration) -> Result<Delivered> {
        let (Some(header), Some(sink)) = (self.header, self.sink) else {
            return Err("the transfer is incomplete".into());
        };
        let mut delivered = Delivered {
            kind: header.kind,
            bytes: self.received,
            path: None,
            files: Vec::new(),
            text: None,
            data_time,
            sha256: self.digest.map(|d| hex::encode(&d)),
            resumed_at: self.resumed_at,
        };
        match sink.finish()? {
            Kept::File(path) => delivered.path = Some(path),
            Kept::Files(paths) => delivered.files = paths,
            Kept::Text(text) => delivered.text = Some(text),
            Kept::Stdout => {}
        }
        Ok(delivered)
    }

    /// Drops what arrived: a partial file or staging folder is deleted.
    pub(super) fn discard(self) {
        if let Some(sink) = self.sink {
            sink.discard();
        }
    }

    /// One opened frame: the header, a piece of the manifest, or content.
    fn take(
        &mut self,
        plaintext: &[u8],
        stream: &mut std::net::TcpStream,
        replies: &mut Sealer,
    ) -> Attempt<()> {
        let Some(header) = &self.header else {
            let header = Header::decode(plaintext).map_err(|e| e.to_string())?;
            self.progress = Progress::new("receiving", header.size);
            match header.manifest {
                // Bounded by the header's check (≤ MAX_MANIFEST_BYTES).
                Some(len) => self.manifest = Some(Vec::with_capacity(len as usize)),
                None => {
                    let sink = Sink::create(&header, &self.destination)?;
                    if !sink.can_read_back() {
                        self.hasher = Some(Sha256::new());
                    }
                    self.sink = Some(sink);
                }
            }
            self.header = Some(header);
            return Ok(());
        };
        if let Some(bytes) = &mut self.manifest {
            let want = header.manifest.unwrap_or(0);
            if (bytes.len() + plaintext.len()) as u64 > want {
                return Err("the sender's list of files is longer than it announced".into());
            }
            bytes.extend_from_slice(plaintext);
            if bytes.len() as u64 == want {
                let size = header.size;
                let bytes = self.manifest.take().unwrap_or_default();
                return self.answer(&bytes, size, stream, replies);
            }
            return Ok(());
        }
        self.received += plaintext.len() as u64;
        if self.received > header.size {
            return Err("the sender sent more than it announced".into());
        }
        let Some(sink) = &mut self.sink else {
            return Err("the sender sent content before its list of files was accepted".into());
        };
        sink.write(plaintext)?;
        if let Some(hasher) = &mut self.hasher {
            hasher.update(plaintext);
        }
        self.progress.update(self.received);
        Ok(())
    }

    /// Checks the complete manifest, asks, and answers the sender: the content comes only
    /// after a yes. Every refusal is answered with a no, so the sender stops at once.
    fn answer(
        &mut self,
        bytes: &[u8],
        size: u64,
        stream: &mut std::net::TcpStream,
        replies: &mut Sealer,
    ) -> Attempt<()> {
        let decided = Manifest::decode(bytes, size)
            .map_err(|e| TransferError::from(e.to_string()))
            .and_then(|manifest| {
                let consent = self.consent.take().ok_or("asked twice")?;
                consent(&manifest)?;
                Ok(manifest)
            })
            .and_then(|manifest| Ok(Sink::create_files(&manifest, &self.destination)?));
        match decided {
            Ok(sink) => {
                self.sink = Some(sink);
                reply(stream, replies, &Answer::encode(true), false)
            }
            Err(e) => {
                let _ = reply(stream, replies, &Answer::encode(false), true);
                Err(e.into())
            }
        }
    }
}

//! The recipient's half of the data connection, on a blocking thread: it opens the sender's
//! frames (the header, a manifest, then the content) into a [`Sink`], answers a manifest only
//! once it is checked and accepted, and acknowledges the content.

use super::{
    Consent, Delivered, Destination, Result,
    frames::{READ_CHUNK, after_final, blocking, expect_end, io_error, reply},
    progress::Progress,
};
use crate::{
    api::relay::TransferError,
    cli::sink::{Kept, Sink},
    protocol::relay::{
        Ack, Answer, Direction, FrameReader, Header, Manifest, Opener, Sealer, SharedKey,
    },
};
use std::time::Instant;
use tokio::net::TcpStream;

/// Decrypts the sender's stream into `destination`, then acknowledges. Several files are
/// written only if `consent` says yes to their manifest.
pub(super) async fn stream_in(
    stream: TcpStream,
    key: &SharedKey,
    channel: &str,
    destination: &Destination,
    consent: Consent,
) -> Result<Delivered> {
    let started = Instant::now();
    let stream = blocking(stream)?;
    let data_key = key.data_key(channel, Direction::SenderToRecipient);
    let ack_key = key.data_key(channel, Direction::RecipientToSender);
    let destination = destination.clone();
    tokio::task::spawn_blocking(move || {
        let receiving = Receiving {
            destination,
            consent: Some(consent),
            replies: Sealer::new(&ack_key),
            header: None,
            manifest: None,
            sink: None,
            received: 0,
            progress: Progress::new("receiving", 0),
        };
        receiving.run(stream, &data_key, started)
    })
    .await
    .map_err(|_| "the receiving thread failed")?
}

/// One receive on its blocking thread: the header, a manifest being collected, the content.
struct Receiving {
    destination: Destination,
    consent: Option<Consent>,
    /// Seals the recipient's direction: the answer to a manifest, then the acknowledgement.
    replies: Sealer,
    header: Option<Header>,
    /// The manifest's bytes while they arrive (at most the header's `manifest`).
    manifest: Option<Vec<u8>>,
    sink: Option<Sink>,
    received: u64,
    progress: Progress,
}

impl Receiving {
    /// Opens the sender's frames into a [`Sink`] and acknowledges them; the content is put in
    /// place only once the sender's direction has ended with nothing after the final frame.
    fn run(
        mut self,
        mut stream: std::net::TcpStream,
        data_key: &[u8; 32],
        started: Instant,
    ) -> Result<Delivered> {
        use std::io::Read;
        let mut opener = Opener::new(data_key);
        let mut frames = FrameReader::new();
        let outcome = (|| -> Result<()> {
            loop {
                while let Some((prefix, body)) =
                    frames.next_in_place().map_err(|e| e.to_string())?
                {
                    let plaintext = opener.open_slice(prefix, body).map_err(|e| e.to_string())?;
                    self.take(plaintext, &mut stream)?;
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
        .and_then(|()| match &self.header {
            Some(h) if self.sink.is_some() && self.received == h.size => Ok(()),
            _ => Err("the transfer is incomplete".into()),
        })
        .and_then(|()| {
            self.progress.done();
            let ack = Ack::for_received(self.received);
            reply(&mut stream, &mut self.replies, &ack, true)
        })
        .and_then(|()| expect_end(&mut stream));
        match (outcome, self.header, self.sink) {
            (Ok(()), Some(header), Some(sink)) => {
                let mut delivered = Delivered {
                    kind: header.kind,
                    bytes: self.received,
                    path: None,
                    files: Vec::new(),
                    text: None,
                    data_time: started.elapsed(),
                };
                match sink.finish()? {
                    Kept::File(path) => delivered.path = Some(path),
                    Kept::Files(paths) => delivered.files = paths,
                    Kept::Text(text) => delivered.text = Some(text),
                    Kept::Stdout => {}
                }
                Ok(delivered)
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

    /// One opened frame: the header, a piece of the manifest, or content.
    fn take(&mut self, plaintext: &[u8], stream: &mut std::net::TcpStream) -> Result<()> {
        let Some(header) = &self.header else {
            let header = Header::decode(plaintext).map_err(|e| e.to_string())?;
            self.progress = Progress::new("receiving", header.size);
            match header.manifest {
                // Bounded by the header's check (≤ MAX_MANIFEST_BYTES).
                Some(len) => self.manifest = Some(Vec::with_capacity(len as usize)),
                None => self.sink = Some(Sink::create(&header, &self.destination)?),
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
                return self.answer(&bytes, size, stream);
            }
            return Ok(());
        }
        self.received += plaintext.len() as u64;
        if self.received > header.size {
            return Err("the sender sent more than it announced".into());
        }
        if let Some(sink) = &mut self.sink {
            sink.write(plaintext)?;
        }
        self.progress.update(self.received);
        Ok(())
    }

    /// Checks the complete manifest, asks, and answers the sender: the content comes only
    /// after a yes. Every refusal is answered with a no, so the sender stops at once.
    fn answer(&mut self, bytes: &[u8], size: u64, stream: &mut std::net::TcpStream) -> Result<()> {
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
                reply(stream, &mut self.replies, &Answer::encode(true), false)
            }
            Err(e) => {
                let _ = reply(stream, &mut self.replies, &Answer::encode(false), true);
                Err(e)
            }
        }
    }
}

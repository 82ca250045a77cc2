//! The recipient's direction: the header, for several files the manifest (checked whole, shown,
//! and answered yes or no before any content comes), the content cut back into its files, then
//! the acknowledgement.

use super::{Data, Incoming, MAX_BROWSER_BYTES, ReceivedFile, Result, Throttle, directions};
use crate::{
    client::webcrypto::FrameOpener,
    protocol::relay::{
        Ack, Answer, Direction, Entry, Header, Manifest, SharedKey, sanitize_filename,
    },
};
use futures::channel::oneshot;
use js_sys::{Array, Uint8Array};
use std::collections::VecDeque;

/// Most files a page takes in one transfer: each becomes a download of its own.
const MAX_BROWSER_FILES: usize = 1000;

/// One file while its bytes arrive: its parts, and how many bytes it still expects.
struct Collecting {
    name: String,
    shown: String,
    size: u64,
    left: u64,
    parts: Array,
}

impl Collecting {
    fn new(name: String, shown: String, size: u64) -> Self {
        Self {
            name,
            shown,
            size,
            left: size,
            parts: Array::new(),
        }
    }
}

/// Cuts the content (the files back to back, frames not following file boundaries) into files.
struct Files {
    collecting: VecDeque<Collecting>,
    done: Vec<Collecting>,
}

impl Files {
    fn new(files: Vec<Collecting>) -> Self {
        let mut files = Self {
            collecting: files.into(),
            done: Vec::new(),
        };
        files.skip_complete();
        files
    }

    /// Moves the files that expect nothing more (empty ones too) to `done`.
    fn skip_complete(&mut self) {
        while self.collecting.front().is_some_and(|f| f.left == 0) {
            self.done.extend(self.collecting.pop_front());
        }
    }

    /// Takes a piece of content; an error if it is more than the files hold.
    fn take(&mut self, mut bytes: Uint8Array) -> Result<()> {
        while bytes.length() > 0 {
            let Some(file) = self.collecting.front_mut() else {
                return Err("the sender sent more than it announced".into());
            };
            let n = u32::try_from(file.left.min(u64::from(bytes.length()))).unwrap_or(0);
            file.parts.push(&bytes.subarray(0, n));
            file.left -= u64::from(n);
            bytes = bytes.subarray(n, bytes.length());
            self.skip_complete();
        }
        Ok(())
    }
}

/// The files of a `files` manifest, under the names their downloads get: a path's last
/// component, sanitized as a single received name is (the browser resolves clashes).
fn files_of(manifest: &Manifest) -> Vec<Collecting> {
    manifest
        .entries()
        .iter()
        .filter_map(|entry| match entry {
            Entry::File { path, size, .. } => {
                let last = path.last().map(String::as_str).unwrap_or_default();
                let name = sanitize_filename(last).unwrap_or_else(|_| "received".into());
                Some(Collecting::new(name, entry.display(), *size))
            }
            Entry::Dir { .. } => None,
        })
        .collect()
}

/// Reads the manifest that follows a `files` header (exactly `len` bytes, in frames none of
/// which is final).
async fn read_manifest(data: &mut Data, opener: &mut FrameOpener, len: u64) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    while (bytes.len() as u64) < len {
        let (part, last) = data.next_opened(opener).await?;
        if last || bytes.len() as u64 + u64::from(part.length()) > len {
            return Err("the sender's list of files is not what it announced".into());
        }
        bytes.extend(part.to_vec());
    }
    Ok(bytes)
}

pub(super) async fn stream_in(
    data: &mut Data,
    key: &SharedKey,
    channel: &str,
    on_progress: &impl Fn(u64, u64),
    ask: &impl Fn(Manifest) -> oneshot::Receiver<bool>,
) -> Result<Incoming> {
    let (mut sealer, mut opener) = directions(key, channel, Direction::RecipientToSender).await?;
    let (first, mut last) = data.next_opened(&mut opener).await?;
    let header = Header::decode(&first.to_vec()).map_err(|e| e.to_string())?;
    if header.size > MAX_BROWSER_BYTES {
        if header.is_files() {
            let _ = data
                .send_sealed(&mut sealer, &Answer::encode(false), true)
                .await;
        }
        return Err("too large for a browser tab; use the zkrelay CLI".into());
    }
    let files = match header.manifest {
        None => vec![Collecting::new(
            sanitize_filename(header.name.as_deref().unwrap_or(""))
                .unwrap_or_else(|_| "received".into()),
            String::new(),
            header.size,
        )],
        Some(len) => {
            if last {
                return Err("the sender's list of files is missing".into());
            }
            let bytes = read_manifest(data, &mut opener, len).await?;
            let decoded = Manifest::decode(&bytes, header.size)
                .map_err(|e| e.to_string())
                .and_then(|manifest| {
                    if manifest.file_count() > MAX_BROWSER_FILES {
                        Err(format!(
                            "more than {MAX_BROWSER_FILES} files: receive them with `zkrelay receive`"
                        ))
                    } else {
                        Ok(manifest)
                    }
                });
            let accepted = match decoded {
                Ok(manifest) => {
                    let files = files_of(&manifest);
                    ask(manifest).await.unwrap_or(false).then_some(files)
                }
                Err(e) => {
                    let no = Answer::encode(false);
                    let _ = data.send_sealed(&mut sealer, &no, true).await;
                    return Err(e.into());
                }
            };
            let Some(files) = accepted else {
                data.send_sealed(&mut sealer, &Answer::encode(false), true)
                    .await?;
                return Err("you declined the files: nothing was sent".into());
            };
            data.send_sealed(&mut sealer, &Answer::encode(true), false)
                .await?;
            files
        }
    };
    let mut content = Files::new(files);
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
        content.take(plaintext)?;
        progress.update(received, on_progress);
        last = is_last;
    }
    if received != header.size || !content.collecting.is_empty() {
        return Err("the transfer is incomplete".into());
    }
    data.send_sealed(&mut sealer, &Ack::for_received(header.size), true)
        .await?;
    on_progress(header.size, header.size);
    let mut done = content.done;
    if header.kind == "text" {
        let parts = done.pop().map(|f| f.parts).unwrap_or_default();
        let mut bytes = Vec::with_capacity(usize::try_from(received).unwrap_or(0));
        for part in parts.iter() {
            bytes.extend(Uint8Array::from(part).to_vec());
        }
        return Ok(Incoming::Text(String::from_utf8_lossy(&bytes).into_owned()));
    }
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("application/octet-stream");
    let files = done
        .into_iter()
        .map(|f| -> Result<ReceivedFile> {
            let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&f.parts, &options)
                .map_err(|_| "cannot hold the file")?;
            Ok(ReceivedFile {
                shown: if f.shown.is_empty() {
                    f.name.clone()
                } else {
                    f.shown
                },
                name: f.name,
                size: f.size,
                blob,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Incoming::Files(files))
}

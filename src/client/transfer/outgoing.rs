//! The sender's direction: the header (for several files, the manifest after it and the
//! recipient's answer before any content), the content read slice by slice from the page's text
//! or files and sealed several frames at a time, then the recipient's acknowledgement.

use super::{Data, IN_FLIGHT, MAX_BUFFERED, Outgoing, READ_SLICE, Result, Throttle, directions};
use crate::{
    client::{sleep_ms, webcrypto::SealedFrame},
    protocol::relay::{
        Ack, Answer, Direction, Entry, Header, MAX_FRAME_PLAINTEXT, Manifest, SharedKey,
    },
};
use js_sys::Uint8Array;
use std::collections::VecDeque;

/// Mode bits a browser's files are announced with (the page cannot read a file's own): rw-r--r--.
const FILE_MODE: u32 = 0o644;

/// The content to send, read a slice at a time.
enum Source {
    Text(Uint8Array),
    File(web_sys::File),
}

impl Source {
    fn size(&self) -> u64 {
        match self {
            Source::Text(bytes) => u64::from(bytes.length()),
            Source::File(file) => file.size() as u64,
        }
    }

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

/// The manifest of files picked or dropped in a page: each at the top level, under its own name
/// (the browser gives no folders), in the order given.
pub(super) fn manifest_of(files: &[web_sys::File]) -> Result<Manifest> {
    let entries = files
        .iter()
        .map(|f| Entry::File {
            path: vec![f.name()],
            size: f.size() as u64,
            mode: FILE_MODE,
        })
        .collect();
    Manifest::new(entries).map_err(|e| e.to_string().into())
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

pub(super) async fn stream_out(
    data: &mut Data,
    key: &SharedKey,
    channel: &str,
    outgoing: Outgoing,
    on_progress: &impl Fn(u64, u64),
) -> Result<u64> {
    let (header, manifest, sources) = match outgoing {
        Outgoing::Text(t) => (
            Header::text(t.len() as u64),
            None,
            vec![Source::Text(Uint8Array::from(t.as_bytes()))],
        ),
        Outgoing::File(file) => (
            Header::file(file.name(), file.size() as u64),
            None,
            vec![Source::File(file)],
        ),
        Outgoing::Files(files) => {
            let manifest = manifest_of(&files)?.encode();
            let sources: Vec<Source> = files.into_iter().map(Source::File).collect();
            let total = sources.iter().map(Source::size).sum();
            (
                Header::files(manifest.len() as u64, total),
                Some(manifest),
                sources,
            )
        }
    };
    let total = header.size;
    let (mut sealer, mut opener) = directions(key, channel, Direction::SenderToRecipient).await?;
    let mut in_flight = VecDeque::new();
    let header_is_last = total == 0 && manifest.is_none();
    in_flight.push_back(sealer.seal(&Uint8Array::from(&header.encode()[..]), header_is_last)?);
    if let Some(manifest) = &manifest {
        for part in manifest.chunks(MAX_FRAME_PLAINTEXT) {
            in_flight.push_back(sealer.seal(&Uint8Array::from(part), false)?);
        }
        while !in_flight.is_empty() {
            send_oldest(data, &mut in_flight).await?;
        }
        let (answer, last) = data.next_opened(&mut opener).await?;
        if last || !Answer::accepts(&answer.to_vec()) {
            return Err("the recipient declined the files (nothing was sent)".into());
        }
        if total == 0 {
            in_flight.push_back(sealer.seal(&Uint8Array::new_with_length(0), true)?);
        }
    }
    let mut progress = Throttle::new(total);
    let mut before = 0u64;
    for source in &sources {
        let size = source.size();
        let mut offset = 0u64;
        while offset < size {
            let end = (offset + READ_SLICE as u64).min(size);
            let slice = source.slice(offset, end).await?;
            for start in (0..slice.length()).step_by(MAX_FRAME_PLAINTEXT) {
                let stop = (start + MAX_FRAME_PLAINTEXT as u32).min(slice.length());
                let sent = before + offset + u64::from(stop);
                in_flight.push_back(sealer.seal(&slice.subarray(start, stop), sent == total)?);
                if in_flight.len() >= IN_FLIGHT {
                    send_oldest(data, &mut in_flight).await?;
                    let queued = u64::from(data.socket.link().buffered());
                    progress.update(sent.saturating_sub(queued), on_progress);
                }
            }
            offset = end;
        }
        before += size;
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
    let (ack, _) = data.next_opened(&mut opener).await?;
    if !Ack::confirms(&ack.to_vec(), total) {
        return Err("the recipient reported a problem".into());
    }
    link.close();
    Ok(total)
}

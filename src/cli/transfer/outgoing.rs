//! What `zkrelay send` sends, made ready before the relay is involved: the header, the
//! manifest of several files, and the content as a [`Content`] that can be read again from its
//! start (a file, the bytes of a text or of standard input held in memory, several files).

use super::{Payload, Result, resume::Content, walk};
use crate::protocol::relay::{Header, MAX_MANIFEST_BYTES};
use tokio::io::AsyncReadExt;

/// The content to send, read on a blocking thread (from its start again after a drop).
type Source = Box<dyn Content>;

/// What the sender seals: the header, the manifest (several files) and the content.
pub(super) struct Outgoing {
    pub(super) header: Header,
    pub(super) manifest: Option<Vec<u8>>,
    pub(super) source: Source,
}

pub(super) async fn open_payload(payload: &Payload) -> Result<Outgoing> {
    let (header, source): (Header, Source) = match payload {
        Payload::Text(text) => (
            Header::text(text.len() as u64),
            Box::new(std::io::Cursor::new(text.clone().into_bytes())),
        ),
        Payload::Files(paths) => {
            let paths = paths.clone();
            let (manifest, source) = tokio::task::spawn_blocking(move || walk::collect(&paths))
                .await
                .map_err(|_| "the thread reading the folders failed")??;
            let bytes = manifest.encode();
            if bytes.len() as u64 > MAX_MANIFEST_BYTES {
                return Err(
                    "the list of these files is over 16 MiB: send an archive instead".into(),
                );
            }
            return Ok(Outgoing {
                header: Header::files(bytes.len() as u64, manifest.total_size()),
                manifest: Some(bytes),
                source: Box::new(source),
            });
        }
        Payload::File(path) => {
            let file = std::fs::File::open(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let size = file.metadata().map_err(|e| e.to_string())?.len();
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "file".into());
            (Header::file(name, size), Box::new(file))
        }
        Payload::Stdin => {
            // Standard input's length is unknown ahead: read it fully (bounded by memory).
            let mut bytes = Vec::new();
            tokio::io::stdin()
                .read_to_end(&mut bytes)
                .await
                .map_err(|e| format!("cannot read standard input: {e}"))?;
            (
                Header::file("stdin".into(), bytes.len() as u64),
                Box::new(std::io::Cursor::new(bytes)),
            )
        }
    };
    Ok(Outgoing {
        header,
        manifest: None,
        source,
    })
}

//! The first frame of a transfer: what follows it.
//!
//! Stream version 1 knew two kinds, `text` and `file` (one file), and its headers carry no
//! `version`. Version 2 adds `files`: several files and folders, whose [`super::Manifest`]
//! (`manifest` bytes of JSON) follows the header before any content. A `text` or `file` header
//! is still written exactly as version 1 wrote it, so older peers and the browser pages read it.

use super::{Error, manifest::MAX_MANIFEST_BYTES};
use serde::{Deserialize, Serialize};

/// Largest transfer header.
pub const MAX_HEADER: usize = 4096;
/// The stream version this code speaks (and the one a `files` header names).
pub const STREAM_VERSION: u32 = 2;

/// The first frame of a transfer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// `"text"`, `"file"` or (version 2) `"files"`.
    pub kind: String,
    /// The file's name as the sender gave it (sanitize before use); `None` for text and files.
    pub name: Option<String>,
    /// Bytes of content that follow (for `files`: all files' contents, after the manifest).
    pub size: u64,
    /// The stream version the sender speaks; absent means 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    /// Bytes of manifest between the header and the content (`files` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest: Option<u64>,
}

impl Header {
    /// A text of `size` bytes.
    pub fn text(size: u64) -> Self {
        Self::v1("text", None, size)
    }

    /// One file, called `name`, of `size` bytes.
    pub fn file(name: String, size: u64) -> Self {
        Self::v1("file", Some(name), size)
    }

    /// Several files: a manifest of `manifest` bytes, then `size` bytes of their contents.
    pub fn files(manifest: u64, size: u64) -> Self {
        Self {
            kind: "files".into(),
            name: None,
            size,
            version: Some(STREAM_VERSION),
            manifest: Some(manifest),
        }
    }

    fn v1(kind: &str, name: Option<String>, size: u64) -> Self {
        Self {
            kind: kind.into(),
            name,
            size,
            version: None,
            manifest: None,
        }
    }

    /// Whether a manifest of several files follows.
    pub fn is_files(&self) -> bool {
        self.kind == "files"
    }

    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// A received header: a version newer than this code's is [`Error::NewerVersion`]; a
    /// `files` header must name version 2 and a manifest of 1 to [`MAX_MANIFEST_BYTES`] bytes
    /// ([`Error::ManifestTooLarge`] beyond), the other kinds none.
    pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() > MAX_HEADER {
            return Err(Error::BadHeader);
        }
        let header: Header = serde_json::from_slice(bytes).map_err(|_| Error::BadHeader)?;
        if header.version.is_some_and(|v| v > STREAM_VERSION) {
            return Err(Error::NewerVersion);
        }
        match (header.kind.as_str(), header.version, header.manifest) {
            ("text" | "file", _, None) => Ok(header),
            ("files", Some(STREAM_VERSION), Some(1..=MAX_MANIFEST_BYTES)) => Ok(header),
            ("files", Some(STREAM_VERSION), Some(_)) => Err(Error::ManifestTooLarge),
            _ => Err(Error::BadHeader),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn headers_are_bounded_and_checked() {
        let h = Header::file("a.txt".into(), 5);
        assert_eq!(Header::decode(&h.encode()).unwrap(), h);
        assert_eq!(
            Header::decode(br#"{"kind":"exe","name":null,"size":1}"#).unwrap_err(),
            Error::BadHeader
        );
        assert_eq!(
            Header::decode(br#"{"kind":"text","size":1,"x":2}"#).unwrap_err(),
            Error::BadHeader
        );
        assert_eq!(
            Header::decode(&vec![b' '; MAX_HEADER + 1]).unwrap_err(),
            Error::BadHeader
        );
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn version_1_headers_are_unchanged_and_files_need_version_2() {
        // Byte for byte what version 1 sent, so older receivers and the pages read them.
        assert_eq!(
            Header::text(3).encode(),
            br#"{"kind":"text","name":null,"size":3}"#
        );
        assert_eq!(
            Header::file("a".into(), 3).encode(),
            br#"{"kind":"file","name":"a","size":3}"#
        );
        let files = Header::files(40, 7);
        assert_eq!(
            files.encode(),
            br#"{"kind":"files","name":null,"size":7,"version":2,"manifest":40}"#
        );
        assert_eq!(Header::decode(&files.encode()).unwrap(), files);
        assert!(files.is_files() && !Header::text(1).is_files());
        for (json, want) in [
            (r#"{"kind":"files","name":null,"size":7}"#, Error::BadHeader),
            (
                r#"{"kind":"files","name":null,"size":7,"version":2}"#,
                Error::BadHeader,
            ),
            (
                r#"{"kind":"files","name":null,"size":7,"version":1,"manifest":4}"#,
                Error::BadHeader,
            ),
            (
                r#"{"kind":"files","name":null,"size":7,"version":2,"manifest":0}"#,
                Error::ManifestTooLarge,
            ),
            (
                r#"{"kind":"files","name":null,"size":7,"version":2,"manifest":16777217}"#,
                Error::ManifestTooLarge,
            ),
            (
                r#"{"kind":"file","name":"a","size":7,"version":2,"manifest":4}"#,
                Error::BadHeader,
            ),
            (
                r#"{"kind":"folder","name":null,"size":7,"version":3}"#,
                Error::NewerVersion,
            ),
        ] {
            assert_eq!(Header::decode(json.as_bytes()).unwrap_err(), want, "{json}");
        }
        Header::decode(br#"{"kind":"files","name":null,"size":7,"version":2,"manifest":16777216}"#)
            .unwrap();
        Header::decode(br#"{"kind":"text","name":null,"size":7,"version":2}"#).unwrap();
    }
}

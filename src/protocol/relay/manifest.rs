//! The list of files and folders a `files` transfer carries (stream version 2): sent encrypted
//! right after the header, checked completely before the recipient is asked or anything is
//! written.
//!
//! On the wire it is a JSON array, one object per entry, no other fields:
//! `[{"dir":["photos"]},{"file":["photos","a.jpg"],"size":1234,"mode":420}]`. A path is its
//! components, never a string with separators. The files' contents follow in the manifest's
//! order, back to back, `size` bytes each; directories (empty ones too) carry no content.
//!
//! [`Manifest::decode`] bounds everything before it allocates: at most [`MAX_MANIFEST_BYTES`] of
//! JSON; while parsing, at most [`MAX_ENTRIES`] entries and [`MAX_DEPTH`] components per path
//! are kept (the rest is only counted, to be refused). Then every entry must be a path the
//! recipient can create inside its folder and nowhere else (see [`Refusal`]), no path may be
//! listed twice, even in another case (so a case-insensitive file system cannot be led to write
//! one file through another), no entry may lie inside a file, and the sizes must add up to the
//! header's.

use super::filename::{MAX_FILENAME_BYTES, is_hidden_char};
use serde::{
    Deserialize, Deserializer, Serialize,
    de::{IgnoredAny, SeqAccess, Visitor},
};
use std::collections::HashMap;

/// Largest manifest, in bytes of JSON.
pub const MAX_MANIFEST_BYTES: u64 = 16 << 20;
/// Most entries (files and directories) in one transfer.
pub const MAX_ENTRIES: usize = 100_000;
/// Most components in one path.
pub const MAX_DEPTH: usize = 64;
/// The mode bits a file keeps: read, write and execute for owner, group and others (never
/// setuid, setgid or sticky).
pub const MODE_BITS: u32 = 0o777;
/// Characters of a path shown in an error.
const SHOWN_CHARS: usize = 200;

/// One file or directory, at a path relative to the recipient's folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// `size` bytes of content follow; `mode` is masked to [`MODE_BITS`].
    File {
        path: Vec<String>,
        size: u64,
        mode: u32,
    },
    /// A directory, created even when nothing is put in it.
    Dir { path: Vec<String> },
}

impl Entry {
    pub fn path(&self) -> &[String] {
        match self {
            Entry::File { path, .. } | Entry::Dir { path } => path,
        }
    }

    /// The path for people: components joined by `/` (a directory ends in `/`), hidden
    /// characters escaped, long paths cut.
    pub fn display(&self) -> String {
        let mut shown = show_path(self.path());
        if matches!(self, Entry::Dir { .. }) {
            shown.push('/');
        }
        shown
    }
}

fn show_path(path: &[String]) -> String {
    let joined = path.join("/");
    let mut shown: String = joined
        .chars()
        .take(SHOWN_CHARS)
        .map(|c| {
            if is_hidden_char(c) {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect();
    if joined.chars().count() > SHOWN_CHARS {
        shown.push('…');
    }
    shown
}

/// A checked list of entries: every path safe, none twice, sizes summed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    entries: Vec<Entry>,
    total: u64,
}

/// Why a manifest was refused, and which entry (as [`Entry::display`] shows it), if one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the list of files was refused: {}{reason}", entry.as_ref().map(|e| format!("{e:?}: ")).unwrap_or_default())]
pub struct ManifestError {
    pub entry: Option<String>,
    pub reason: Refusal,
}

/// What is wrong with a manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("it is larger than 16 MiB")]
    TooLarge,
    #[error(
        "it is not a JSON list of {{\"file\": [...], \"size\", \"mode\"}} and {{\"dir\": [...]}}"
    )]
    Malformed,
    #[error("it lists nothing")]
    Empty,
    #[error("it has more than 100000 entries")]
    TooManyEntries,
    #[error("the path is empty")]
    EmptyPath,
    #[error("the path is absolute")]
    Absolute,
    #[error("the path has an empty component")]
    EmptyComponent,
    #[error("the path has a . or .. component")]
    DotComponent,
    #[error("a component contains /")]
    Slash,
    #[error("the path contains a backslash")]
    Backslash,
    #[error("the path has a drive letter")]
    DriveLetter,
    #[error("the path contains a control or text-direction character")]
    HiddenCharacter,
    #[error("a component is longer than 255 bytes")]
    ComponentTooLong,
    #[error("the path is deeper than 64 components")]
    TooDeep,
    #[error("the path is listed twice (perhaps in another case)")]
    Duplicate,
    #[error("the path lies inside a file of the transfer")]
    InsideFile,
    #[error("the sizes do not add up to the size the sender announced")]
    SizeMismatch,
}

impl Refusal {
    fn at(self, path: &[String]) -> ManifestError {
        ManifestError {
            entry: Some(show_path(path)),
            reason: self,
        }
    }
}

impl From<Refusal> for ManifestError {
    fn from(reason: Refusal) -> Self {
        ManifestError {
            entry: None,
            reason,
        }
    }
}

impl Manifest {
    /// Checks `entries` (modes masked to [`MODE_BITS`]) and sums their sizes.
    pub fn new(mut entries: Vec<Entry>) -> Result<Self, ManifestError> {
        if entries.is_empty() {
            return Err(Refusal::Empty.into());
        }
        if entries.len() > MAX_ENTRIES {
            return Err(Refusal::TooManyEntries.into());
        }
        let mut total = 0u64;
        for entry in &mut entries {
            check_path(entry.path())?;
            if let Entry::File { path, size, mode } = entry {
                *mode &= MODE_BITS;
                total = total
                    .checked_add(*size)
                    .ok_or_else(|| Refusal::SizeMismatch.at(path))?;
            }
        }
        check_distinct(&entries)?;
        Ok(Self { entries, total })
    }

    /// Reads a received manifest of a transfer whose header announced `size` bytes of content.
    pub fn decode(bytes: &[u8], size: u64) -> Result<Self, ManifestError> {
        if bytes.len() as u64 > MAX_MANIFEST_BYTES {
            return Err(Refusal::TooLarge.into());
        }
        let wire: WireManifest =
            serde_json::from_slice(bytes).map_err(|_| ManifestError::from(Refusal::Malformed))?;
        if wire.count > MAX_ENTRIES {
            return Err(Refusal::TooManyEntries.into());
        }
        let entries = wire
            .kept
            .into_iter()
            .map(WireEntry::into_entry)
            .collect::<Result<Vec<_>, _>>()?;
        let manifest = Self::new(entries)?;
        if manifest.total != size {
            return Err(Refusal::SizeMismatch.into());
        }
        Ok(manifest)
    }

    /// The JSON sent after the header.
    pub fn encode(&self) -> Vec<u8> {
        let wire: Vec<WireEntry> = self.entries.iter().map(WireEntry::from_entry).collect();
        serde_json::to_vec(&wire).unwrap_or_default()
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Bytes of content: the files' sizes added up.
    pub fn total_size(&self) -> u64 {
        self.total
    }

    /// How many entries are files.
    pub fn file_count(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| matches!(e, Entry::File { .. }))
            .count()
    }
}

/// One path's own rules: relative, components neither empty nor `.`/`..`, no separators,
/// drive letters or hidden characters, each at most 255 bytes, at most [`MAX_DEPTH`] deep.
fn check_path(path: &[String]) -> Result<(), ManifestError> {
    let Some(first) = path.first() else {
        return Err(Refusal::EmptyPath.at(path));
    };
    if first.starts_with('/') || (first.is_empty() && path.len() > 1) {
        return Err(Refusal::Absolute.at(path));
    }
    if path.len() > MAX_DEPTH {
        return Err(Refusal::TooDeep.at(path));
    }
    for part in path {
        let refusal = if part.is_empty() {
            Some(Refusal::EmptyComponent)
        } else if part == "." || part == ".." {
            Some(Refusal::DotComponent)
        } else if part.contains('/') {
            Some(Refusal::Slash)
        } else if part.contains('\\') {
            Some(Refusal::Backslash)
        } else if part.chars().any(is_hidden_char) {
            Some(Refusal::HiddenCharacter)
        } else if matches!(part.as_bytes(), [letter, b':', ..] if letter.is_ascii_alphabetic()) {
            Some(Refusal::DriveLetter)
        } else if part.len() > MAX_FILENAME_BYTES {
            Some(Refusal::ComponentTooLong)
        } else {
            None
        };
        if let Some(refusal) = refusal {
            return Err(refusal.at(path));
        }
    }
    Ok(())
}

/// No path twice, compared in lowercase; no entry under a file.
fn check_distinct(entries: &[Entry]) -> Result<(), ManifestError> {
    // Lowercased path (components joined by `/`, which no component contains) → is a file.
    let mut seen: HashMap<String, bool> = HashMap::with_capacity(entries.len());
    let mut keys = Vec::with_capacity(entries.len());
    for entry in entries {
        let key = entry.path().join("/").to_lowercase();
        let is_file = matches!(entry, Entry::File { .. });
        if seen.insert(key.clone(), is_file).is_some() {
            return Err(Refusal::Duplicate.at(entry.path()));
        }
        keys.push(key);
    }
    for (entry, key) in entries.iter().zip(&keys) {
        let under_file = key
            .match_indices('/')
            .any(|(at, _)| seen.get(&key[..at]) == Some(&true));
        if under_file {
            return Err(Refusal::InsideFile.at(entry.path()));
        }
    }
    Ok(())
}

/// An entry as JSON: exactly one of `file` and `dir`; a file has a `size` and a `mode`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    file: Option<WirePath>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dir: Option<WirePath>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mode: Option<u32>,
}

impl WireEntry {
    fn from_entry(entry: &Entry) -> Self {
        let path = || Some(WirePath::new(entry.path().to_vec()));
        match entry {
            Entry::File { size, mode, .. } => WireEntry {
                file: path(),
                dir: None,
                size: Some(*size),
                mode: Some(*mode),
            },
            Entry::Dir { .. } => WireEntry {
                file: None,
                dir: path(),
                size: None,
                mode: None,
            },
        }
    }

    fn into_entry(self) -> Result<Entry, ManifestError> {
        let path = match (&self.file, &self.dir) {
            (Some(path), None) | (None, Some(path)) => path,
            _ => return Err(Refusal::Malformed.into()),
        };
        if path.depth > MAX_DEPTH {
            return Err(Refusal::TooDeep.at(&path.parts));
        }
        match self {
            WireEntry {
                file: Some(path),
                size: Some(size),
                mode: Some(mode),
                ..
            } => Ok(Entry::File {
                path: path.parts,
                size,
                mode,
            }),
            WireEntry {
                dir: Some(path),
                size: None,
                mode: None,
                ..
            } => Ok(Entry::Dir { path: path.parts }),
            WireEntry { file, dir, .. } => {
                Err(Refusal::Malformed.at(&file.or(dir).map(|p| p.parts).unwrap_or_default()))
            }
        }
    }
}

/// A path's components as parsed: at most [`MAX_DEPTH`] kept, `depth` counts them all.
#[derive(Serialize)]
#[serde(transparent)]
struct WirePath {
    parts: Vec<String>,
    #[serde(skip)]
    depth: usize,
}

impl WirePath {
    fn new(parts: Vec<String>) -> Self {
        let depth = parts.len();
        Self { parts, depth }
    }
}

impl<'de> Deserialize<'de> for WirePath {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let Bounded { kept, count } = Bounded::<String, MAX_DEPTH>::deserialize(deserializer)?;
        Ok(WirePath {
            parts: kept,
            depth: count,
        })
    }
}

/// The manifest as parsed: at most [`MAX_ENTRIES`] entries kept, `count` counts them all.
type WireManifest = Bounded<WireEntry, MAX_ENTRIES>;

/// A JSON list of which at most `MAX` items are parsed and kept; the rest are only counted
/// (skipped without being built), so a list's length never decides what is allocated.
struct Bounded<T, const MAX: usize> {
    kept: Vec<T>,
    count: usize,
}

impl<'de, T: Deserialize<'de>, const MAX: usize> Deserialize<'de> for Bounded<T, MAX> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Items<T, const MAX: usize>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>, const MAX: usize> Visitor<'de> for Items<T, MAX> {
            type Value = Bounded<T, MAX>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut kept = Vec::new();
                while kept.len() < MAX {
                    match seq.next_element::<T>()? {
                        Some(item) => kept.push(item),
                        None => {
                            let count = kept.len();
                            return Ok(Bounded { kept, count });
                        }
                    }
                }
                let mut count = kept.len();
                while seq.next_element::<IgnoredAny>()?.is_some() {
                    count += 1;
                }
                Ok(Bounded { kept, count })
            }
        }
        deserializer.deserialize_seq(Items(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests;

//! Where `zkrelay receive` puts what arrives: a file in the chosen folder, a text in memory, or
//! standard output; several files and folders go through [`files::FilesSink`].
//!
//! A file is written under a hidden partial name of its own, `.{name}.{8 hex}.zkrelay-partial`,
//! created exclusively with a random part: a leftover of a crashed receive (or one running in
//! the same folder) is never reused, never blocks a retry and is never taken for the content.
//! Only a complete transfer is moved to `name`, else `stem (1).ext`, `stem (2).ext`…, by a move
//! that fails rather than replace a file (`renameat2(RENAME_NOREPLACE)` on Linux, a hard link
//! elsewhere), so nothing is overwritten, not even a file created while the content arrived.
//! Names are cut (see [`MAX_NAME`]) so that every name derived from them fits in 255 bytes.

mod files;

use super::transfer::Destination;
use crate::protocol::relay::{
    Header, MAX_FILENAME_BYTES, Manifest, sanitize_filename, shorten_filename,
};
use rand::{RngCore, rngs::OsRng};
use sha2::{Digest, Sha256};
use std::{
    fs::File,
    io::{self, ErrorKind},
    path::{Path, PathBuf},
};

type Result<T> = std::result::Result<T, String>;

/// Largest text kept in memory (a text goes to the terminal, not to a file).
const MAX_TEXT: u64 = 16 << 20;
/// What a partial name adds to the file's name.
const PARTIAL_SUFFIX: &str = ".zkrelay-partial";
/// Bytes a partial name adds: a leading `.`, then `.` and 8 hex digits, then the suffix.
const PARTIAL_EXTRA: usize = 1 + 1 + 8 + PARTIAL_SUFFIX.len();
/// Partial names tried before giving up (each is new with probability 1 − 2⁻³² per file there).
const PARTIAL_TRIES: usize = 8;
/// Highest number of a numbered alternative, `stem (N).ext`.
const MAX_NUMBER: u32 = 9999;
/// Bytes the largest number adds: ` (9999)`.
const NUMBER_EXTRA: usize = 7;
/// Longest name a received file gets, in bytes: its partial name and every numbered alternative
/// still fit in [`MAX_FILENAME_BYTES`] (NAME_MAX on common file systems).
pub(super) const MAX_NAME: usize = MAX_FILENAME_BYTES
    - if PARTIAL_EXTRA > NUMBER_EXTRA {
        PARTIAL_EXTRA
    } else {
        NUMBER_EXTRA
    };

/// Where received content is written.
pub(super) enum Sink {
    File(FileSink),
    Files(files::FilesSink),
    Text(Vec<u8>),
    Stdout(io::Stdout),
}

/// What a complete transfer left.
pub(super) enum Kept {
    /// A file, at this path.
    File(PathBuf),
    /// Several files: where each top-level entry went.
    Files(Vec<PathBuf>),
    Text(String),
    /// Written to standard output.
    Stdout,
}

impl Sink {
    pub(super) fn create(header: &Header, destination: &Destination) -> Result<Self> {
        match (destination, header.kind.as_str()) {
            (Destination::Stdout, _) => Ok(Sink::Stdout(io::stdout())),
            (Destination::Folder(_), "text") => {
                if header.size > MAX_TEXT {
                    return Err("a text over 16 MiB is refused".into());
                }
                Ok(Sink::Text(Vec::new()))
            }
            (Destination::Folder(dir), _) => {
                let name = sanitize_filename(header.name.as_deref().unwrap_or("received"))
                    .unwrap_or_else(|_| "received".into());
                FileSink::create(dir, &name).map(Sink::File)
            }
        }
    }

    /// Several files of `manifest` (already checked and accepted) into `destination`.
    pub(super) fn create_files(manifest: &Manifest, destination: &Destination) -> Result<Self> {
        match destination {
            Destination::Folder(dir) => files::FilesSink::create(manifest, dir).map(Sink::Files),
            Destination::Stdout => Err("several files cannot go to standard output".into()),
        }
    }

    pub(super) fn write(&mut self, bytes: &[u8]) -> Result<()> {
        use std::io::Write;
        match self {
            Sink::File(sink) => sink.write(bytes),
            Sink::Files(sink) => sink.write(bytes),
            Sink::Text(buf) => {
                buf.extend_from_slice(bytes);
                Ok(())
            }
            Sink::Stdout(out) => out.write_all(bytes).map_err(|e| format!("writing: {e}")),
        }
    }

    /// Whether [`Sink::hash_kept`] can read the content back (all but standard output).
    pub(super) fn can_read_back(&self) -> bool {
        !matches!(self, Sink::Stdout(_))
    }

    /// SHA-256 of the first `len` bytes as they are kept now, read back from disk (a file's
    /// partial, the staging folder of several) or memory (a text); `None` for standard
    /// output, whose running hash stands.
    pub(super) fn hash_kept(&self, len: u64) -> Result<Option<Sha256>> {
        match self {
            Sink::File(sink) => sink.hash_kept(len).map(Some),
            Sink::Files(sink) => sink.hash_kept(len).map(Some),
            Sink::Text(buf) => Ok(Some(Sha256::new_with_prefix(buf))),
            Sink::Stdout(_) => Ok(None),
        }
    }

    /// Puts the complete content in place.
    pub(super) fn finish(self) -> Result<Kept> {
        use std::io::Write;
        match self {
            Sink::File(sink) => sink.place().map(Kept::File),
            Sink::Files(sink) => sink.place().map(Kept::Files),
            Sink::Text(bytes) => Ok(Kept::Text(String::from_utf8_lossy(&bytes).into_owned())),
            Sink::Stdout(mut out) => {
                out.flush().map_err(|e| e.to_string())?;
                Ok(Kept::Stdout)
            }
        }
    }

    /// Drops what arrived: a file's partial is deleted.
    pub(super) fn discard(self) {
        drop(self);
    }
}

/// A file being received: written to its own partial file, moved into place by
/// [`FileSink::place`]. Dropped before that, it deletes the partial file.
pub(super) struct FileSink {
    dir: PathBuf,
    /// The name to place the file under (cut to [`MAX_NAME`]).
    name: String,
    /// `None` once placed.
    partial: Option<PathBuf>,
    /// Written unbuffered: each write is a whole frame's plaintext (up to 64 KiB).
    file: Option<File>,
}

impl FileSink {
    /// A new partial file in `dir` for a file to be called `name` (already sanitized).
    pub(super) fn create(dir: &Path, name: &str) -> Result<Self> {
        let name = shorten_filename(name, MAX_NAME);
        for _ in 0..PARTIAL_TRIES {
            let partial = dir.join(format!(".{name}.{:08x}{PARTIAL_SUFFIX}", OsRng.next_u32()));
            match File::options().write(true).create_new(true).open(&partial) {
                Ok(file) => {
                    return Ok(Self {
                        dir: dir.to_owned(),
                        name,
                        partial: Some(partial),
                        file: Some(file),
                    });
                }
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
                Err(e) => return Err(format!("cannot create {}: {e}", partial.display())),
            }
        }
        Err(format!(
            "cannot create a partial file for {name} in {}",
            dir.display()
        ))
    }

    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        use std::io::Write;
        match &mut self.file {
            Some(file) => file.write_all(bytes).map_err(|e| format!("writing: {e}")),
            None => Err("writing: the file is closed".into()),
        }
    }

    /// SHA-256 of the partial file on disk, which must be exactly the `len` bytes written.
    fn hash_kept(&self, len: u64) -> Result<Sha256> {
        use std::io::Read;
        let Some(partial) = &self.partial else {
            return Err("the file was already placed".into());
        };
        let changed = |why: String| {
            format!(
                "the partial file {} changed while the connection was down ({why}): nothing was kept",
                partial.display()
            )
        };
        let mut file = File::open(partial).map_err(|e| changed(e.to_string()))?;
        let size = file.metadata().map_err(|e| changed(e.to_string()))?.len();
        if size != len {
            return Err(changed(format!("{size} bytes, not the {len} received")));
        }
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            match file.read(&mut buf) {
                Ok(0) => return Ok(hasher),
                Ok(n) => hasher.update(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(changed(e.to_string())),
            }
        }
    }

    /// Moves the partial file to the first of `name`, `stem (1).ext` … that does not exist at
    /// the moment of the move, and returns where it went. On failure the partial file goes.
    pub(super) fn place(mut self) -> Result<PathBuf> {
        use std::io::Write;
        if let Some(mut file) = self.file.take() {
            file.flush().map_err(|e| format!("writing: {e}"))?;
        }
        let Some(partial) = self.partial.clone() else {
            return Err("the file was already placed".into());
        };
        for name in numbered_names(&self.name, false) {
            let target = self.dir.join(&name);
            match move_no_replace(&partial, &target) {
                Ok(()) => {
                    self.partial = None;
                    return Ok(target);
                }
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
                Err(e) => return Err(format!("cannot move the file to {}: {e}", target.display())),
            }
        }
        Err(format!(
            "{} and {MAX_NUMBER} numbered copies of it already exist in {}",
            self.name,
            self.dir.display()
        ))
    }
}

impl Drop for FileSink {
    fn drop(&mut self) {
        drop(self.file.take());
        if let Some(partial) = self.partial.take() {
            let _ = std::fs::remove_file(partial);
        }
    }
}

/// `name`, then `stem (1).ext` … `stem (MAX_NUMBER).ext` (a folder's: `name (1)` …).
fn numbered_names(name: &str, folder: bool) -> impl Iterator<Item = String> + '_ {
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() && !folder => (s, Some(e)),
        _ => (name, None),
    };
    std::iter::once(name.to_owned()).chain((1..=MAX_NUMBER).map(move |i| match ext {
        Some(ext) => format!("{stem} ({i}).{ext}"),
        None => format!("{stem} ({i})"),
    }))
}

/// Moves `from` to `to` unless `to` exists, [`ErrorKind::AlreadyExists`] then. Atomic on Linux
/// (`renameat2` with `RENAME_NOREPLACE`) and on file systems with hard links (link, then unlink);
/// on the rest (e.g. FAT without `RENAME_NOREPLACE`) a check before a plain rename.
fn move_no_replace(from: &Path, to: &Path) -> io::Result<()> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use nix::errno::Errno;
        match rename_no_replace(from, to) {
            // This file system cannot do it: fall back.
            Err(Errno::EINVAL | Errno::ENOSYS | Errno::EOPNOTSUPP) => {}
            other => return other.map_err(io::Error::from),
        }
    }
    link_then_unlink(from, to)
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn rename_no_replace(from: &Path, to: &Path) -> nix::Result<()> {
    use nix::fcntl::{AT_FDCWD, RenameFlags, renameat2};
    renameat2(AT_FDCWD, from, AT_FDCWD, to, RenameFlags::RENAME_NOREPLACE)
}

/// The portable no-replace move: creating a hard link fails if the name exists.
fn link_then_unlink(from: &Path, to: &Path) -> io::Result<()> {
    match std::fs::hard_link(from, to) {
        Ok(()) => {
            // The file is in place; a partial name left over is only a hidden second name.
            let _ = std::fs::remove_file(from);
            Ok(())
        }
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Err(e),
        // No hard links here: the best this file system allows.
        Err(_) if to.try_exists()? => Err(ErrorKind::AlreadyExists.into()),
        Err(_) => std::fs::rename(from, to),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(name: &str) -> Header {
        Header::file(name.into(), 3)
    }

    fn listing(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_name_taken_after_the_sink_was_created_is_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = Sink::create(
            &header("a.txt"),
            &Destination::Folder(dir.path().to_owned()),
        )
        .unwrap();
        sink.write(b"new").unwrap();
        // Someone else creates the name while the content is arriving.
        std::fs::write(dir.path().join("a.txt"), b"old").unwrap();
        let Kept::File(path) = sink.finish().unwrap() else {
            panic!("not a file")
        };
        assert_eq!(path, dir.path().join("a (1).txt"));
        assert_eq!(std::fs::read(dir.path().join("a.txt")).unwrap(), b"old");
        assert_eq!(std::fs::read(dir.path().join("a (1).txt")).unwrap(), b"new");
        assert_eq!(listing(dir.path()), ["a (1).txt", "a.txt"]);
    }

    #[test]
    fn sinks_for_one_name_get_their_own_partials_and_names() {
        let dir = tempfile::tempdir().unwrap();
        let mut a = FileSink::create(dir.path(), "x").unwrap();
        let mut b = FileSink::create(dir.path(), "x").unwrap();
        assert_ne!(a.partial, b.partial);
        a.write(b"a").unwrap();
        b.write(b"b").unwrap();
        let c = FileSink::create(dir.path(), "x").unwrap();
        assert_eq!(b.place().unwrap(), dir.path().join("x"));
        assert_eq!(a.place().unwrap(), dir.path().join("x (1)"));
        // Dropped unplaced: its partial file goes.
        drop(c);
        assert_eq!(listing(dir.path()), ["x", "x (1)"]);
        assert_eq!(std::fs::read(dir.path().join("x")).unwrap(), b"b");
    }

    #[test]
    fn every_derived_name_fits_in_255_bytes() {
        assert_eq!(MAX_NAME, 229, "docs/PROTOCOL.md states 229 bytes");
        let dir = tempfile::tempdir().unwrap();
        for name in [
            format!("{}a.txt", "é".repeat(125)),
            "日".repeat(85),
            format!("{}.{}", "x".repeat(100), "y".repeat(154)),
        ] {
            assert_eq!(name.len(), 255);
            let sink = FileSink::create(dir.path(), &name).unwrap();
            let partial = sink.partial.clone().unwrap();
            let partial = partial.file_name().unwrap().len();
            assert!(partial <= MAX_FILENAME_BYTES, "{partial}");
            let longest = numbered_names(&sink.name, false)
                .map(|n| n.len())
                .max()
                .unwrap();
            assert!(longest <= MAX_FILENAME_BYTES, "{longest}");
            assert_eq!(
                numbered_names(&sink.name, false).count(),
                1 + MAX_NUMBER as usize
            );
        }
        // A short extension is kept.
        let sink = FileSink::create(dir.path(), &format!("{}a.txt", "é".repeat(125))).unwrap();
        assert!(sink.name.ends_with("é.txt"), "{}", sink.name);
        drop(sink);
        assert!(listing(dir.path()).is_empty());
    }

    #[test]
    fn every_no_replace_move_refuses_an_existing_name() {
        #[allow(clippy::type_complexity)]
        let moves: &[(&str, fn(&Path, &Path) -> io::Result<()>)] = &[
            ("move_no_replace", move_no_replace),
            ("link_then_unlink", link_then_unlink),
            #[cfg(all(target_os = "linux", target_env = "gnu"))]
            ("renameat2", |a, b| {
                rename_no_replace(a, b).map_err(io::Error::from)
            }),
        ];
        for (what, move_file) in moves {
            let dir = tempfile::tempdir().unwrap();
            let (from, to) = (dir.path().join("from"), dir.path().join("to"));
            std::fs::write(&from, b"new").unwrap();
            std::fs::write(&to, b"old").unwrap();
            let err = move_file(&from, &to).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::AlreadyExists, "{what}");
            assert_eq!(std::fs::read(&to).unwrap(), b"old", "{what}");
            assert_eq!(std::fs::read(&from).unwrap(), b"new", "{what}");
            std::fs::remove_file(&to).unwrap();
            move_file(&from, &to).unwrap();
            assert_eq!(std::fs::read(&to).unwrap(), b"new", "{what}");
            assert!(!from.exists(), "{what}");
        }
    }
}

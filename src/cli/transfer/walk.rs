//! What `zkrelay send a.jpg b.pdf dir/` sends: the [`Manifest`] of the named files and folders
//! (each folder walked in name order) and a [`FilesSource`] that reads their contents back to
//! back, checking that each is still the size the manifest says.
//!
//! Symbolic links named on the command line are followed (the person chose them); inside a
//! folder, symbolic links and anything but files and folders (sockets, devices) are skipped
//! with a line on stderr, never followed, and files are opened with `O_NOFOLLOW`, so a link put
//! in place after the walk is not followed either.

use super::Result;
use crate::protocol::relay::{Entry, MAX_DEPTH, MAX_ENTRIES, Manifest, ManifestError};
use std::{
    fs::{File, Metadata},
    io::{self, Read},
    path::{Path, PathBuf},
};

/// A file to read: where it is, how many bytes the manifest promises, whether links are refused.
struct Source {
    path: PathBuf,
    size: u64,
    no_follow: bool,
}

/// The manifest of `paths` and the reader of its files' contents.
pub(super) fn collect(paths: &[PathBuf]) -> Result<(Manifest, FilesSource)> {
    let mut walk = Walk::default();
    for path in paths {
        let meta =
            std::fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let name = top_name(path)?;
        walk.add(path, vec![name], &meta, false)?;
    }
    let manifest = Manifest::new(walk.entries).map_err(|e| sender_error(&e))?;
    let source = FilesSource {
        files: walk.sources,
        next: 0,
        current: None,
    };
    Ok((manifest, source))
}

/// The name a named path gets in the manifest: its last component (that of its absolute
/// form for `.` and the like).
fn top_name(path: &Path) -> Result<String> {
    let name = match path.file_name() {
        Some(name) => name.to_owned(),
        None => std::fs::canonicalize(path)
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_owned()))
            .ok_or_else(|| format!("{} has no name to send it under", path.display()))?,
    };
    utf8(name, path)
}

fn utf8(name: std::ffi::OsString, path: &Path) -> Result<String> {
    name.into_string().map_err(|_| {
        format!(
            "{}: the name is not UTF-8; rename it to send it",
            path.display()
        )
        .into()
    })
}

fn sender_error(e: &ManifestError) -> String {
    match &e.entry {
        Some(entry) => format!("cannot send {entry:?}: {}", e.reason),
        None => format!("cannot send these files: {}", e.reason),
    }
}

#[derive(Default)]
struct Walk {
    entries: Vec<Entry>,
    sources: Vec<Source>,
}

impl Walk {
    /// Adds `path` (a file or a folder, as `meta` says) at `at` in the manifest.
    fn add(
        &mut self,
        path: &Path,
        at: Vec<String>,
        meta: &Metadata,
        no_follow: bool,
    ) -> Result<()> {
        if self.entries.len() >= MAX_ENTRIES {
            return Err(format!(
                "more than {MAX_ENTRIES} files and folders: send an archive of them instead"
            )
            .into());
        }
        if at.len() > MAX_DEPTH {
            return Err(format!("{} is more than {MAX_DEPTH} folders deep", path.display()).into());
        }
        if meta.is_dir() {
            self.entries.push(Entry::Dir { path: at.clone() });
            let mut children = std::fs::read_dir(path)
                .and_then(|dir| dir.collect::<io::Result<Vec<_>>>())
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            children.sort_by_key(|child| child.file_name());
            for child in children {
                let child_path = child.path();
                let kind = child
                    .file_type()
                    .map_err(|e| format!("cannot read {}: {e}", child_path.display()))?;
                if kind.is_symlink() {
                    eprintln!(
                        "skipped {}: a symbolic link (not followed)",
                        child_path.display()
                    );
                    continue;
                }
                if !kind.is_dir() && !kind.is_file() {
                    eprintln!("skipped {}: not a file or a folder", child_path.display());
                    continue;
                }
                let meta = std::fs::symlink_metadata(&child_path)
                    .map_err(|e| format!("cannot read {}: {e}", child_path.display()))?;
                let mut child_at = at.clone();
                child_at.push(utf8(child.file_name(), &child_path)?);
                self.add(&child_path, child_at, &meta, true)?;
            }
        } else if meta.is_file() {
            self.entries.push(Entry::File {
                path: at,
                size: meta.len(),
                mode: mode(meta),
            });
            self.sources.push(Source {
                path: path.to_owned(),
                size: meta.len(),
                no_follow,
            });
        } else {
            return Err(format!("{} is not a file or a folder", path.display()).into());
        }
        Ok(())
    }
}

#[cfg(unix)]
fn mode(meta: &Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode()
}

#[cfg(not(unix))]
fn mode(_: &Metadata) -> u32 {
    0o644
}

/// The files' contents back to back, each exactly as long as the manifest says: a file that
/// shrank or grew since the walk is an error, not a shifted stream.
pub(super) struct FilesSource {
    files: Vec<Source>,
    /// The index in `files` of the next file to open.
    next: usize,
    /// The file being read and the bytes still due from it.
    current: Option<(File, u64, PathBuf)>,
}

impl FilesSource {
    fn open(source: &Source) -> io::Result<File> {
        let mut options = File::options();
        options.read(true);
        #[cfg(target_os = "linux")]
        if source.no_follow {
            use std::os::unix::fs::OpenOptionsExt;
            options.custom_flags(nix::libc::O_NOFOLLOW);
        }
        options.open(&source.path).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot read {}: {e}", source.path.display()),
            )
        })
    }
}

impl Read for FilesSource {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            match &mut self.current {
                Some((file, due, path)) if *due > 0 => {
                    let room = buf.len().min(usize::try_from(*due).unwrap_or(usize::MAX));
                    let n = file.read(&mut buf[..room])?;
                    if n == 0 {
                        let path = path.display();
                        return Err(io::Error::other(format!("{path} shrank while it was sent")));
                    }
                    *due -= n as u64;
                    return Ok(n);
                }
                Some((file, _, path)) => {
                    if file.read(&mut [0u8; 1])? != 0 {
                        let path = path.display();
                        return Err(io::Error::other(format!("{path} grew while it was sent")));
                    }
                    self.current = None;
                }
                None => match self.files.get(self.next) {
                    None => return Ok(0),
                    Some(source) => {
                        let file = Self::open(source)?;
                        self.current = Some((file, source.size, source.path.clone()));
                        self.next += 1;
                    }
                },
            }
        }
    }
}

impl super::resume::Content for FilesSource {
    /// Back to the first file (each is opened and checked again as it comes).
    fn restart(&mut self) -> io::Result<()> {
        self.current = None;
        self.next = 0;
        Ok(())
    }
}

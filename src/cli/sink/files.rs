//! Several files and folders (a [`Manifest`]) written into the receiver's folder, and nowhere
//! else.
//!
//! Everything is written inside a hidden staging folder of our own,
//! `.zkrelay-files.{8 hex}.zkrelay-partial`, created exclusively (mode 0700) in the target
//! folder. Folders are made one component at a time, each checked with `symlink_metadata`
//! (an existing one must be a real folder, never a symbolic link); files are created with
//! `create_new` (and `O_NOFOLLOW` on Linux), so nothing is written through a link or over a
//! file. A file's mode (permission bits only) is set once its content is in, and its size is
//! checked against the manifest. Only a complete transfer is moved into place: each top-level
//! entry to its name, else `name (1)`…, by the same no-replace move a single file uses; a failed
//! transfer removes the staging folder and leaves the target folder as it was.

use super::{Result, move_no_replace, numbered_names};
use crate::protocol::relay::{Entry, MODE_BITS, Manifest};
use rand::{RngCore, rngs::OsRng};
use sha2::{Digest, Sha256};
use std::{
    collections::HashSet,
    fs::File,
    io::{ErrorKind, Write},
    path::{Path, PathBuf},
};

/// Staging folder names tried before giving up.
const STAGING_TRIES: usize = 8;

/// A file of the manifest: where it goes (relative), its size and mode.
struct Planned {
    path: PathBuf,
    size: u64,
    mode: u32,
}

/// The file being written and the bytes still due.
struct Writing {
    file: File,
    planned: Planned,
    due: u64,
}

pub(in crate::cli) struct FilesSink {
    dir: PathBuf,
    /// Our staging folder inside `dir`; `None` once everything is placed.
    staging: Option<PathBuf>,
    /// Files still to write, in the manifest's (and the content's) order.
    files: std::vec::IntoIter<Planned>,
    current: Option<Writing>,
    /// Folders (relative) already made and checked.
    made: HashSet<PathBuf>,
    /// Top-level names and whether each is a folder, in order.
    tops: Vec<(String, bool)>,
    /// The files created so far (relative), in order: what a resumption reads back.
    written: Vec<PathBuf>,
}

impl FilesSink {
    /// Checks that no top-level name of `manifest` is a symbolic link in `dir`, makes the
    /// staging folder and the manifest's folders in it.
    pub(in crate::cli) fn create(manifest: &Manifest, dir: &Path) -> Result<Self> {
        let mut tops = Vec::new();
        let mut seen = HashSet::new();
        for entry in manifest.entries() {
            let top = &entry.path()[0];
            if !seen.insert(top) {
                continue;
            }
            let target = dir.join(top);
            if std::fs::symlink_metadata(&target).is_ok_and(|m| m.file_type().is_symlink()) {
                return Err(format!(
                    "{} is a symbolic link, and the transfer has a path through it: refused, \
                     nothing was written",
                    target.display()
                ));
            }
            tops.push((
                top.clone(),
                entry.path().len() > 1 || matches!(entry, Entry::Dir { .. }),
            ));
        }
        let staging = make_staging(dir)?;
        let files: Vec<Planned> = manifest
            .entries()
            .iter()
            .filter_map(|entry| match entry {
                Entry::File { path, size, mode } => Some(Planned {
                    path: path.iter().collect(),
                    size: *size,
                    mode: *mode,
                }),
                Entry::Dir { .. } => None,
            })
            .collect();
        let mut sink = Self {
            dir: dir.to_owned(),
            staging: Some(staging),
            files: files.into_iter(),
            current: None,
            made: HashSet::new(),
            tops,
            written: Vec::new(),
        };
        for entry in manifest.entries() {
            if let Entry::Dir { path } = entry {
                sink.make_dirs(&path.iter().collect::<PathBuf>())?;
            }
        }
        Ok(sink)
    }

    fn staging(&self) -> Result<&Path> {
        self.staging
            .as_deref()
            .ok_or_else(|| "the files were already placed".to_owned())
    }

    /// Makes `relative` and each folder above it in the staging folder, one component at a
    /// time; an existing one must be a folder, not a link.
    fn make_dirs(&mut self, relative: &Path) -> Result<()> {
        let staging = self.staging()?.to_owned();
        let mut at = PathBuf::new();
        for part in relative.components() {
            at.push(part);
            if self.made.contains(&at) {
                continue;
            }
            let path = staging.join(&at);
            match std::fs::create_dir(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                    let meta = std::fs::symlink_metadata(&path)
                        .map_err(|e| format!("cannot check {}: {e}", at.display()))?;
                    if !meta.is_dir() || meta.file_type().is_symlink() {
                        return Err(format!("{} exists and is not a folder", at.display()));
                    }
                }
                Err(e) => return Err(format!("cannot create {}: {e}", at.display())),
            }
            self.made.insert(at.clone());
        }
        Ok(())
    }

    /// Creates the next file of the manifest (its folders first), never through a link.
    fn open_next(&mut self) -> Result<Option<Writing>> {
        let Some(planned) = self.files.next() else {
            return Ok(None);
        };
        if let Some(parent) = planned.path.parent() {
            self.make_dirs(parent)?;
        }
        let path = self.staging()?.join(&planned.path);
        let mut options = File::options();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
            #[cfg(target_os = "linux")]
            options.custom_flags(nix::libc::O_NOFOLLOW);
        }
        let file = options
            .open(&path)
            .map_err(|e| format!("cannot create {}: {e}", planned.path.display()))?;
        let due = planned.size;
        self.written.push(planned.path.clone());
        Ok(Some(Writing { file, planned, due }))
    }

    /// Checks a written file's size, then gives it its mode.
    fn close(writing: Writing) -> Result<()> {
        let Writing { file, planned, .. } = writing;
        let shown = planned.path.display();
        let len = file
            .metadata()
            .map_err(|e| format!("cannot check {shown}: {e}"))?
            .len();
        if len != planned.size {
            return Err(format!(
                "{shown} has {len} bytes, the manifest says {}",
                planned.size
            ));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(planned.mode & MODE_BITS))
                .map_err(|e| format!("cannot set the mode of {shown}: {e}"))?;
        }
        Ok(())
    }

    /// SHA-256 of the content as the staging folder holds it now: the files written so far,
    /// read back in order, which must come to exactly `len` bytes.
    pub(in crate::cli) fn hash_kept(&self, len: u64) -> Result<Sha256> {
        use std::io::Read;
        let staging = self.staging()?;
        let changed = |why: String| {
            format!(
                "the files kept in {} changed while the connection was down ({why}): nothing \
                 was kept",
                staging.display()
            )
        };
        let mut hasher = Sha256::new();
        let mut read = 0u64;
        let mut buf = vec![0u8; 1 << 20];
        for relative in &self.written {
            let mut file = File::open(staging.join(relative))
                .map_err(|e| changed(format!("{}: {e}", relative.display())))?;
            loop {
                match file.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        hasher.update(&buf[..n]);
                        read += n as u64;
                    }
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) => return Err(changed(format!("{}: {e}", relative.display()))),
                }
            }
        }
        if read != len {
            return Err(changed(format!("{read} bytes, not the {len} received")));
        }
        Ok(hasher)
    }

    /// Writes the next bytes of content, across as many files as they cover.
    pub(in crate::cli) fn write(&mut self, mut bytes: &[u8]) -> Result<()> {
        while !bytes.is_empty() {
            let writing = match &mut self.current {
                Some(writing) if writing.due > 0 => writing,
                _ => {
                    if let Some(done) = self.current.take() {
                        Self::close(done)?;
                    }
                    self.current = self.open_next()?;
                    match &mut self.current {
                        Some(writing) => writing,
                        None => return Err("more content than the list of files holds".into()),
                    }
                }
            };
            let n = bytes
                .len()
                .min(usize::try_from(writing.due).unwrap_or(usize::MAX));
            writing
                .file
                .write_all(&bytes[..n])
                .map_err(|e| format!("writing {}: {e}", writing.planned.path.display()))?;
            writing.due -= n as u64;
            bytes = &bytes[n..];
        }
        Ok(())
    }

    /// Finishes the last files (the empty ones after the content too) and moves each top-level
    /// entry into the target folder; returns where each went.
    pub(in crate::cli) fn place(mut self) -> Result<Vec<PathBuf>> {
        loop {
            if let Some(done) = self.current.take() {
                if done.due > 0 {
                    return Err(format!(
                        "{} arrived incomplete",
                        done.planned.path.display()
                    ));
                }
                Self::close(done)?;
            }
            match self.open_next()? {
                Some(next) => self.current = Some(next),
                None => break,
            }
        }
        let staging = self.staging()?.to_owned();
        let mut placed = Vec::with_capacity(self.tops.len());
        for (name, folder) in &self.tops {
            placed.push(place_one(&staging.join(name), &self.dir, name, *folder)?);
        }
        std::fs::remove_dir(&staging)
            .map_err(|e| format!("cannot remove {}: {e}", staging.display()))?;
        self.staging = None;
        Ok(placed)
    }
}

/// Moves `from` to `dir/name`, else the first free numbered name.
fn place_one(from: &Path, dir: &Path, name: &str, folder: bool) -> Result<PathBuf> {
    for candidate in numbered_names(name, folder) {
        let target = dir.join(&candidate);
        match move_no_replace(from, &target) {
            Ok(()) => return Ok(target),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
            Err(e) => return Err(format!("cannot move {name} to {}: {e}", target.display())),
        }
    }
    Err(format!(
        "{name} and all its numbered copies already exist in {}",
        dir.display()
    ))
}

/// A new staging folder in `dir`, only for us (mode 0700).
fn make_staging(dir: &Path) -> Result<PathBuf> {
    for _ in 0..STAGING_TRIES {
        let path = dir.join(format!(
            ".zkrelay-files.{:08x}.zkrelay-partial",
            OsRng.next_u32()
        ));
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        match builder.create(&path) {
            Ok(()) => return Ok(path),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
            Err(e) => return Err(format!("cannot create a folder in {}: {e}", dir.display())),
        }
    }
    Err(format!(
        "cannot create a staging folder in {}",
        dir.display()
    ))
}

impl Drop for FilesSink {
    fn drop(&mut self) {
        drop(self.current.take());
        if let Some(staging) = self.staging.take() {
            // remove_dir_all never follows symbolic links.
            let _ = std::fs::remove_dir_all(staging);
        }
    }
}

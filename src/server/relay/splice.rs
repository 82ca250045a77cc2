//! Zero-copy forwarding between two TCP data connections (Linux): `splice(2)` moves the received
//! pages from one socket into a pipe and from the pipe into the other socket, so the relay never
//! copies the payload through user space. Used for CLI ↔ CLI transfers.
//!
//! Readiness: a splice from the socket into an *empty* pipe that would block means the socket has
//! nothing to read, so that call goes through tokio's `try_io` (which then waits for the next
//! read event). With bytes already in the pipe, a blocked splice may only mean the pipe is full, so
//! it is tried directly and tokio's readiness is left alone. Writes always go through `try_io`.

use super::pump::Activity;
use nix::{
    errno::Errno,
    fcntl::{FcntlArg, OFlag, SpliceFFlags, fcntl, splice},
    sys::socket::{Shutdown, shutdown},
    unistd::pipe2,
};
use std::{
    io,
    os::fd::{AsRawFd, OwnedFd},
};
use tokio::{io::Interest, net::TcpStream};

/// Pipe size asked for (the kernel may grant less; the default is 64 KiB).
const PIPE_SIZE: i32 = 1 << 20;

struct Pipe {
    read: OwnedFd,
    write: OwnedFd,
    capacity: usize,
}

impl Pipe {
    fn new() -> io::Result<Self> {
        let (read, write) = pipe2(OFlag::O_NONBLOCK | OFlag::O_CLOEXEC)?;
        let capacity = fcntl(&write, FcntlArg::F_SETPIPE_SZ(PIPE_SIZE))
            .or_else(|_| fcntl(&write, FcntlArg::F_GETPIPE_SZ))?;
        Ok(Self {
            read,
            write,
            capacity: usize::try_from(capacity).unwrap_or(0).max(4096),
        })
    }
}

fn moved(result: nix::Result<usize>) -> io::Result<usize> {
    result.map_err(|e| match e {
        Errno::EAGAIN => io::ErrorKind::WouldBlock.into(),
        other => io::Error::from(other),
    })
}

/// Moves `from` → `to` until `from` ends, then ends `to`'s sending side. Returns the bytes moved.
async fn one_way(from: &TcpStream, to: &TcpStream, activity: &Activity) -> io::Result<u64> {
    let pipe = Pipe::new()?;
    let flags = SpliceFFlags::SPLICE_F_MOVE | SpliceFFlags::SPLICE_F_NONBLOCK;
    let mut in_pipe = 0usize;
    let mut total = 0u64;
    let mut ended = false;
    loop {
        if !ended && in_pipe < pipe.capacity {
            let room = pipe.capacity - in_pipe;
            let pull = || moved(splice(from, None, &pipe.write, None, room, flags));
            let got = if in_pipe == 0 {
                from.try_io(Interest::READABLE, pull)
            } else {
                pull()
            };
            match got {
                Ok(0) => ended = true,
                Ok(n) => in_pipe += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock && in_pipe == 0 => {
                    from.readable().await?;
                    continue;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        if in_pipe == 0 {
            if ended {
                break;
            }
            continue;
        }
        let push = || moved(splice(&pipe.read, None, to, None, in_pipe, flags));
        match to.try_io(Interest::WRITABLE, push) {
            Ok(n) => {
                in_pipe -= n;
                total += n as u64;
                activity.touch();
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => to.writable().await?,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    shutdown(to.as_raw_fd(), Shutdown::Write)?;
    Ok(total)
}

/// Forwards both ways until both directions have ended (or one fails).
pub async fn pump(a: &TcpStream, b: &TcpStream, activity: &Activity) -> io::Result<(u64, u64)> {
    tokio::try_join!(one_way(a, b, activity), one_way(b, a, activity))
}

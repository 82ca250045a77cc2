//! A TCP forwarder between the CLI and the relay's data port, standing in for the network a
//! transfer crosses: it counts the bytes each connection sends towards the relay, can cut the
//! first connection from one address after N bytes (a reset both ways, as a dropped link looks),
//! and can hold new connections until the test lets them through.
//!
//! It connects to the relay from the same address the client came from (as a NAT that keeps
//! addresses would), so the relay's "two addresses per channel" rule sees the real people.
#![allow(dead_code, clippy::unwrap_used)]

use std::{
    net::{IpAddr, SocketAddr},
    sync::{Arc, Mutex},
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpSocket, TcpStream},
    sync::{Notify, watch},
};

/// Cut the first connection from `from` once it has sent `after` bytes towards the relay.
#[derive(Clone, Copy)]
pub struct Cut {
    pub from: IpAddr,
    pub after: u64,
    /// Hold every later connection at the gate until [`Forwarder::release`].
    pub then_hold: bool,
}

/// Noted among the held addresses once the cut connection is reset.
const CUT_MARK: IpAddr = IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED);

struct Shared {
    /// Open (true) or holding new connections.
    gate: watch::Sender<bool>,
    /// Per connection, in order of arrival: the client's address and its bytes to the relay.
    sent: Mutex<Vec<(IpAddr, u64)>>,
    cut_done: Mutex<bool>,
    /// Connections waiting at the gate, by address.
    held: Mutex<Vec<IpAddr>>,
    changed: Notify,
}

pub struct Forwarder {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Forwarder {
    /// Listens on 127.0.0.1:0 and forwards to `relay`, cutting as `cut` says.
    pub async fn start(relay: SocketAddr, cut: Option<Cut>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            gate: watch::channel(true).0,
            sent: Mutex::default(),
            cut_done: Mutex::default(),
            held: Mutex::default(),
            changed: Notify::new(),
        });
        let state = shared.clone();
        tokio::spawn(async move {
            while let Ok((client, peer)) = listener.accept().await {
                let state = state.clone();
                let mut gate = state.gate.subscribe();
                tokio::spawn(async move {
                    if !*gate.borrow() {
                        state.held.lock().unwrap().push(peer.ip());
                        state.changed.notify_waiters();
                        let _ = gate.wait_for(|open| *open).await;
                    }
                    let index = {
                        let mut sent = state.sent.lock().unwrap();
                        sent.push((peer.ip(), 0));
                        sent.len() - 1
                    };
                    let cut_here = cut.filter(|c| {
                        let mut done = state.cut_done.lock().unwrap();
                        let first = c.from == peer.ip() && !*done;
                        *done |= first;
                        first
                    });
                    forward(client, peer.ip(), relay, &state, index, cut_here).await;
                });
            }
        });
        Self { addr, shared }
    }

    /// Stops letting new connections through (they wait) until [`Forwarder::release`].
    pub fn hold(&self) {
        self.shared.gate.send_replace(false);
    }

    pub fn release(&self) {
        self.shared.gate.send_replace(true);
    }

    /// Waits until a connection from each of `ips` waits at the gate.
    pub async fn wait_held(&self, ips: &[IpAddr]) {
        loop {
            let notified = self.shared.changed.notified();
            if ips
                .iter()
                .all(|ip| self.shared.held.lock().unwrap().contains(ip))
            {
                return;
            }
            notified.await;
        }
    }

    /// Waits until the cut has happened.
    pub async fn wait_cut(&self) {
        loop {
            let notified = self.shared.changed.notified();
            if *self.shared.cut_done.lock().unwrap() && self.cut_finished() {
                return;
            }
            notified.await;
        }
    }

    fn cut_finished(&self) -> bool {
        // The cut connection has reported its count once it is reset.
        self.shared.held.lock().unwrap().contains(&CUT_MARK)
    }

    /// Bytes sent towards the relay by each connection from `ip`, in order.
    pub fn sent_by(&self, ip: IpAddr) -> Vec<u64> {
        let sent = self.shared.sent.lock().unwrap();
        sent.iter()
            .filter(|(from, _)| *from == ip)
            .map(|(_, n)| *n)
            .collect()
    }
}

fn c_hold(cut: Option<Cut>) -> bool {
    cut.is_some_and(|c| c.then_hold)
}

async fn forward(
    mut client: TcpStream,
    ip: IpAddr,
    relay: SocketAddr,
    state: &Shared,
    index: usize,
    cut: Option<Cut>,
) {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(ip, 0)).unwrap();
    let Ok(mut server) = socket.connect(relay).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (mut up, mut down) = (vec![0u8; 64 * 1024], vec![0u8; 64 * 1024]);
    let (mut client_open, mut server_open) = (true, true);
    while client_open || server_open {
        tokio::select! {
            got = client.read(&mut up), if client_open => {
                let mut n = match got {
                    Ok(0) | Err(_) => {
                        client_open = false;
                        let _ = server.shutdown().await;
                        continue;
                    }
                    Ok(n) => n,
                };
                let so_far = state.sent.lock().unwrap()[index].1;
                let cut_now = cut.is_some_and(|c| so_far + n as u64 >= c.after);
                if let Some(c) = cut.filter(|_| cut_now) {
                    n = usize::try_from(c.after - so_far).unwrap();
                }
                let _ = server.write_all(&up[..n]).await;
                state.sent.lock().unwrap()[index].1 += n as u64;
                if cut_now {
                    // A reset both ways: what a broken link or a vanished NAT entry looks like.
                    let _ = client.set_zero_linger();
                    let _ = server.set_zero_linger();
                    drop((client, server));
                    if c_hold(cut) {
                        state.gate.send_replace(false);
                    }
                    state.held.lock().unwrap().push(CUT_MARK);
                    state.changed.notify_waiters();
                    return;
                }
            }
            got = server.read(&mut down), if server_open => match got {
                Ok(0) | Err(_) => {
                    server_open = false;
                    let _ = client.shutdown().await;
                }
                Ok(n) => {
                    let _ = client.write_all(&down[..n]).await;
                }
            },
        }
    }
}

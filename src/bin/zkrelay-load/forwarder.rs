//! The minimal forwarder the relay part compares zkrelay with: an axum WebSocket server that
//! pairs sockets in arrival order, in a process of its own.

use axum::{
    Router,
    extract::{
        State, WebSocketUpgrade,
        ws::{Message as AxumMessage, Utf8Bytes, WebSocket},
    },
    response::Response,
    routing::get,
};
use std::{
    io::{BufRead, BufReader, Write},
    net::SocketAddr,
    process::{Command, Stdio},
    sync::{Arc, Mutex},
};
use tokio::io::AsyncReadExt;
use tokio::{
    net::TcpListener,
    sync::{mpsc, oneshot},
};

use crate::Result;

/// The minimal forwarder: pairs sockets in arrival order (1st with 2nd, 3rd with 4th…) and
/// copies text messages between the two of a pair unchanged.
pub(crate) async fn forwarder() -> Result<()> {
    type Waiting = Arc<
        Mutex<
            Option<(
                mpsc::Sender<Utf8Bytes>,
                oneshot::Sender<mpsc::Sender<Utf8Bytes>>,
            )>,
        >,
    >;

    async fn upgrade(ws: WebSocketUpgrade, State(waiting): State<Waiting>) -> Response {
        ws.on_upgrade(move |socket| forward(socket, waiting))
    }

    async fn forward(mut socket: WebSocket, waiting: Waiting) {
        let (outbox, mut inbox) = mpsc::channel::<Utf8Bytes>(64);
        let first = {
            let mut slot = waiting.lock().unwrap_or_else(|e| e.into_inner());
            match slot.take() {
                Some((peer, give)) => {
                    let _ = give.send(outbox);
                    Ok(peer)
                }
                None => {
                    let (give, take) = oneshot::channel();
                    *slot = Some((outbox, give));
                    Err(take)
                }
            }
        };
        let peer = match first {
            Ok(peer) => peer,
            Err(take) => match take.await {
                Ok(peer) => peer,
                Err(_) => return,
            },
        };
        loop {
            tokio::select! {
                incoming = socket.recv() => match incoming {
                    Some(Ok(AxumMessage::Text(text))) => {
                        if peer.send(text).await.is_err() {
                            return;
                        }
                    }
                    Some(Ok(AxumMessage::Binary(_) | AxumMessage::Ping(_) | AxumMessage::Pong(_))) => {}
                    Some(Ok(AxumMessage::Close(_)) | Err(_)) | None => return,
                },
                outgoing = inbox.recv() => match outgoing {
                    Some(text) => {
                        if socket.send(AxumMessage::Text(text)).await.is_err() {
                            return;
                        }
                    }
                    None => return,
                },
            }
        }
    }

    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("bind: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening {addr}").map_err(|e| e.to_string())?;
        out.flush().map_err(|e| e.to_string())?;
    }
    let waiting: Waiting = Arc::default();
    let app = Router::new().route("/", get(upgrade)).with_state(waiting);
    let stdin_closed = async {
        let mut stdin = tokio::io::stdin();
        let mut buf = [0u8; 64];
        while let Ok(n) = stdin.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
    };
    axum::serve(listener, app)
        .with_graceful_shutdown(stdin_closed)
        .await
        .map_err(|e| e.to_string())
}

/// Starts this program as the forwarder process; its child handle and address.
pub(crate) fn start_forwarder() -> Result<(std::process::Child, SocketAddr)> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut child = Command::new(exe)
        .arg("forwarder")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start the forwarder: {e}"))?;
    let stdout = child.stdout.take().ok_or("forwarder: no stdout")?;
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    let addr = line
        .trim()
        .strip_prefix("listening ")
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| format!("forwarder said {line:?}"))?;
    Ok((child, addr))
}

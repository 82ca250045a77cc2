//! A real zkrelay server for integration tests: in-process, on 127.0.0.1:0, with its own SQLite file.
#![allow(dead_code, clippy::unwrap_used)]

pub mod forwarder;
pub mod identify;

use rand::rngs::OsRng;
use serde_json::{Value, json};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpSocket;
use tokio::{net::TcpListener, sync::oneshot};
use zkrelay::protocol::relay::{Code, Direction, SenderPake};
use zkrelay::server::{self, AppState, Config};

pub struct TestServer {
    pub addr: SocketAddr,
    pub data_addr: SocketAddr,
    pub state: AppState,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    _dir: tempfile::TempDir,
}

impl TestServer {
    /// Starts a server with the built-in defaults, a fresh database, no Blum pool refill, and
    /// `tune` applied to the config.
    pub async fn start(tune: impl FnOnce(&mut Config)) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let data = TcpListener::bind("127.0.0.1:0").await.expect("bind data");
        let addr = listener.local_addr().expect("addr");
        let data_addr = data.local_addr().expect("data addr");
        let mut listeners = server::Listeners {
            http: vec![listener],
            data: vec![data],
        };
        // The same ports on IPv6 loopback, where the machine has it (both, or neither).
        let six = (
            server::bind(SocketAddr::new(Ipv6Addr::LOCALHOST.into(), addr.port())),
            server::bind(SocketAddr::new(
                Ipv6Addr::LOCALHOST.into(),
                data_addr.port(),
            )),
        );
        if let (Ok(http6), Ok(data6)) = six {
            listeners.http.push(http6);
            listeners.data.push(data6);
        }
        Self::start_on(listeners, addr, data_addr, tune).await
    }

    /// A server whose web app listens on 127.0.0.1 and [::1] and whose data port is one
    /// dual-stack socket (IPv4 clients arrive there IPv4-mapped); `None` without IPv6.
    pub async fn start_dual_stack(tune: impl FnOnce(&mut Config)) -> Option<Self> {
        let http4 = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = http4.local_addr().expect("addr");
        let http6 = server::bind(SocketAddr::new(Ipv6Addr::LOCALHOST.into(), addr.port())).ok()?;
        let data = std::net::TcpListener::bind("[::]:0").ok()?;
        data.set_nonblocking(true).ok()?;
        let data = TcpListener::from_std(data).ok()?;
        let data_addr = SocketAddr::from(([127, 0, 0, 1], data.local_addr().ok()?.port()));
        let listeners = server::Listeners {
            http: vec![http4, http6],
            data: vec![data],
        };
        Some(Self::start_on(listeners, addr, data_addr, tune).await)
    }

    async fn start_on(
        listeners: server::Listeners,
        addr: SocketAddr,
        data_addr: SocketAddr,
        tune: impl FnOnce(&mut Config),
    ) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config::defaults();
        config.database.url = format!("sqlite://{}/test.db", dir.path().display());
        config.server.site_root = dir.path().join("site").display().to_string();
        config.blum.pool_size = 0;
        tune(&mut config);
        let state = AppState::new(config).await.expect("state");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server::run(listeners, state.clone(), async move {
            let _ = stopped.await;
        }));
        Self {
            addr,
            data_addr,
            state,
            stop: Some(stop),
            task: Some(task),
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Stops the server gracefully and returns what `run` returned.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => task.await.expect("server task"),
            None => Ok(()),
        }
    }
}

/// An HTTP client whose connections come from `127.0.0.<last>` (another "person").
pub fn client_from(last: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::from([127, 0, 0, last]))
        .build()
        .expect("client")
}

/// A sender that follows the protocol up to the data connection, then sends `frames(data key)`.
pub async fn malicious_sender(
    server: &TestServer,
    code: &Code,
    frames: impl FnOnce(&[u8; 32]) -> Vec<u8>,
) {
    let http = client_from(2);
    let call = |req: reqwest::RequestBuilder| async move {
        let v: Value = req.send().await.unwrap().json().await.unwrap();
        assert_eq!(v["success"], true, "{v}");
        v
    };
    let opened = call(
        http.post(server.url("/open"))
            .json(&json!({"channel": "666666-cedar"})),
    )
    .await;
    let uuid = opened["uuid"].as_str().unwrap().to_owned();
    let (pake, x) = SenderPake::start(OsRng, code);
    call(
        http.post(server.url("/channel/666666-cedar"))
            .json(&json!({"uuid": uuid, "x": x, "curve": "ed25519"})),
    )
    .await;
    let got =
        call(http.get(server.url(&format!("/sender/666666-cedar/y?uuid={uuid}&wait=10")))).await;
    let key = pake.finish(got["y"].as_str().unwrap()).unwrap();
    key.confirm_hh_k(got["hh_k"].as_str().unwrap()).unwrap();
    call(
        http.post(server.url("/sender/666666-cedar/h_k"))
            .json(&json!({"uuid": uuid, "h_k": key.h_k()})),
    )
    .await;
    call(http.get(server.url(&format!("/sender/666666-cedar/open?uuid={uuid}")))).await;
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(([127, 0, 0, 2], 0).into()).unwrap();
    let mut stream = BufReader::new(socket.connect(server.data_addr).await.unwrap());
    let hello = format!("zkrelay-data 2 666666-cedar {uuid} {}\n", key.h_k());
    stream.get_mut().write_all(hello.as_bytes()).await.unwrap();
    let mut ok = String::new();
    stream.read_line(&mut ok).await.unwrap();
    assert_eq!(ok, "ok\n");
    let bytes = frames(&key.data_key("666666-cedar", Direction::SenderToRecipient));
    let _ = stream.get_mut().write_all(&bytes).await;
    let _ = stream.get_mut().shutdown().await;
}

/// The names directly in `dir`, sorted.
pub fn listing(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

/// The relay's HTTP API from `127.0.0.<last>`, for a `RelayClient` driven by hand.
pub struct Http {
    http: reqwest::Client,
    base: String,
}

impl Http {
    pub fn new(server: &TestServer, last: u8) -> Self {
        Self {
            http: client_from(last),
            base: server.url(""),
        }
    }
}

impl zkrelay::api::relay::Transport for Http {
    async fn request(&self, path: &str, body: Option<String>) -> Result<(u16, String), String> {
        let url = format!("{}{path}", self.base);
        let req = match body {
            Some(body) => self
                .http
                .post(url)
                .header("content-type", "application/json")
                .body(body),
            None => self.http.get(url),
        };
        let res = req.send().await.map_err(|e| e.to_string())?;
        let status = res.status().as_u16();
        Ok((status, res.text().await.map_err(|e| e.to_string())?))
    }
}

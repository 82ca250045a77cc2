//! A real zkrelay server for integration tests: in-process, on 127.0.0.1:0, with its own SQLite file.
#![allow(dead_code, clippy::unwrap_used)]

pub mod identify;

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use tokio::{net::TcpListener, sync::oneshot};
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

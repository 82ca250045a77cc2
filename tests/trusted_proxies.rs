//! Behind a balancer (issue 15): a connection from an address in `[server] trusted_proxies` opens
//! with a PROXY v2 header naming the client, and every per-address limit counts that client; from
//! anyone else, a forged `X-Forwarded-For` or PROXY header changes nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

mod common;

use common::TestServer;
use std::net::SocketAddr;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpSocket, TcpStream},
};
use zkrelay::server::proxy::header_for;

const BALANCER: [u8; 4] = [127, 0, 0, 5];

async fn connect_from(from: [u8; 4], to: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from((from, 0))).unwrap();
    socket.connect(to).await.unwrap()
}

/// `POST /open` (a new channel) on one connection from `from`, after `preface` (a PROXY
/// header or nothing) and with `extra` headers; the status code, or `None` if the server
/// closed the connection without an answer.
async fn open_channel(
    server: &TestServer,
    from: [u8; 4],
    preface: &[u8],
    extra: &str,
) -> Option<u16> {
    let mut stream = connect_from(from, server.addr).await;
    let request = format!(
        "POST /open HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\n{extra}\
         content-length: 2\r\nconnection: close\r\n\r\n{{}}",
        server.addr
    );
    let mut bytes = preface.to_vec();
    bytes.extend_from_slice(request.as_bytes());
    // A refused connection may be closed before everything is written.
    let _ = stream.write_all(&bytes).await;
    let mut reply = Vec::new();
    let _ = stream.read_to_end(&mut reply).await;
    let reply = String::from_utf8_lossy(&reply);
    reply
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
}

fn from_client(client: &str, server: &TestServer) -> Vec<u8> {
    header_for(client.parse().unwrap(), server.addr)
}

async fn server() -> TestServer {
    TestServer::start(|config| {
        config.server.trusted_proxies = vec![BALANCER.into()];
        config.server.refusal_delay_ms = 0;
        config.relay.channels_per_ip_per_minute = 2;
    })
    .await
}

#[tokio::test]
async fn a_forged_forwarded_for_from_an_untrusted_address_is_ignored() {
    let server = server().await;
    let me = [127, 0, 0, 2];
    // Each request claims to forward another client; the limit still counts 127.0.0.2.
    for (i, expected) in [200, 200, 429].into_iter().enumerate() {
        let forged =
            format!("x-forwarded-for: 198.51.100.{i}\r\nforwarded: for=198.51.100.{i}\r\n");
        assert_eq!(
            open_channel(&server, me, b"", &forged).await,
            Some(expected)
        );
    }
    // A PROXY header from an untrusted peer is not believed either: it is garbage before the
    // request, which is refused.
    let forged = from_client("198.51.100.9:1234", &server);
    assert_eq!(open_channel(&server, me, &forged, "").await, Some(400));
    // Someone else is not affected by 127.0.0.2's spent allowance.
    assert_eq!(
        open_channel(&server, [127, 0, 0, 3], b"", "").await,
        Some(200)
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_trusted_balancer_names_each_client_and_limits_count_them() {
    let server = server().await;
    let alice = from_client("198.51.100.1:40000", &server);
    let bob = from_client("198.51.100.2:40001", &server);
    assert_eq!(open_channel(&server, BALANCER, &alice, "").await, Some(200));
    assert_eq!(open_channel(&server, BALANCER, &alice, "").await, Some(200));
    // Alice's allowance is spent, wherever her connections come from...
    assert_eq!(open_channel(&server, BALANCER, &alice, "").await, Some(429));
    // ...and an X-Forwarded-For through the balancer does not get her a new one.
    let forged = "x-forwarded-for: 198.51.100.77\r\n";
    assert_eq!(
        open_channel(&server, BALANCER, &alice, forged).await,
        Some(429)
    );
    // Bob, behind the same balancer, has his own.
    assert_eq!(open_channel(&server, BALANCER, &bob, "").await, Some(200));
    // The balancer itself gets nothing without a header: the connection is dropped unanswered.
    assert_eq!(open_channel(&server, BALANCER, b"", "").await, None);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn the_data_port_believes_only_a_trusted_balancer() {
    let server = server().await;
    let hello = b"zkrelay-data 2 482193-cedar 00000000000000000000000000000000 00\n";
    // Through the balancer: the hello is read after the header and refused on its merits.
    let mut through = connect_from(BALANCER, server.data_addr).await;
    let mut bytes = header_for("198.51.100.1:1".parse().unwrap(), server.data_addr);
    bytes.extend_from_slice(hello);
    through.write_all(&bytes).await.unwrap();
    let mut reply = String::new();
    through.read_to_string(&mut reply).await.unwrap();
    assert!(reply.starts_with("error not_found "), "{reply}");
    // From anyone else, a PROXY header is not a hello.
    let mut forged = connect_from([127, 0, 0, 2], server.data_addr).await;
    forged.write_all(&bytes).await.unwrap();
    // The relay stops reading at the header's first newline; closing with the rest unread may
    // reset the connection before its answer is read, so only what did arrive is checked.
    let mut reply = Vec::new();
    let _ = forged.read_to_end(&mut reply).await;
    let reply = String::from_utf8_lossy(&reply);
    assert!(
        reply.is_empty() || reply.starts_with("error bad_request "),
        "{reply}"
    );
    server.stop().await.unwrap();
}

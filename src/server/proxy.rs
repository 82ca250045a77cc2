//! Who the client really is behind a load balancer: the PROXY protocol (version 2, HAProxy's
//! `send-proxy-v2`), believed only from the addresses in `[server] trusted_proxies`.
//!
//! A balancer in front of several instances (docs/DEPLOY.md) opens its own connections to them, so
//! every peer address an instance sees would be the balancer's, and every per-address limit would
//! lump all clients together. A connection from a trusted balancer therefore starts with a binary
//! header naming the client's address, on the web port and on the TCP data port alike (which is
//! why this, and not `X-Forwarded-For`, carries it: it works below HTTP and is read once per
//! connection, before the connection gate counts it). From any other peer nothing is read: the
//! peer is the client, and a PROXY header or an `X-Forwarded-For` it sends is only bytes of its
//! request (refused as a bad request or a bad hello).
//!
//! A header with the `LOCAL` command (a balancer's health check) or without addresses leaves the
//! balancer's own address as the client.

use std::{
    io,
    net::{IpAddr, SocketAddr},
    time::Duration,
};
use tokio::io::{AsyncRead, AsyncReadExt};

/// The fixed part of a version 2 header: the 12-byte signature, version/command, family and the
/// 2-byte length of what follows.
const FIXED: usize = 16;
/// Longest address block (and TLVs) read: a Unix address pair is 216 bytes; HAProxy adds a few
/// small TLVs at most.
const MAX_REST: usize = 512;

/// The balancers whose PROXY headers are believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpAddr>);

impl TrustedProxies {
    pub fn new(addresses: &[IpAddr]) -> Self {
        Self(addresses.iter().map(|ip| ip.to_canonical()).collect())
    }

    /// Whether connections from `peer` must carry a PROXY header.
    pub fn trusts(&self, peer: IpAddr) -> bool {
        self.0.contains(&peer.to_canonical())
    }

    /// The client behind a connection from `peer`: `peer` itself unless it is a trusted
    /// balancer, whose header (due within `timeout`) is read off `stream` and names the client.
    /// A trusted peer whose connection does not open with a valid header is an error (the
    /// caller drops the connection): nothing else may come from it.
    pub async fn client<S: AsyncRead + Unpin>(
        &self,
        stream: &mut S,
        peer: SocketAddr,
        timeout: Duration,
    ) -> io::Result<SocketAddr> {
        let peer = SocketAddr::new(peer.ip().to_canonical(), peer.port());
        if !self.trusts(peer.ip()) {
            return Ok(peer);
        }
        let read = tokio::time::timeout(timeout, read_header(stream))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no PROXY header in time"))??;
        Ok(read.unwrap_or(peer))
    }
}

/// Reads one version 2 header; `None` for a `LOCAL` one or one without IP addresses.
async fn read_header<S: AsyncRead + Unpin>(stream: &mut S) -> io::Result<Option<SocketAddr>> {
    let mut fixed = [0u8; FIXED];
    stream.read_exact(&mut fixed).await?;
    let length = match (
        fixed.starts_with(ppp::v2::PROTOCOL_PREFIX),
        fixed.get(14..FIXED),
    ) {
        (true, Some(&[high, low])) => usize::from(u16::from_be_bytes([high, low])),
        _ => {
            return Err(invalid(
                "a trusted proxy's connection must open with a PROXY v2 header",
            ));
        }
    };
    if length > MAX_REST {
        return Err(invalid("PROXY header too long"));
    }
    let mut rest = vec![0u8; length];
    stream.read_exact(&mut rest).await?;
    let mut header = fixed.to_vec();
    header.extend_from_slice(&rest);
    let parsed = ppp::v2::Header::try_from(header.as_slice())
        .map_err(|e| invalid(&format!("bad PROXY header: {e:?}")))?;
    if parsed.command == ppp::v2::Command::Local {
        return Ok(None);
    }
    Ok(match parsed.addresses {
        ppp::v2::Addresses::IPv4(a) => {
            Some(SocketAddr::new(a.source_address.into(), a.source_port))
        }
        ppp::v2::Addresses::IPv6(a) => Some(SocketAddr::new(
            IpAddr::V6(a.source_address).to_canonical(),
            a.source_port,
        )),
        _ => None,
    })
}

fn invalid(why: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, why.to_owned())
}

/// A version 2 header saying that `client` connected to `server` (for tests and tools).
pub fn header_for(client: SocketAddr, server: SocketAddr) -> Vec<u8> {
    let addresses: ppp::v2::Addresses = match (client, server) {
        (SocketAddr::V4(c), SocketAddr::V4(s)) => {
            ppp::v2::IPv4::new(*c.ip(), *s.ip(), c.port(), s.port()).into()
        }
        (c, s) => {
            let v6 = |a: SocketAddr| match a.ip() {
                IpAddr::V4(v4) => v4.to_ipv6_mapped(),
                IpAddr::V6(v6) => v6,
            };
            ppp::v2::IPv6::new(v6(c), v6(s), c.port(), s.port()).into()
        }
    };
    ppp::v2::Builder::with_addresses(
        ppp::v2::Version::Two | ppp::v2::Command::Proxy,
        ppp::v2::Protocol::Stream,
        addresses,
    )
    .build()
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[tokio::test]
    async fn a_trusted_balancer_names_the_client() {
        let trusted = TrustedProxies::new(&["127.0.0.5".parse().unwrap()]);
        let client = addr("198.51.100.7:4242");
        let mut bytes = header_for(client, addr("127.0.0.1:3000"));
        bytes.extend_from_slice(b"GET / HTTP/1.1\r\n");
        let mut stream = bytes.as_slice();
        let seen = trusted
            .client(&mut stream, addr("127.0.0.5:999"), SECOND)
            .await
            .unwrap();
        assert_eq!(seen, client);
        // The request itself is left to read.
        assert_eq!(stream, b"GET / HTTP/1.1\r\n");
        let v6 = addr("[2001:db8::1]:80");
        let bytes = header_for(v6, addr("[::1]:3000"));
        let seen = trusted
            .client(&mut bytes.as_slice(), addr("[::ffff:127.0.0.5]:1"), SECOND)
            .await
            .unwrap();
        assert_eq!(seen, v6);
    }

    #[tokio::test]
    async fn an_untrusted_peer_is_the_client_whatever_it_sends() {
        let trusted = TrustedProxies::new(&["127.0.0.5".parse().unwrap()]);
        let forged = header_for(addr("198.51.100.7:1"), addr("127.0.0.1:3000"));
        let mut stream = forged.as_slice();
        let peer = addr("127.0.0.2:5555");
        assert_eq!(
            trusted.client(&mut stream, peer, SECOND).await.unwrap(),
            peer
        );
        assert_eq!(stream.len(), forged.len(), "nothing was read");
    }

    #[tokio::test]
    async fn a_trusted_peer_without_a_valid_header_is_refused() {
        let trusted = TrustedProxies::new(&["127.0.0.5".parse().unwrap()]);
        let peer = addr("127.0.0.5:1");
        for bytes in [
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
            b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n".to_vec(),
            ppp::v2::PROTOCOL_PREFIX.to_vec(),
        ] {
            assert!(
                trusted
                    .client(&mut bytes.as_slice(), peer, SECOND)
                    .await
                    .is_err()
            );
        }
        let mut long = header_for(addr("1.2.3.4:1"), addr("5.6.7.8:2"));
        long[14..16].copy_from_slice(&4000u16.to_be_bytes());
        assert!(
            trusted
                .client(&mut long.as_slice(), peer, SECOND)
                .await
                .is_err()
        );
    }
}

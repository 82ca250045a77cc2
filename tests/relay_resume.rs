//! Resume (issue 14.2): a transfer whose data connection is cut goes on from the bytes the
//! recipient kept, over a real relay, with a forwarder standing in for the network between the
//! sender and the relay (tests/common/forwarder.rs) that resets the link half-way. The bytes
//! before the cut are counted on the wire, the final SHA-256 checked, a tampered partial file
//! caught, and a hand-driven recipient shows that an offset beyond what was sent is refused and
//! that a third address cannot take a seat while the channel waits to be resumed.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

mod common;

use common::{
    Http, TestServer, client_from,
    forwarder::{Cut, Forwarder},
    listing,
};
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};
use std::{net::IpAddr, sync::atomic::Ordering, time::Duration};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpSocket, TcpStream},
};
use zkrelay::api::relay::{RelayClient, handshake};
use zkrelay::cli::transfer::{self, Delivered, Destination, Endpoint, Payload};
use zkrelay::protocol::{
    hex,
    relay::{
        CONNECTION_NONCE, Code, Direction, MAX_FRAME_PLAINTEXT, Resume, Sealer,
        resumable_data_hello,
    },
};

const SENDER: [u8; 4] = [127, 0, 0, 2];
const RECIPIENT: [u8; 4] = [127, 0, 0, 3];

fn endpoint(server: &TestServer, ip: [u8; 4]) -> Endpoint {
    Endpoint {
        server: server.url(""),
        bind: Some(IpAddr::from(ip)),
    }
}

/// `len` bytes that do not repeat in any short period (xorshift).
fn content(len: usize) -> Vec<u8> {
    let mut x = 0x2545_f491_4f6c_dd1du64;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// A server whose data connections reach it through a [`Forwarder`] that cuts the sender's
/// first connection after half of `total` bytes (the relay tells clients the forwarder's port,
/// as a relay behind a TCP proxy would), and a folder with `big.bin`, `total` bytes to send.
async fn cut_at_half(
    total: usize,
    then_hold: bool,
) -> (TestServer, Forwarder, tempfile::TempDir, Vec<u8>) {
    let cut = Cut {
        from: IpAddr::from(SENDER),
        after: total as u64 / 2,
        then_hold,
    };
    let server = TestServer::start(|_| {}).await;
    while server.state.data_port.load(Ordering::Relaxed) == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let forwarder = Forwarder::start(server.data_addr, Some(cut)).await;
    server
        .state
        .data_port
        .store(forwarder.addr.port(), Ordering::Relaxed);
    let src = tempfile::tempdir().unwrap();
    let bytes = content(total);
    std::fs::write(src.path().join("big.bin"), &bytes).unwrap();
    (server, forwarder, src, bytes)
}

/// Sends `file` from 127.0.0.2 to 127.0.0.3 (into `dir`) with one phrase.
async fn send_and_receive(
    server: &TestServer,
    file: &std::path::Path,
    dir: &std::path::Path,
    phrase: &str,
) -> (Result<Delivered, String>, Result<Delivered, String>) {
    let sender = {
        let (ep, code, file) = (endpoint(server, SENDER), phrase.to_owned(), file.to_owned());
        tokio::spawn(
            async move { transfer::send(&ep, Payload::File(file), Some(&code), |_| {}).await },
        )
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let destination = Destination::Folder(dir.to_owned());
    let received = transfer::receive(&endpoint(server, RECIPIENT), phrase, &destination).await;
    (
        sender.await.unwrap().map_err(String::from),
        received.map_err(String::from),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_cut_at_half_resumes_and_the_first_half_is_not_sent_again() {
    const TOTAL: usize = 64 << 20;
    let (server, forwarder, src, bytes) = cut_at_half(TOTAL, false).await;
    let file = src.path().join("big.bin");
    let dir = tempfile::tempdir().unwrap();
    let phrase = "482193-cedar-comet-maple-otter-tulip";
    let (sent, got) = send_and_receive(&server, &file, dir.path(), phrase).await;
    let (sent, got) = (sent.unwrap(), got.unwrap());

    // Byte-identical, and both sides report the same SHA-256 of the whole content.
    let path = got.path.clone().unwrap();
    assert_eq!(path, dir.path().join("big.bin"));
    assert!(
        std::fs::read(&path).unwrap() == bytes,
        "the content differs"
    );
    let sha256 = hex::encode(&Sha256::digest(&bytes));
    assert_eq!(got.sha256.as_deref(), Some(sha256.as_str()));
    assert_eq!(sent.sha256.as_deref(), Some(sha256.as_str()));
    assert_eq!(listing(dir.path()), ["big.bin"]);

    // One resumption, from what the recipient had verified before the cut.
    assert_eq!(got.resumed_at.len(), 1, "{got:?}");
    assert_eq!(sent.resumed_at, got.resumed_at);
    let offset = got.resumed_at[0];
    let total = TOTAL as u64;
    assert!(offset <= total / 2, "{offset} is beyond the cut");
    // What was in flight at the cut (socket buffers, the relay's pipe) is lost; the rest counts.
    assert!(offset >= total / 4, "only {offset} bytes were kept");

    // On the wire: the first connection was cut at half; the second carried only the rest
    // (each frame adds 20 bytes; the hello, the nonce and the trailer well under 1 KiB).
    let connections = forwarder.sent_by(IpAddr::from(SENDER));
    assert_eq!(connections.len(), 2, "{connections:?}");
    assert_eq!(connections[0], total / 2);
    let rest = total - offset;
    let frames = rest.div_ceil(MAX_FRAME_PLAINTEXT as u64) + 1;
    let allowed = rest + MAX_FRAME_PLAINTEXT as u64 + 20 * frames + 1024;
    assert!(
        connections[1] <= allowed,
        "the second connection sent {} bytes for {rest} bytes still due",
        connections[1]
    );
    assert!(connections[1] >= rest, "{connections:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partial_file_changed_during_the_cut_is_refused_and_nothing_is_kept() {
    const TOTAL: usize = 32 << 20;
    let (server, forwarder, src, _) = cut_at_half(TOTAL, true).await;
    let file = src.path().join("big.bin");
    let dir = tempfile::tempdir().unwrap();
    let phrase = "482194-cedar-comet-maple-otter-tulip";
    let dir_path = dir.path().to_owned();
    let both = {
        let server = &server;
        async move { send_and_receive(server, &file, &dir_path, phrase).await }
    };
    let tamper = async {
        // Both sides are reconnecting: the recipient has written all it got before the cut.
        forwarder.wait_cut().await;
        forwarder
            .wait_held(&[IpAddr::from(SENDER), IpAddr::from(RECIPIENT)])
            .await;
        let partial = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.to_string_lossy().ends_with(".zkrelay-partial"))
            .expect("the partial file is kept during the cut");
        let mut kept = std::fs::read(&partial).unwrap();
        assert!(kept.len() > 1000, "{} bytes kept", kept.len());
        kept[1000] ^= 1;
        std::fs::write(&partial, &kept).unwrap();
        forwarder.release();
    };
    let ((sent, got), ()) = tokio::join!(both, tamper);
    let got = got.unwrap_err();
    assert!(got.contains("does not match the sender's SHA-256"), "{got}");
    let sent = sent.unwrap_err();
    assert!(sent.contains("reported a problem"), "{sent}");
    assert!(listing(dir.path()).is_empty(), "{:?}", listing(dir.path()));
}

/// A version-3 data connection from `ip` with this hello; returns the relay's first line.
async fn data_connection(server: &TestServer, ip: [u8; 4], hello: &str) -> (TcpStream, String) {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind((ip, 0).into()).unwrap();
    let mut stream = socket.connect(server.data_addr).await.unwrap();
    stream
        .write_all(format!("{hello}\n").as_bytes())
        .await
        .unwrap();
    // Byte by byte: the sender's nonce may follow the line at once.
    let mut line = Vec::new();
    while line.last() != Some(&b'\n') {
        line.push(stream.read_u8().await.unwrap());
    }
    (stream, String::from_utf8(line).unwrap())
}

/// Exchanges the connection nonces as the recipient and seals `resume` to the sender.
async fn announce(
    stream: &mut TcpStream,
    key: &zkrelay::protocol::relay::SharedKey,
    resume: Resume,
) {
    let mine = [7u8; CONNECTION_NONCE];
    stream.write_all(&mine).await.unwrap();
    let mut theirs = [0u8; CONNECTION_NONCE];
    stream.read_exact(&mut theirs).await.unwrap();
    let channel = "555555-cedar";
    let to_sender = key.connection_key(channel, Direction::RecipientToSender, &theirs, &mine);
    let frame = Sealer::new(&to_sender)
        .seal(&resume.encode(), false)
        .unwrap();
    stream.write_all(&frame).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_two_seats_resume_and_an_offset_beyond_what_was_sent_is_refused() {
    const TOTAL: usize = 16 << 20;
    let server = TestServer::start(|_| {}).await;
    let src = tempfile::tempdir().unwrap();
    let file = src.path().join("big.bin");
    std::fs::write(&file, content(TOTAL)).unwrap();
    let phrase = "555555-cedar-comet-maple-otter-tulip";
    let sender = {
        let (ep, file) = (endpoint(&server, SENDER), file.clone());
        tokio::spawn(
            async move { transfer::send(&ep, Payload::File(file), Some(phrase), |_| {}).await },
        )
    };
    tokio::time::sleep(Duration::from_millis(200)).await;

    // A recipient driven by hand from 127.0.0.3.
    let api = RelayClient::new(Http::new(&server, 3));
    let seat = api.open_recipient("555555-cedar").await.unwrap();
    let code = Code::parse("comet-maple-otter-tulip").unwrap();
    let confirmed = handshake::recipient(&api, &seat, &code, OsRng)
        .await
        .unwrap();
    api.open_data(&seat).await.unwrap();
    let hello = resumable_data_hello(&seat.channel, &seat.uuid, &confirmed.h_k);
    let (mut stream, ok) = data_connection(&server, RECIPIENT, &hello).await;
    assert_eq!(ok, "ok 3\n");
    announce(&mut stream, &confirmed.key, Resume { offset: None }).await;
    let mut some = vec![0u8; 1 << 20];
    stream.read_exact(&mut some).await.unwrap();
    // The link breaks.
    stream.set_zero_linger().unwrap();
    drop(stream);

    // While the channel waits for its two seats, a third address gets nothing, even with the
    // recipient's uuid and h_k: the channel does not exist for it.
    let (_, refused) = data_connection(&server, [127, 0, 0, 4], &hello).await;
    assert!(refused.starts_with("error not_found "), "{refused}");
    let stranger = client_from(4)
        .post(server.url("/open"))
        .json(&serde_json::json!({"channel": "555555-cedar", "role": "recipient"}))
        .send()
        .await
        .unwrap();
    assert_eq!(stranger.status(), 404);

    // The recipient's own seat comes back (the relay may not have seen the cut yet), then
    // claims more than the sender ever sent: the sender refuses and stops.
    let mut stream = loop {
        let (stream, line) = data_connection(&server, RECIPIENT, &hello).await;
        if line == "ok 3\n" {
            break stream;
        }
        assert!(line.starts_with("error conflict "), "{line}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let beyond = TOTAL as u64 + 1;
    announce(
        &mut stream,
        &confirmed.key,
        Resume {
            offset: Some(beyond),
        },
    )
    .await;
    let err = String::from(sender.await.unwrap().unwrap_err());
    assert!(
        err.contains(&format!("asks to resume at byte {beyond}, but only")),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&file).unwrap().len(),
        TOTAL,
        "the file is untouched"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_files_cut_at_half_resume_into_the_same_staging_folder() {
    const EACH: usize = 12 << 20;
    let (server, _forwarder, src, _) = cut_at_half(3 * EACH, false).await;
    let tree = src.path().join("tree");
    std::fs::create_dir_all(tree.join("inner")).unwrap();
    let all = content(3 * EACH);
    for (i, name) in ["a.bin", "b.bin", "inner/c.bin"].iter().enumerate() {
        std::fs::write(tree.join(name), &all[i * EACH..(i + 1) * EACH]).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let phrase = "482195-cedar-comet-maple-otter-tulip";
    let sender = {
        let (ep, tree) = (endpoint(&server, SENDER), tree.clone());
        tokio::spawn(async move {
            transfer::send(&ep, Payload::Files(vec![tree]), Some(phrase), |_| {}).await
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let accept: transfer::Consent = Box::new(|_| Ok(()));
    let destination = Destination::Folder(dir.path().to_owned());
    let got = transfer::receive_asking(&endpoint(&server, RECIPIENT), phrase, &destination, accept)
        .await
        .unwrap();
    let sent = sender.await.unwrap().unwrap();
    assert_eq!(got.resumed_at.len(), 1, "{got:?}");
    assert_eq!(sent.resumed_at, got.resumed_at);
    assert_eq!(
        got.sha256.as_deref(),
        Some(&*hex::encode(&Sha256::digest(&all)))
    );
    assert_eq!(got.files, [dir.path().join("tree")]);
    for (i, name) in ["a.bin", "b.bin", "inner/c.bin"].iter().enumerate() {
        let kept = std::fs::read(dir.path().join("tree").join(name)).unwrap();
        assert!(kept == all[i * EACH..(i + 1) * EACH], "{name} differs");
    }
    assert_eq!(listing(dir.path()), ["tree"]);
}

//! The CLI participants (`zkrelay send` / `receive` as library calls) through a real relay, from two
//! loopback addresses; plus a hand-driven malicious sender whose altered or replayed frames the
//! receiver must reject.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

mod common;

use common::{TestServer, listing, malicious_sender};
use std::net::IpAddr;
use zkrelay::api::relay::START_AGAIN;
use zkrelay::cli::transfer::{self, Delivered, Destination, Endpoint, Payload};
use zkrelay::protocol::relay::{Code, Header, Sealer};

fn endpoint(server: &TestServer, last: u8) -> Endpoint {
    Endpoint {
        server: server.url(""),
        bind: Some(IpAddr::from([127, 0, 0, last])),
    }
}

/// Runs a sender (127.0.0.2) and a recipient (127.0.0.3) that share `phrase` (or not).
async fn transfer(
    server: &TestServer,
    payload: Payload,
    sender_code: &str,
    recipient_code: &str,
    dir: &std::path::Path,
) -> (Result<Delivered, String>, Result<Delivered, String>) {
    let sender = {
        let (ep, code) = (endpoint(server, 2), sender_code.to_owned());
        tokio::spawn(async move { transfer::send(&ep, payload, Some(&code), |_| {}).await })
    };
    // The recipient joins once the channel exists, as a person would after hearing the phrase.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let received = transfer::receive(
        &endpoint(server, 3),
        recipient_code,
        &Destination::Folder(dir.to_owned()),
    )
    .await;
    (
        sender.await.unwrap().map_err(String::from),
        received.map_err(String::from),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_and_files_arrive_intact_with_safe_names() {
    let server = TestServer::start(|_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let code = "482193-cedar-comet-maple-otter-tulip";
    let (sent, got) = transfer(
        &server,
        Payload::Text("hello, Bob".into()),
        code,
        code,
        dir.path(),
    )
    .await;
    assert_eq!(sent.unwrap().bytes, 10);
    assert_eq!(got.unwrap().text.as_deref(), Some("hello, Bob"));

    let src = tempfile::tempdir().unwrap();
    let file = src.path().join("report ..pdf");
    let content: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 256) as u8).collect();
    std::fs::write(&file, &content).unwrap();
    for round in 0..2 {
        let code = format!("48{round}000-cedar-comet-maple-otter-tulip");
        let (sent, got) = transfer(
            &server,
            Payload::File(file.clone()),
            &code,
            &code,
            dir.path(),
        )
        .await;
        assert_eq!(sent.unwrap().bytes, content.len() as u64);
        let got = got.unwrap();
        let path = got.path.unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), content);
        // The second copy does not overwrite the first.
        let want = if round == 0 {
            "report ..pdf"
        } else {
            "report . (1).pdf"
        };
        assert_eq!(path.file_name().unwrap().to_str().unwrap(), want);
    }
    // Nothing partial is left behind.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(names.iter().all(|n| !n.contains("partial")), "{names:?}");
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_code_aborts_both_sides_and_sends_nothing() {
    let server = TestServer::start(|_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    let file = src.path().join("secret.txt");
    std::fs::write(&file, b"top secret").unwrap();
    let (sent, got) = transfer(
        &server,
        Payload::File(file),
        "555555-cedar-comet-maple-otter-tulip",
        "555555-cedar-comet-maple-otter-tiger",
        dir.path(),
    )
    .await;
    let sent = sent.unwrap_err();
    assert!(
        sent.starts_with(START_AGAIN) && sent.contains("mistyped"),
        "{sent}"
    );
    assert!(got.unwrap_err().contains("wrong code"));
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "something was written"
    );
    assert!(server.state.relay.is_empty(), "the channel was not freed");
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_255_byte_name_is_cut_so_that_every_derived_name_fits() {
    let server = TestServer::start(|_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    // The longest name a sender's file system allows, in two-byte characters.
    let name = format!("{}a.txt", "é".repeat(125));
    assert_eq!(name.len(), 255);
    let file = src.path().join(&name);
    std::fs::write(&file, b"long name").unwrap();
    let mut got_names = Vec::new();
    for round in 0..2 {
        let code = format!("49{round}000-cedar-comet-maple-otter-tulip");
        let (sent, got) = transfer(
            &server,
            Payload::File(file.clone()),
            &code,
            &code,
            dir.path(),
        )
        .await;
        sent.unwrap();
        let path = got.unwrap().path.unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"long name");
        got_names.push(path.file_name().unwrap().to_str().unwrap().to_owned());
    }
    let first = &got_names[0];
    assert!(first.len() <= 255, "{first}");
    assert!(
        first.starts_with("éé") && first.ends_with(".txt"),
        "{first}"
    );
    let stem = first.strip_suffix(".txt").unwrap();
    assert_eq!(got_names[1], format!("{stem} (1).txt"));
    // Both copies, and nothing partial, are left.
    let mut want = got_names.clone();
    want.sort();
    assert_eq!(listing(dir.path()), want);
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_partial_file_neither_blocks_nor_taints_a_retry() {
    let server = TestServer::start(|_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    // What a receive that crashed part-way leaves behind.
    let stale = dir.path().join(".report.txt.zkrelay-partial");
    std::fs::write(&stale, b"stale bytes of a crashed receive").unwrap();
    let src = tempfile::tempdir().unwrap();
    let file = src.path().join("report.txt");
    std::fs::write(&file, b"fresh").unwrap();
    let code = "495000-cedar-comet-maple-otter-tulip";
    let (sent, got) = transfer(&server, Payload::File(file), code, code, dir.path()).await;
    assert_eq!(sent.unwrap().bytes, 5);
    let path = got.unwrap().path.unwrap();
    assert_eq!(path, dir.path().join("report.txt"));
    assert_eq!(std::fs::read(&path).unwrap(), b"fresh");
    // The stale file is not ours to judge: it stays as it was, and nothing else is left.
    assert_eq!(
        std::fs::read(&stale).unwrap(),
        b"stale bytes of a crashed receive"
    );
    assert_eq!(
        listing(dir.path()),
        [".report.txt.zkrelay-partial", "report.txt"]
    );
    server.stop().await.unwrap();
}

/// Builds the bytes a malicious sender puts on the data connection from its data key.
type Attack = fn(&[u8; 32]) -> Vec<u8>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_altered_or_truncated_ciphertext_is_rejected() {
    let attacks: [(&str, &str, Attack); 3] = [
        ("replayed", "failed authentication", |k| {
            let s = &mut Sealer::new(k);
            let h = s
                .seal(&Header::file("x.bin".into(), 8).encode(), false)
                .unwrap();
            let a = s.seal(b"aaaa", false).unwrap();
            [h, a.clone(), a].concat()
        }),
        ("altered", "failed authentication", |k| {
            let s = &mut Sealer::new(k);
            let h = s
                .seal(&Header::file("x.bin".into(), 4).encode(), false)
                .unwrap();
            let mut a = s.seal(b"aaaa", true).unwrap();
            a[6] ^= 0x80;
            [h, a].concat()
        }),
        ("truncated", "ended before its final frame", |k| {
            let s = &mut Sealer::new(k);
            let h = s
                .seal(&Header::file("x.bin".into(), 8).encode(), false)
                .unwrap();
            let a = s.seal(b"aaaa", false).unwrap();
            [h, a].concat()
        }),
    ];
    for (what, expected, frames) in attacks {
        attack_fails(what, expected, frames).await;
    }
}

/// Runs `frames` as a malicious sender against a real receiver: the receive must fail with an
/// error containing `expected` and leave the destination folder empty.
async fn attack_fails(what: &str, expected: &str, frames: Attack) {
    let server = TestServer::start(|_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let code = Code::parse("comet-maple-otter-tulip").unwrap();
    let attacker = malicious_sender(&server, &code, frames);
    let (ep, dest) = (
        endpoint(&server, 3),
        Destination::Folder(dir.path().to_owned()),
    );
    let receiver = transfer::receive(&ep, "666666-cedar-comet-maple-otter-tulip", &dest);
    let ((), got) = tokio::join!(attacker, async {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        receiver.await
    });
    let err = got.unwrap_err().to_string();
    assert!(err.contains(expected), "{what}: {err}");
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "{what}: something was kept: {left:?}");
    server.stop().await.unwrap();
}

/// The header and a complete, valid content whose last frame is final: 4 bytes `"done"`.
fn complete_stream(sealer: &mut Sealer) -> Vec<u8> {
    let h = sealer
        .seal(&Header::file("x.bin".into(), 4).encode(), false)
        .unwrap();
    [h, sealer.seal(b"done", true).unwrap()].concat()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anything_after_the_final_frame_aborts_and_keeps_nothing() {
    let attacks: [(&str, Attack); 2] = [
        ("a sealed frame after the final one", |k| {
            let done = complete_stream(&mut Sealer::new(k));
            // Frame 2, sealed with the right key and counter, as if the stream went on.
            let mut more = Sealer::new(k);
            more.seal(b"", false).unwrap();
            more.seal(b"", false).unwrap();
            [done, more.seal(b"more", false).unwrap()].concat()
        }),
        ("stray bytes after the final frame", |k| {
            [complete_stream(&mut Sealer::new(k)), b"xyz".to_vec()].concat()
        }),
    ];
    for (what, frames) in attacks {
        attack_fails(what, "after the final frame", frames).await;
    }
}

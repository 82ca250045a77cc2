//! `zkrelay receive` at a real terminal (a pty): the person types the phrase with Tab completing
//! each word, the secret words never show on the screen, and the file arrives.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

mod common;

use common::TestServer;
use std::{net::IpAddr, process::Command};
use zkrelay::cli::transfer::{self, Endpoint, Payload};
use zkrelay::protocol::relay::{Completion, complete};

/// The shortest prefix of `word` that Tab completes to it.
fn shortest_prefix(word: &str) -> &str {
    (1..=word.len())
        .map(|n| &word[..n])
        .find(|p| matches!(complete(&format!("482193-{p}")), Completion::Unique(_)))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_phrase_is_typed_with_tab_completion_and_the_code_never_shows() {
    let server = TestServer::start(|_| {}).await;
    let phrase = "482193-cedar-comet-maple-otter-tulip";
    let src = tempfile::tempdir().unwrap();
    let file = src.path().join("notes.txt");
    let content: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&file, &content).unwrap();
    let sender = {
        let ep = Endpoint {
            server: server.url(""),
            bind: Some(IpAddr::from([127, 0, 0, 2])),
        };
        let (file, phrase) = (file.clone(), phrase.to_owned());
        tokio::spawn(async move {
            transfer::send(&ep, Payload::File(file), Some(&phrase), |_| {}).await
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_zkrelay"));
    command
        .args(["receive", "--server", &server.url(""), "--dir"])
        .arg(dir.path())
        .env("TERM", "xterm")
        .env_remove("ZKRELAY_CODE");
    let screen = tokio::task::spawn_blocking(move || {
        let mut session = rexpect::session::spawn_command(command, Some(30_000)).unwrap();
        let mut screen = session.exp_string("Enter the code").unwrap();
        screen += &session.exp_string(": ").unwrap();
        // The channel's number in full, then each word by its shortest prefix and Tab.
        session.send("482193-").unwrap();
        for word in ["cedar", "comet", "maple", "otter", "tulip"] {
            session.send(shortest_prefix(word)).unwrap();
            session.send("\t").unwrap();
            session.flush().unwrap();
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        session.send("\r").unwrap();
        session.flush().unwrap();
        screen += &session.exp_eof().unwrap();
        let status = session.process().wait().unwrap();
        (screen, status)
    })
    .await
    .unwrap();
    let (screen, status) = screen;
    assert!(
        matches!(status, rexpect::process::WaitStatus::Exited(_, 0)),
        "{status:?}\n{screen}"
    );
    sender.await.unwrap().unwrap();
    assert_eq!(
        std::fs::read(dir.path().join("notes.txt")).unwrap(),
        content
    );
    // The public channel name showed as typed; none of the four secret words ever did, and
    // what stood in their place was one `*` per letter.
    assert!(screen.contains("482193-cedar-"), "{screen}");
    for secret in ["comet", "maple", "otter", "tulip"] {
        assert!(!screen.contains(secret), "{secret} showed:\n{screen}");
    }
    assert!(screen.contains("*****-*****-*****-*****"), "{screen}");
    server.stop().await.unwrap();
}

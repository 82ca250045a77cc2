//! Identification runs against a real server: the CLI's Peggy and Victor accept each other; the
//! pairing refuses a third connection and a third IP; a forged or out-of-order message ends the
//! offender's part with a clear error (a Peggy's ends the run and erases her, a Victor's only
//! his seat); a Peggy leaving or going silent ends the run on both sides and erases her, while a
//! Victor leaving or going silent leaves her waiting for the next one.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

mod common;

use common::identify::*;
use futures::SinkExt;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use zkrelay::{
    cli::identify::{self, Outcome, Seen},
    protocol::identify::{Message as Wire, PeggyRun},
};

/// `zkrelay peggy --cheat`: a Peggy who threw her secrets away bets on each challenge. With
/// k = 20 she is caught in round 1 (she survives it with probability 2^-20); both sides see it,
/// and the server treats her like any rejected Peggy (erased).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cli_peggy_who_cheats_is_caught_and_both_sides_see_the_round() {
    use zkrelay::protocol::identify::{PeggyEvent, VictorEvent};
    let server = start(60, |_| {}).await;
    let peggy_end = endpoint(&server, 2);
    let victor_end = endpoint(&server, 3);
    let mut peggy_saw = Vec::new();
    let mut victor_saw = Vec::new();
    let peggy = identify::peggy(&peggy_end, "Bluffer", 20, true, None, |s| peggy_saw.push(s));
    let victor = async {
        let found = identify::find_peggy(&victor_end, "Bluffer", Duration::from_secs(10))
            .await
            .unwrap();
        identify::victor(&victor_end, &found.peggy_id, 5, |s| victor_saw.push(s))
            .await
            .unwrap()
    };
    let (peggy_outcome, victor_outcome) = tokio::join!(peggy, victor);
    let caught = Outcome {
        accepted: false,
        rounds_passed: 0,
        rounds: 5,
    };
    assert_eq!(peggy_outcome.unwrap(), caught);
    assert_eq!(victor_outcome, caught);
    let guess = peggy_saw.iter().find_map(|s| match s {
        Seen::Peggy(PeggyEvent::Committed {
            round: 1, guess, ..
        }) => guess.clone(),
        _ => None,
    });
    let challenge = victor_saw.iter().find_map(|s| match s {
        Seen::Victor(VictorEvent::Challenged { round: 1, e }) => Some(e.clone()),
        _ => None,
    });
    let (guess, challenge) = (guess.unwrap(), challenge.unwrap());
    assert_eq!(guess.to_string().len(), 20);
    assert_ne!(guess, challenge, "she bet on ê and Victor drew another e");
    assert!(peggy_saw.iter().any(|s| matches!(
        s,
        Seen::Peggy(PeggyEvent::Answered {
            round: 1,
            guessed: Some(false),
            ..
        })
    )));
    assert!(victor_saw.iter().any(|s| matches!(
        s,
        Seen::Victor(VictorEvent::Checked {
            round: 1,
            passed: false,
            ..
        })
    )));
    let lines: Vec<String> = peggy_saw.iter().filter_map(identify::describe).collect();
    assert!(
        lines.iter().any(|l| l.contains("guessed wrong: caught")),
        "{lines:?}"
    );
}

/// `zkrelay peggy --demo hac`: the Handbook's n = 553913 and key; Victor's list shows 20 bits and
/// k = 3, and every round is worked out in decimal on Peggy's terminal, her numbers matching the
/// ones that went over the wire.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cli_peggy_on_the_handbook_modulus_works_every_round_out_in_decimal() {
    use zkrelay::api::DemoModulus;
    use zkrelay::protocol::identify::PeggyEvent;
    let server = start(60, |_| {}).await;
    let (peggy_end, victor_end) = (endpoint(&server, 2), endpoint(&server, 3));
    let mut saw = Vec::new();
    let peggy = identify::peggy(
        &peggy_end,
        "Book",
        20,
        false,
        Some(DemoModulus::Handbook),
        |s| saw.push(s),
    );
    let victor = async {
        let found = identify::find_peggy(&victor_end, "Book", Duration::from_secs(10))
            .await
            .unwrap();
        assert_eq!((found.bits, found.k), (20, 3));
        identify::victor(&victor_end, &found.peggy_id, 4, |_| {})
            .await
            .unwrap()
    };
    let (peggy_outcome, victor_outcome) = tokio::join!(peggy, victor);
    assert!(peggy_outcome.unwrap().accepted && victor_outcome.accepted);
    let lines: Vec<String> = saw.iter().filter_map(identify::describe).collect();
    let worked: Vec<&String> = lines.iter().filter(|l| l.starts_with("    ")).collect();
    assert_eq!(
        worked.len(),
        4 * 3,
        "commit, answer, check per round: {lines:#?}"
    );
    for (i, round) in worked.chunks(3).enumerate() {
        let x = saw.iter().find_map(|s| match s {
            Seen::Peggy(PeggyEvent::Committed { round, x, .. }) if *round == i as u32 + 1 => {
                Some(u64::from_str_radix(&x.to_string(), 16).unwrap())
            }
            _ => None,
        });
        let x = x.unwrap().to_string();
        assert!(
            round[0].starts_with("    x = ") && round[0].contains("² mod 553913 = "),
            "{round:?}"
        );
        assert!(
            round[0].ends_with(&format!("= {x}")),
            "{round:?} vs x = {x}"
        );
        assert!(
            round[1].starts_with("    y = ") && round[1].contains(" mod 553913 = "),
            "{round:?}"
        );
        assert!(
            round[2].starts_with("    Victor's check: ") && round[2].ends_with("x ✓"),
            "{round:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_peggy_and_cli_victor_complete_a_run_and_the_peggy_is_erased() {
    let server = start(60, |_| {}).await;
    let peggy_end = endpoint(&server, 2);
    let victor_end = endpoint(&server, 3);
    let mut peggy_saw = Vec::new();
    let mut victor_saw = Vec::new();
    let peggy = identify::peggy(&peggy_end, "Peggy CLI", 20, false, None, |s| {
        peggy_saw.push(s)
    });
    let victor = async {
        let found = identify::find_peggy(&victor_end, "Peggy CLI", Duration::from_secs(10))
            .await
            .unwrap();
        assert_eq!((found.bits, found.k, found.busy), (BITS, 20, false));
        let outcome = identify::victor(&victor_end, &found.peggy_id, 10, |s| victor_saw.push(s))
            .await
            .unwrap();
        (found.peggy_id, outcome)
    };
    let (peggy_outcome, (peggy_id, victor_outcome)) = tokio::join!(peggy, victor);
    let accepted = Outcome {
        accepted: true,
        rounds_passed: 10,
        rounds: 10,
    };
    assert_eq!(peggy_outcome.unwrap(), accepted);
    assert_eq!(victor_outcome, accepted);
    // Both saw every round: Victor a check per round, Peggy a result per round.
    let checks = victor_saw
        .iter()
        .filter(|s| {
            matches!(
                s,
                Seen::Victor(zkrelay::protocol::identify::VictorEvent::Checked {
                    passed: true,
                    ..
                })
            )
        })
        .count();
    assert_eq!(checks, 10);
    let results = peggy_saw
        .iter()
        .filter(|s| {
            matches!(
                s,
                Seen::Peggy(zkrelay::protocol::identify::PeggyEvent::Checked { passed: true, .. })
            )
        })
        .count();
    assert_eq!(results, 10);
    // Erased: not listed, no row, no run.
    for _ in 0..250 {
        if server.state.store.peggy(&peggy_id).await.unwrap().is_none() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(server.state.store.peggy(&peggy_id).await.unwrap().is_none());
    assert!(listed(&server).await.is_empty());
    assert!(server.state.identify.is_empty());

    // A Victor asking for a Peggy nobody registered gets a clear error.
    let err = identify::find_peggy(&victor_end, "Nobody", Duration::ZERO)
        .await
        .unwrap_err();
    assert!(err.contains("no Peggy named \"Nobody\""), "{err}");
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pairing_refuses_bad_ids_a_third_connection_and_a_third_ip() {
    let server = start(60, |_| {}).await;
    let peggy = register(&server, "Peggy").await;
    let zeros = "0".repeat(32);
    let seat = peggy.seat();
    for (role, query, code, says) in [
        (
            "victor",
            "peggy_id=nope".to_owned(),
            "invalid_value",
            "32 lowercase hex",
        ),
        (
            "victor",
            format!("peggy_id={zeros}"),
            "not_found",
            "no Peggy",
        ),
        (
            "victor",
            format!("peggy_id={}", peggy.id),
            "not_found",
            "not connected",
        ),
        (
            "peggy",
            format!("peggy_id={zeros}"),
            "not_found",
            "no Peggy",
        ),
        (
            "peggy",
            format!("peggy_id={zeros}&secret={}", peggy.secret),
            "not_found",
            "no Peggy",
        ),
        (
            "peggy",
            format!("{seat}&extra=1"),
            "bad_request",
            "unknown field",
        ),
    ] {
        let mut ws = socket(&server, 3, role, &query).await;
        ends_with(&mut ws, code, 1008, says).await;
    }

    let mut p = peggy_socket(&server, 2, &peggy).await;
    waiting(&server, &peggy).await;
    let mut again = peggy_socket(&server, 2, &peggy).await;
    ends_with(&mut again, "conflict", 1008, "already connected").await;
    let mut v = victor_socket(&server, 3, &peggy.id).await;
    let public_key = match next_wire(&mut v).await {
        Wire::Paired {
            peggy: Some(card),
            public_key: Some(key),
        } => {
            assert_eq!(card.peggy_id, peggy.id);
            assert_eq!((card.name.as_str(), card.bits, card.k), ("Peggy", BITS, 20));
            key
        }
        other => panic!("{other:?}"),
    };
    assert!(matches!(next_wire(&mut p).await, Wire::Paired { .. }));
    assert_eq!(listed(&server).await[0]["busy"], true);

    // A third IP, as either role, and a third connection from a seated IP: refused. Without her
    // secret a Peggy socket is refused as if she did not exist; with it, she is already there.
    let victor_query = format!("peggy_id={}", peggy.id);
    let id_only = format!("peggy_id={}", peggy.id);
    for (last, role, query, code, says) in [
        (4, "victor", &victor_query, "conflict", "busy"),
        (4, "peggy", &id_only, "not_found", "no Peggy is registered"),
        (4, "peggy", &seat, "conflict", "already connected"),
        (3, "victor", &victor_query, "conflict", "busy"),
        (2, "peggy", &seat, "conflict", "already connected"),
    ] {
        let mut ws = socket(&server, last, role, query).await;
        ends_with(&mut ws, code, 1008, says).await;
    }

    // The run is unaffected: two real rounds, each message arriving exactly as sent.
    let mut prover = PeggyRun::new(&peggy.key);
    honest_run(&server, &peggy, &mut prover, &mut p, v, public_key, 2).await;
    server.stop().await.unwrap();
}

/// Messages that set a run up, the bad message (and who sends it), and the reason both hear.
type Case = (Vec<(By, String)>, By, Message, &'static str);

/// Who sends a scripted message.
#[derive(Clone, Copy)]
enum By {
    Peggy,
    Victor,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_or_out_of_order_message_ends_the_offenders_part() {
    let server = start(60, |_| {}).await;
    let zeros = "0".repeat(20);
    let start_msg = r#"{"type":"start","rounds":2}"#.to_owned();
    let commit = r#"{"type":"commit","round":1,"x":"4"}"#.to_owned();
    let challenge = format!(r#"{{"type":"challenge","round":1,"e":"{zeros}"}}"#);
    let response = r#"{"type":"response","round":1,"y":"5"}"#.to_owned();
    let result = r#"{"type":"result","round":1,"passed":true}"#.to_owned();
    let oversize = format!(
        r#"{{"type":"commit","round":1,"x":"{}"}}"#,
        "f".repeat(20_000)
    );
    let cases: Vec<Case> = vec![
        (
            vec![(By::Victor, start_msg.clone()), (By::Peggy, commit.clone())],
            By::Peggy,
            Message::text(response.clone()),
            "expects Victor's challenge for round 1",
        ),
        (
            vec![
                (By::Victor, start_msg.clone()),
                (By::Peggy, commit.clone()),
                (By::Victor, challenge.clone()),
                (By::Peggy, response.clone()),
                (By::Victor, result.clone()),
            ],
            By::Peggy,
            Message::text(r#"{"type":"commit","round":2,"x":"4"}"#),
            "repeats an earlier commitment",
        ),
        (
            vec![(By::Victor, start_msg.clone())],
            By::Peggy,
            Message::text(r#"{"type":"commit","round":1,"x":"0"}"#),
            "must not be zero",
        ),
        (
            vec![
                (By::Victor, start_msg.clone()),
                (By::Peggy, commit.clone()),
                (By::Victor, challenge.clone()),
            ],
            By::Peggy,
            Message::text(format!(
                r#"{{"type":"response","round":1,"y":"{}"}}"#,
                "f".repeat(256)
            )),
            "y of round 1 is invalid",
        ),
        (
            vec![(By::Victor, start_msg.clone()), (By::Peggy, commit.clone())],
            By::Victor,
            Message::text(r#"{"type":"challenge","round":1,"e":"101"}"#),
            "has 3 bits; this key has k = 20",
        ),
        (
            vec![],
            By::Victor,
            Message::text(r#"{"type":"hello"}"#),
            "unknown message type",
        ),
        (
            vec![(By::Victor, start_msg.clone())],
            By::Peggy,
            Message::text(oversize),
            "larger than",
        ),
        (
            vec![],
            By::Victor,
            Message::text(r#"{"type":"paired"}"#),
            "only the server sends",
        ),
        (
            vec![],
            By::Peggy,
            Message::binary(vec![1, 2, 3]),
            "only text messages",
        ),
    ];
    for (setup, by, bad, why) in cases {
        let (peggy, mut p, mut v) = paired(&server).await;
        for (from, text) in &setup {
            let (tx, rx) = match from {
                By::Peggy => (&mut p, &mut v),
                By::Victor => (&mut v, &mut p),
            };
            send_text(tx, text).await;
            assert_eq!(&next_text(rx).await, text, "forwarded unchanged");
        }
        match by {
            By::Peggy => {
                p.send(bad).await.unwrap();
                // Both sides get the same clear error: who broke which rule. She is erased.
                for ws in [&mut p, &mut v] {
                    let error = ends_with(ws, "protocol", 1008, why).await;
                    let message = error["message"].as_str().unwrap();
                    assert!(message.starts_with("Peggy broke the protocol: "), "{error}");
                }
                gone(&server, &peggy).await;
            }
            By::Victor => {
                v.send(bad).await.unwrap();
                // Victor loses his seat with the error; Peggy hears the same sentence as
                // `unpaired` and waits for another Victor.
                let error = ends_with(&mut v, "protocol", 1008, why).await;
                let message = error["message"].as_str().unwrap();
                assert!(
                    message.starts_with("Victor broke the protocol: "),
                    "{error}"
                );
                assert_eq!(unpaired(&mut p, why).await, message);
                free_again(&server, &peggy.id).await;
                p.close(None).await.unwrap();
                gone(&server, &peggy).await;
            }
        }
    }
    // A frame beyond the WebSocket limit ends the connection itself: from Peggy, Victor is told
    // she left and she is erased; from Victor, Peggy is told he left and waits.
    let (peggy, mut p, mut v) = paired(&server).await;
    let _ = p.send(Message::text("x".repeat(200_000))).await;
    ends_with(&mut v, "peer_left", 1001, "Peggy left the run").await;
    gone(&server, &peggy).await;
    let (peggy, mut p, mut v) = paired(&server).await;
    let _ = v.send(Message::text("x".repeat(200_000))).await;
    unpaired(&mut p, "Victor left the run").await;
    free_again(&server, &peggy.id).await;
    drop(p);
    gone(&server, &peggy).await;
    assert!(listed(&server).await.is_empty());
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peggy_leaving_or_going_silent_ends_the_run_a_victor_only_his_seat() {
    let server = start(1, |_| {}).await;
    // Peggy closes her page mid-run.
    let (peggy, mut p, mut v) = paired(&server).await;
    send_text(&mut v, r#"{"type":"start","rounds":3}"#).await;
    next_text(&mut p).await;
    p.close(None).await.unwrap();
    ends_with(&mut v, "peer_left", 1001, "Peggy left the run").await;
    gone(&server, &peggy).await;

    // Victor leaves before the verdict: Peggy is told and waits for another Victor.
    let (peggy, mut p, v) = paired(&server).await;
    drop(v);
    let why = unpaired(&mut p, "Victor left the run").await;
    free_again(&server, &peggy.id).await;

    // Victor goes silent (no pongs: his socket is never read) while Peggy keeps answering: his
    // seat goes, she waits again, and the next Victor identifies her.
    let mut prover = PeggyRun::new(&peggy.key);
    prover
        .handle(&mut zkrelay::rng::os_rng(), Wire::Unpaired { message: why })
        .unwrap();
    let (_silent, _) = pair(&server, &peggy.id, &mut p, 3).await;
    let why = unpaired(&mut p, "Victor went silent for 1 s").await;
    prover
        .handle(&mut zkrelay::rng::os_rng(), Wire::Unpaired { message: why })
        .unwrap();
    free_again(&server, &peggy.id).await;
    let (v, key) = pair(&server, &peggy.id, &mut p, 4).await;
    honest_run(&server, &peggy, &mut prover, &mut p, v, key, 2).await;

    // Peggy goes silent (no pongs: her socket is never read) while Victor keeps answering.
    let (peggy, _silent, mut v) = paired(&server).await;
    ends_with(&mut v, "peer_left", 1001, "Peggy went silent for 1 s").await;
    gone(&server, &peggy).await;

    // A waiting Peggy who never connects a Victor and goes silent is erased too.
    let lonely = register(&server, "Lonely").await;
    let _silent = peggy_socket(&server, 2, &lonely).await;
    gone(&server, &lonely).await;
    assert!(listed(&server).await.is_empty());
    server.stop().await.unwrap();
}

/// `zkrelay soundness`: many runs in memory; the honest Peggy is always accepted, the bluffer's
/// rate is printed with its theory, and bad input is refused with a clear message.
#[test]
fn the_cli_soundness_batch_reports_both_peggys_and_refuses_bad_input() {
    let zkrelay = env!("CARGO_BIN_EXE_zkrelay");
    let out = std::process::Command::new(zkrelay)
        .args([
            "soundness",
            "--runs",
            "400",
            "-k",
            "1",
            "-t",
            "1",
            "--bits",
            "256",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("(demo size: insecure)"), "{text}");
    assert!(
        text.contains("honest Peggy: accepted 400 of 400 = 1.0000"),
        "{text}"
    );
    let bluffer = text
        .lines()
        .find(|l| l.starts_with("Peggy without the secret: accepted "))
        .unwrap();
    let accepted: u32 = bluffer["Peggy without the secret: accepted ".len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    // 400 runs at p = 1/2: σ = 10 runs; 6σ either side never fails in practice.
    assert!((140..=260).contains(&accepted), "{bluffer}");
    assert!(bluffer.contains("a bluffer's 2^-1 = 0.5000"), "{bluffer}");
    for bad in [["--runs", "0"], ["-k", "65"], ["--bits", "15"]] {
        let out = std::process::Command::new(zkrelay)
            .arg("soundness")
            .args(bad)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{bad:?} was accepted");
        assert!(!out.stderr.is_empty());
    }
}

//! Attacks on Identify runs from other people's addresses (127.0.0.3 and up), each shown to fail
//! while an honest Peggy and Victor on the same server still complete a run: taking a Peggy's
//! seat, erasing her by joining and leaving (or cheating) as her Victor, flooding the run
//! sockets, and flooding the modulus draws to burn the server's CPU. Stalling is in
//! `identify_timeouts.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

mod common;

use common::identify::*;
use common::{TestServer, client_from};
use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;
use tokio_tungstenite::tungstenite;
use zkrelay::{
    cli::identify::{self, Outcome, Seen},
    protocol::{
        ffs::{BlumModulus, SecretKey, wire},
        identify::{Message as Wire, PeggyEvent, PeggyRun, VictorRun},
    },
    rng::os_rng,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peggys_seat_opens_only_with_her_secret() {
    let server = start(60, |_| {}).await;
    let peggy = register(&server, "Peggy").await;
    // What a Peggy socket for an id nobody registered hears.
    let nobody = format!("peggy_id={}&secret={}", "0".repeat(32), peggy.secret);
    let mut ws = socket(&server, 4, "peggy", &nobody).await;
    let unknown = ends_with(&mut ws, "not_found", 1008, "no Peggy is registered").await;
    let id = &peggy.id;
    let attempts = [
        format!("peggy_id={id}"),
        format!("peggy_id={id}&secret="),
        format!("peggy_id={id}&secret={}", "ab".repeat(32)),
        format!("peggy_id={id}&secret={}", peggy.secret.to_uppercase()),
        format!("peggy_id={id}&secret={}", &peggy.secret[..63]),
        format!("peggy_id={id}&secret={}0", peggy.secret),
    ];
    let try_all = async |server: &TestServer| {
        // From a stranger's address and from hers: refused word for word like an unknown id.
        for last in [4, 2] {
            for query in &attempts {
                let mut ws = socket(server, last, "peggy", query).await;
                let (error, frame) = next_close(&mut ws).await;
                assert_eq!(error.as_ref(), Some(&unknown), "{query}");
                assert_eq!(u16::from(frame.code), 1008);
            }
        }
    };
    // Before she connects, while her seat is free: nobody takes it.
    try_all(&server).await;
    assert!(
        server.state.identify.watch(id).is_none(),
        "a refused socket took her seat"
    );
    let mut p = peggy_socket(&server, 2, &peggy).await;
    waiting(&server, &peggy).await;
    // While she waits.
    try_all(&server).await;
    // Her secret from another address while she is seated does not displace her either.
    let mut ws = socket(&server, 4, "peggy", &peggy.seat()).await;
    ends_with(&mut ws, "conflict", 1008, "already connected").await;
    // She heard nothing of it, is still listed and free, and an honest Victor identifies her.
    quiet(&mut p, Duration::from_millis(300)).await;
    free_again(&server, id).await;
    let (v, key) = pair(&server, id, &mut p, 3).await;
    honest_run(
        &server,
        &peggy,
        &mut PeggyRun::new(&peggy.key),
        &mut p,
        v,
        key,
        3,
    )
    .await;
    server.stop().await.unwrap();
}

/// The `unpaired` messages a CLI Peggy reported.
fn unpaired_seen(saw: &[Seen]) -> Vec<String> {
    saw.iter()
        .filter_map(|s| match s {
            Seen::Peggy(PeggyEvent::Unpaired { message }) => Some(message.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn victors_who_leave_or_cheat_do_not_erase_peggy() {
    let server = start(60, |_| {}).await;
    let mut saw = Vec::new();
    let peggy_end = endpoint(&server, 2);
    let peggy = identify::peggy(&peggy_end, "Patient", 20, false, None, |s| saw.push(s));
    let victors = async {
        let found = identify::find_peggy(&endpoint(&server, 3), "Patient", Duration::from_secs(10))
            .await
            .unwrap();
        let id = found.peggy_id.as_str();
        let paired_key = async |v: &mut Ws| match next_wire(v).await {
            Wire::Paired {
                public_key: Some(key),
                ..
            } => key,
            other => panic!("{other:?}"),
        };
        // 1. From .3: connects, is paired, leaves at once.
        let mut v = victor_socket(&server, 3, id).await;
        paired_key(&mut v).await;
        drop(v);
        free_again(&server, id).await;
        // 2. From .4: breaks the protocol before anything happened.
        let mut v = victor_socket(&server, 4, id).await;
        paired_key(&mut v).await;
        send_text(&mut v, r#"{"type":"hello"}"#).await;
        ends_with(&mut v, "protocol", 1008, "Victor broke the protocol").await;
        free_again(&server, id).await;
        // 3. From .5: starts, and leaves while Peggy owes him her commitment.
        let mut v = victor_socket(&server, 5, id).await;
        paired_key(&mut v).await;
        send_text(&mut v, r#"{"type":"start","rounds":3}"#).await;
        drop(v);
        free_again(&server, id).await;
        // 4. From .6: plays a round honestly, then lies about it.
        let mut v = victor_socket(&server, 6, id).await;
        let key = paired_key(&mut v).await;
        let (mut run, start) = VictorRun::new(key, 3).unwrap();
        send_text(&mut v, &start.to_json()).await;
        run.handle(next_wire(&mut v).await).unwrap();
        let (_, challenge) = run.challenge(&mut os_rng()).unwrap();
        send_text(&mut v, &challenge.to_json()).await;
        run.handle(next_wire(&mut v).await).unwrap();
        let lie = r#"{"type":"verdict","accepted":true,"rounds_passed":3,"rounds":3}"#;
        send_text(&mut v, lie).await;
        ends_with(
            &mut v,
            "protocol",
            1008,
            "expects Victor's result for round 1",
        )
        .await;
        free_again(&server, id).await;
        // Through all of it she stayed registered and connected: an honest Victor from yet
        // another address identifies her.
        identify::victor(&endpoint(&server, 7), id, 5, |_| {})
            .await
            .unwrap()
    };
    let (peggy_outcome, victor_outcome) = tokio::join!(peggy, victors);
    let accepted = Outcome {
        accepted: true,
        rounds_passed: 5,
        rounds: 5,
    };
    assert_eq!(peggy_outcome.unwrap(), accepted);
    assert_eq!(victor_outcome, accepted);
    // She was told of each Victor who left, why, and kept waiting.
    let told = unpaired_seen(&saw);
    assert_eq!(told.len(), 4, "{told:?}");
    assert_eq!(told[0], "Victor left the run");
    assert!(told[1].starts_with("Victor broke the protocol: unknown message type"));
    assert_eq!(told[2], "Victor left the run");
    assert!(
        told[3].contains("expects Victor's result for round 1"),
        "{told:?}"
    );
    let line = identify::describe(&saw[saw.len() - 1]).unwrap_or_default();
    assert!(line.starts_with("verdict: accepted"), "{line}");
    // After the verdict she is erased, as always.
    for _ in 0..250 {
        if listed(&server).await.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(listed(&server).await.is_empty());
    assert!(server.state.identify.is_empty());
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peggys_reply_to_a_victor_who_left_is_dropped_and_nobody_pairs_before_it() {
    let server = start(60, |_| {}).await;
    let (peggy, mut p, mut v) = paired(&server).await;
    let mut rng = os_rng();
    let mut prover = PeggyRun::new(&peggy.key);
    send_text(&mut v, r#"{"type":"start","rounds":2}"#).await;
    let start = next_wire(&mut p).await;
    // Victor leaves before her commitment went out: she is told, and she owes it still.
    v.close(None).await.unwrap();
    drop(v);
    let why = unpaired(&mut p, "Victor left the run").await;
    assert!(busy(&server, &peggy.id).await, "free before her reply came");
    // A Victor quick enough to pair before her stale reply arrives is turned away…
    let mut early = victor_socket(&server, 4, &peggy.id).await;
    ends_with(&mut early, "conflict", 1008, "busy").await;
    // …her reply (to the Victor who left) is dropped, and then she is free.
    for m in prover.handle(&mut rng, start).unwrap().send {
        send_text(&mut p, &m.to_json()).await;
    }
    prover
        .handle(&mut rng, Wire::Unpaired { message: why })
        .unwrap();
    free_again(&server, &peggy.id).await;
    // The next Victor's run starts clean: nothing of the old one reaches him.
    let (v, key) = pair(&server, &peggy.id, &mut p, 4).await;
    honest_run(&server, &peggy, &mut prover, &mut p, v, key, 2).await;
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_sockets_beyond_the_rate_limit_are_refused_before_the_upgrade() {
    // Refusals answered at once: this test counts 150 sockets asked one after another.
    let server = start(60, |c| c.server.refusal_delay_ms = 0).await;
    let limit = server.state.config.identify.runs_per_ip_per_minute;
    assert_eq!(limit, 120, "the default");
    let peggy_end = endpoint(&server, 2);
    let honest = async {
        let peggy = identify::peggy(&peggy_end, "Honest", 20, false, None, |_| {});
        let victor = async {
            let found =
                identify::find_peggy(&endpoint(&server, 4), "Honest", Duration::from_secs(20))
                    .await
                    .unwrap();
            identify::victor(&endpoint(&server, 4), &found.peggy_id, 5, |_| {}).await
        };
        tokio::join!(peggy, victor)
    };
    let nobody = format!("peggy_id={}", "0".repeat(32));
    let flood = async {
        let (mut upgraded, mut refused) = (0u32, 0u32);
        for _ in 0..150 {
            match try_socket(&server, 3, "victor", &nobody).await {
                Ok(mut ws) => {
                    ends_with(&mut ws, "not_found", 1008, "no Peggy").await;
                    upgraded += 1;
                }
                Err(tungstenite::Error::Http(res)) => {
                    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
                    let body: Value =
                        serde_json::from_slice(res.body().as_deref().unwrap()).unwrap();
                    assert_eq!(body["code"], "rate_limited", "{body}");
                    let message = body["message"].as_str().unwrap();
                    assert!(message.contains("too many Identify connections"), "{body}");
                    refused += 1;
                }
                Err(e) => panic!("{e}"),
            }
        }
        (upgraded, refused)
    };
    let ((peggy, victor), (upgraded, refused)) = tokio::join!(honest, flood);
    // The burst, and what the steady rate (2 a second) added while the flood went on.
    assert!(
        (limit..limit + 10).contains(&upgraded),
        "{upgraded} upgraded"
    );
    assert_eq!(upgraded + refused, 150);
    // The honest pair on other addresses completed meanwhile.
    let accepted = Outcome {
        accepted: true,
        rounds_passed: 5,
        rounds: 5,
    };
    assert_eq!(peggy.unwrap(), accepted);
    assert_eq!(victor.unwrap(), accepted);
    // Peggy sockets count towards the same limit.
    let refused = try_socket(&server, 3, "peggy", &nobody).await;
    assert!(
        matches!(&refused, Err(tungstenite::Error::Http(res)) if res.status() == 429),
        "{refused:?}"
    );
    // The CLI says why.
    let err = identify::connect(
        &endpoint(&server, 3),
        &format!("/ws/identify/victor?{nobody}"),
    )
    .await
    .unwrap_err();
    assert!(err.contains("too many Identify connections"), "{err}");
    server.stop().await.unwrap();
}

/// POSTs a server function; its status and JSON body.
async fn call(
    http: &reqwest::Client,
    server: &TestServer,
    name: &str,
    args: &[(&str, &str)],
) -> (StatusCode, Value) {
    let res = http
        .post(server.url(&format!("/api/{name}")))
        .form(args)
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draw_flood_is_rate_limited_and_generates_a_bounded_number_of_moduli() {
    // The default limits; an empty pool (no refill), 2048-bit moduli as in production.
    let server = TestServer::start(|c| {
        c.blum.modulus_bits = 2048;
        c.blum.pool_size = 0;
    })
    .await;
    let config = &server.state.config;
    let (per_minute, generators) = (
        config.identify.draws_per_ip_per_minute,
        config.blum.on_demand_generators,
    );
    assert_eq!((per_minute, generators), (10, 1), "the defaults");
    let flooder = client_from(2);
    let timed = futures::future::join_all((0..50).map(|_| async {
        let asked = std::time::Instant::now();
        let reply = call(&flooder, &server, "draw_modulus", &[]).await;
        (reply, asked.elapsed())
    }))
    .await;
    // A refusal is held for [server] refusal_delay_ms (the next draw is 6 s away): a client
    // that asks again at once asks once a second per connection instead of spinning a core.
    let delay = Duration::from_millis(config.server.refusal_delay_ms);
    assert_eq!(delay, Duration::from_secs(1), "the default");
    for ((status, _), took) in &timed {
        if *status == StatusCode::TOO_MANY_REQUESTS {
            assert!(*took >= delay, "a refusal answered after {took:?}");
        }
    }
    let replies: Vec<_> = timed.into_iter().map(|(reply, _)| reply).collect();
    let count = |status: StatusCode| replies.iter().filter(|r| r.0 == status).count();
    let (ok, limited, unavailable) = (
        count(StatusCode::OK),
        count(StatusCode::TOO_MANY_REQUESTS),
        count(StatusCode::SERVICE_UNAVAILABLE),
    );
    assert_eq!(ok + limited + unavailable, 50, "{replies:?}");
    // Ten draws a minute from one address; of those, the ones that found the one generator busy
    // were told to come back instead of queueing more work.
    assert_eq!(limited, 40, "{replies:?}");
    assert_eq!(ok + unavailable, 10);
    assert!(
        unavailable >= 1,
        "concurrent draws all generated: {replies:?}"
    );
    for (status, body) in &replies {
        match *status {
            StatusCode::TOO_MANY_REQUESTS => {
                assert_eq!(body["code"], "rate_limited");
                assert!(body["message"].as_str().unwrap().contains("moduli drawn"));
            }
            StatusCode::SERVICE_UNAVAILABLE => {
                assert_eq!(body["code"], "unavailable");
                assert_eq!(
                    body["message"],
                    "no modulus is ready; try again in a few seconds"
                );
            }
            _ => {}
        }
    }
    let generated = server.state.blum_pool.generated_on_demand();
    assert_eq!(
        generated, ok as u64,
        "one generation per modulus handed out"
    );
    assert!(generated <= 10);

    // Someone else draws and registers meanwhile.
    let other = client_from(3);
    let (status, drawn) = call(&other, &server, "draw_modulus", &[]).await;
    assert_eq!(status, StatusCode::OK, "{drawn}");
    let n = wire::decode(drawn["n"].as_str().unwrap(), 2048).unwrap();
    let key =
        SecretKey::generate(&mut os_rng(), &BlumModulus::from_stored(&n).unwrap(), 20).unwrap();
    let modulus_id = drawn["modulus_id"].to_string();
    let public_key = serde_json::to_string(key.public_key()).unwrap();
    let args = [
        ("name", "Other"),
        ("modulus_id", modulus_id.as_str()),
        ("public_key", public_key.as_str()),
    ];
    let (status, body) = call(&other, &server, "register_peggy", &args).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Registrations are limited per address too, every attempt counting.
    let spammer = client_from(4);
    let junk = [("name", "Spam"), ("modulus_id", "1"), ("public_key", "{}")];
    for _ in 0..config.identify.registrations_per_ip_per_minute {
        let (status, body) = call(&spammer, &server, "register_peggy", &junk).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    }
    let (status, body) = call(&spammer, &server, "register_peggy", &junk).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(body["message"].as_str().unwrap().contains("registrations"));
    server.stop().await.unwrap();
}

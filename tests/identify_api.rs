//! Identify's server functions against a real server: drawing moduli, registering Peggys with keys
//! built by the pure FFS core (and handing each her seat secret, of which only a digest is kept),
//! listing them, refusing every bad registration without writing, and the start-up sweep.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

mod common;

use common::{TestServer, client_from};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use zkrelay::protocol::ffs::{BlumModulus, SecretKey, wire};

const BITS: u32 = 1024;

async fn start(db_dir: Option<&std::path::Path>) -> TestServer {
    let url = db_dir.map(|d| format!("sqlite://{}/identify.db", d.display()));
    TestServer::start(move |c| {
        c.blum.modulus_bits = BITS;
        c.blum.pool_size = 2;
        // These tests make many calls from one address; the limits have tests of their own.
        c.identify.draws_per_ip_per_minute = 1000;
        c.identify.registrations_per_ip_per_minute = 1000;
        if let Some(url) = url {
            c.database.url = url;
        }
    })
    .await
}

/// POSTs a server function with form-encoded arguments; returns the status and the JSON body
/// (`Value::Null` if the body is not JSON).
async fn call(
    http: &Client,
    server: &TestServer,
    endpoint: &str,
    args: &[(&str, &str)],
) -> (StatusCode, Value) {
    let res = http
        .post(server.url(&format!("/api/{endpoint}")))
        .form(args)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let body = res.bytes().await.unwrap();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

async fn draw(http: &Client, server: &TestServer) -> (i64, String) {
    let (status, body) = call(http, server, "draw_modulus", &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["bits"], BITS, "{body}");
    let n = body["n"].as_str().unwrap().to_owned();
    assert_eq!(wire::decode(&n, BITS).unwrap().bits(), BITS);
    (body["modulus_id"].as_i64().unwrap(), n)
}

/// A real secret key over `n` (k = 20).
fn secret_key(n: &str) -> SecretKey {
    let n = wire::decode(n, BITS).unwrap();
    let modulus = BlumModulus::from_stored(&n).unwrap();
    SecretKey::generate(&mut zkrelay::rng::os_rng(), &modulus, 20).unwrap()
}

/// A real key over `n` (k = 20), as the JSON value of its public half.
fn public_key(n: &str) -> Value {
    serde_json::to_value(secret_key(n).public_key()).unwrap()
}

async fn register(
    http: &Client,
    server: &TestServer,
    name: &str,
    modulus_id: i64,
    key: &str,
) -> (StatusCode, Value) {
    let id = modulus_id.to_string();
    call(
        http,
        server,
        "register_peggy",
        &[("name", name), ("modulus_id", &id), ("public_key", key)],
    )
    .await
}

async fn list(http: &Client, server: &TestServer) -> Vec<Value> {
    let (status, body) = call(http, server, "list_peggys", &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array().unwrap().clone()
}

/// Asserts a refusal: the status, the JSON error's code, and a message containing `says`.
fn refused((status, body): &(StatusCode, Value), want: StatusCode, code: &str, says: &str) {
    assert_eq!(*status, want, "{body}");
    assert_eq!(body["code"], code, "{body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains(says), "wanted {says:?} in {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn draw_register_list_and_the_restart_sweep() {
    let db = tempfile::tempdir().unwrap();
    let server = start(Some(db.path())).await;
    let peggy = client_from(2);

    // Every draw is a new modulus.
    let (id, n) = draw(&peggy, &server).await;
    let (other_id, other_n) = draw(&peggy, &server).await;
    assert_ne!(id, other_id);
    assert_ne!(n, other_n);

    let key = public_key(&n).to_string();
    let (status, body) = register(&peggy, &server, "  Peggy Q.  ", id, &key).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let peggy_id = body["peggy_id"].as_str().unwrap().to_owned();
    assert_eq!(peggy_id.len(), 32);
    // Her seat secret: 64 lowercase hex digits, for her alone.
    let secret = body["peggy_secret"].as_str().unwrap().to_owned();
    assert_eq!(secret.len(), 64);
    assert!(
        secret
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    );
    assert_eq!(
        body,
        json!({
            "peggy_id": peggy_id, "peggy_secret": secret, "name": "Peggy Q.", "bits": BITS, "k": 20
        })
    );
    // The server keeps the SHA-256 of its 32 bytes, and the secret itself nowhere.
    let bytes: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&secret[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    let stored = server.state.store.peggy_secret_sha256(&peggy_id).await;
    assert_eq!(
        stored.unwrap().unwrap(),
        <sha2::Sha256 as sha2::Digest>::digest(&bytes).to_vec()
    );
    let file = std::fs::read(db.path().join("identify.db")).unwrap();
    let wal = std::fs::read(db.path().join("identify.db-wal")).unwrap_or_default();
    for haystack in [&file, &wal] {
        for needle in [secret.as_bytes(), &bytes[..]] {
            assert!(
                !haystack.windows(needle.len()).any(|w| w == needle),
                "the secret is in the database files"
            );
        }
    }

    // Anyone sees her in the list; the server kept her key (in its canonical wire form).
    let victor = client_from(3);
    assert_eq!(
        list(&victor, &server).await,
        vec![
            json!({ "peggy_id": peggy_id, "name": "Peggy Q.", "bits": BITS, "k": 20, "busy": false })
        ]
    );
    // A name narrows the list; a name that could never be registered is refused.
    let (_, named) = call(&victor, &server, "list_peggys", &[("name", "Peggy Q.")]).await;
    assert_eq!(named.as_array().unwrap().len(), 1, "{named}");
    let (_, nobody) = call(&victor, &server, "list_peggys", &[("name", "Nobody")]).await;
    assert_eq!(nobody, json!([]));
    let long = "x".repeat(41);
    refused(
        &call(&victor, &server, "list_peggys", &[("name", long.as_str())]).await,
        StatusCode::BAD_REQUEST,
        "invalid_value",
        "name",
    );
    let stored = server.state.store.peggy(&peggy_id).await.unwrap().unwrap();
    let stored_key: Value = serde_json::from_str(&stored.public_key).unwrap();
    assert_eq!(stored_key.to_string(), key);
    assert!(
        stored.public_key.starts_with(r#"{"n":""#),
        "not the wire form"
    );
    assert_eq!(stored.modulus_id, id);

    // The same modulus cannot serve a second registration, even with another key on it.
    let again = register(&peggy, &server, "Twin", id, &public_key(&n).to_string()).await;
    refused(
        &again,
        StatusCode::CONFLICT,
        "conflict",
        "already registered",
    );
    assert_eq!(list(&victor, &server).await.len(), 1);

    // A restart on the same database sweeps the Peggy and the moduli issued to the last run.
    server.stop().await.unwrap();
    let server = start(Some(db.path())).await;
    assert!(list(&victor, &server).await.is_empty());
    let store = &server.state.store;
    assert!(store.peggy(&peggy_id).await.unwrap().is_none());
    // Both issued moduli are gone, and their ids are not given to new ones (migration 0003).
    for gone_id in [id, other_id] {
        assert!(
            store.modulus(gone_id).await.unwrap().is_none(),
            "modulus {gone_id} survived the restart or its id was reused"
        );
    }
    // …so the drawn-but-unregistered modulus of the last run cannot be registered either.
    let late = register(
        &peggy,
        &server,
        "Late",
        other_id,
        &public_key(&other_n).to_string(),
    )
    .await;
    refused(&late, StatusCode::NOT_FOUND, "not_found", "no modulus");
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_registrations_are_refused_with_4xx_and_write_nothing() {
    let server = start(None).await;
    let http = client_from(2);
    let (id, n) = draw(&http, &server).await;
    let good = public_key(&n);
    let with = |edit: &dyn Fn(&mut Value)| {
        let mut key = good.clone();
        edit(&mut key);
        key.to_string()
    };
    let first_i = good["i"][0].as_str().unwrap().to_owned();
    // A 20-bit demo modulus with known factors (683 · 811), issued directly in the store, so a
    // key that is not coprime to it can be built.
    let demo = server
        .state
        .store
        .issue_new_modulus("873b9", 20)
        .await
        .unwrap();

    let bad_request = StatusCode::BAD_REQUEST;
    let cases: Vec<(&str, String, i64, String, StatusCode, &str, &str)> = vec![
        (
            "I_j = n (out of range)",
            "Peggy".into(),
            id,
            with(&|k| k["i"][3] = json!(n)),
            bad_request,
            "invalid_value",
            "I_4: value must be less than the modulus n",
        ),
        (
            "I_j longer than n",
            "Peggy".into(),
            id,
            with(&|k| k["i"][0] = json!(format!("1{}", "0".repeat(256)))),
            bad_request,
            "invalid_value",
            "I_1: number has more bits",
        ),
        (
            "I_j = 0",
            "Peggy".into(),
            id,
            with(&|k| k["i"][19] = json!("0")),
            bad_request,
            "invalid_value",
            "I_20: value must not be zero",
        ),
        (
            "I_j not canonical",
            "Peggy".into(),
            id,
            with(&|k| k["i"][0] = json!(first_i.to_uppercase())),
            bad_request,
            "invalid_value",
            "I_1: number is not in canonical",
        ),
        (
            "I_j not coprime to n",
            "Peggy".into(),
            demo.id,
            json!({ "n": "873b9", "k": 2, "i": ["6bdf5", "2ab"] }).to_string(),
            bad_request,
            "invalid_value",
            "I_2: value is not coprime",
        ),
        (
            "k = 0",
            "Peggy".into(),
            id,
            with(&|k| {
                k["k"] = json!(0);
                k["i"] = json!([]);
            }),
            bad_request,
            "invalid_value",
            "between 1 and 64",
        ),
        (
            "k = 65",
            "Peggy".into(),
            id,
            with(&|k| k["k"] = json!(65)),
            bad_request,
            "invalid_value",
            "between 1 and 64",
        ),
        (
            "k does not match the identifiers",
            "Peggy".into(),
            id,
            with(&|k| k["k"] = json!(19)),
            bad_request,
            "invalid_value",
            "lists 20 identifiers",
        ),
        (
            "an n the server did not issue under this id",
            "Peggy".into(),
            id,
            json!({ "n": "873b9", "k": 1, "i": ["6bdf5"] }).to_string(),
            bad_request,
            "invalid_value",
            "not the modulus this server issued",
        ),
        (
            "a modulus id the server never issued",
            "Peggy".into(),
            id + 1000,
            good.to_string(),
            StatusCode::NOT_FOUND,
            "not_found",
            "no modulus",
        ),
        (
            "an extra field in the key",
            "Peggy".into(),
            id,
            with(&|k| k["s"] = json!(["1"])),
            bad_request,
            "bad_request",
            "unknown field",
        ),
        (
            "a key that is not JSON",
            "Peggy".into(),
            id,
            "n=1".into(),
            bad_request,
            "bad_request",
            "public key must be JSON",
        ),
        (
            "an empty name",
            "".into(),
            id,
            good.to_string(),
            bad_request,
            "invalid_value",
            "name must not be empty",
        ),
        (
            "a blank name",
            " \t ".into(),
            id,
            good.to_string(),
            bad_request,
            "invalid_value",
            "name must not be empty",
        ),
        (
            "a 41-character name",
            "x".repeat(41),
            id,
            good.to_string(),
            bad_request,
            "invalid_value",
            "at most 40 characters",
        ),
        (
            "a 10 KB name",
            "x".repeat(10 * 1024),
            id,
            good.to_string(),
            bad_request,
            "invalid_value",
            "at most 40 characters",
        ),
        (
            "a control character in the name",
            "Peg\u{7}gy".into(),
            id,
            good.to_string(),
            bad_request,
            "invalid_value",
            "control",
        ),
    ];
    for (what, name, modulus_id, key, status, code, says) in &cases {
        let reply = register(&http, &server, name, *modulus_id, key).await;
        assert_eq!(reply.0, *status, "{what}: {}", reply.1);
        refused(&reply, *status, code, says);
    }

    // Malformed calls: missing or unreadable arguments.
    let missing = call(&http, &server, "register_peggy", &[("name", "Peggy")]).await;
    assert!(missing.0.is_client_error(), "{missing:?}");
    assert_eq!(missing.1["code"], "bad_request", "{missing:?}");
    let key = good.to_string();
    let not_a_number = call(
        &http,
        &server,
        "register_peggy",
        &[
            ("name", "Peggy"),
            ("modulus_id", "seven"),
            ("public_key", &key),
        ],
    )
    .await;
    assert!(not_a_number.0.is_client_error(), "{not_a_number:?}");
    assert_eq!(not_a_number.1["code"], "bad_request", "{not_a_number:?}");

    // Oversize values: a 100 KB number as n or as an identifier is over the body limit (413).
    let huge = "f".repeat(100 * 1024);
    for key in [
        with(&|k| k["n"] = json!(huge)),
        with(&|k| k["i"][0] = json!(huge)),
    ] {
        let reply = register(&http, &server, "Peggy", id, &key).await;
        refused(
            &reply,
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "larger than the server accepts",
        );
    }

    // Nothing was written: no Peggy, and the drawn modulus is still free…
    assert!(list(&http, &server).await.is_empty());
    assert!(server.state.store.peggys().await.unwrap().is_empty());
    assert!(
        !server
            .state
            .store
            .modulus(id)
            .await
            .unwrap()
            .unwrap()
            .registered
    );
    // …so the good key still registers, once.
    let (status, body) = register(&http, &server, "Peggy", id, &good.to_string()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let second = register(&http, &server, "Peggy", id, &good.to_string()).await;
    refused(
        &second,
        StatusCode::CONFLICT,
        "conflict",
        "already registered",
    );
    assert_eq!(list(&http, &server).await.len(), 1);
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_registrations_of_one_modulus_have_one_winner() {
    let server = start(None).await;
    let http = client_from(2);
    let (id, n) = draw(&http, &server).await;
    let keys: Vec<String> = (0..4).map(|_| public_key(&n).to_string()).collect();
    let replies = futures::future::join_all(keys.iter().enumerate().map(|(j, key)| {
        let http = http.clone();
        let server = &server;
        async move { register(&http, server, &format!("P{j}"), id, key).await }
    }))
    .await;
    let won = replies.iter().filter(|r| r.0 == StatusCode::OK).count();
    assert_eq!(won, 1, "{replies:?}");
    for reply in replies.iter().filter(|r| r.0 != StatusCode::OK) {
        refused(
            reply,
            StatusCode::CONFLICT,
            "conflict",
            "already registered",
        );
    }
    assert_eq!(list(&http, &server).await.len(), 1);
    server.stop().await.unwrap();
}

/// The readable demo mode: `demo=hac` issues the Handbook's n = 553913 to as many Peggys as ask,
/// each on its own id, and they register with the book's key; `demo=64` is a fresh 64-bit Blum
/// integer; anything else is refused before anything is issued.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_moduli_are_issued_on_request_and_bad_sizes_refused() {
    let server = start(None).await;
    let http = client_from(2);
    let mut ids = Vec::new();
    for name in ["Ann", "Bob"] {
        let (status, body) = call(&http, &server, "draw_modulus", &[("demo", "hac")]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            (body["n"].as_str(), body["bits"].as_u64()),
            (Some("873b9"), Some(20))
        );
        let id = body["modulus_id"].as_i64().unwrap();
        let key =
            serde_json::to_string(SecretKey::handbook_example().unwrap().public_key()).unwrap();
        let (status, body) = register(&http, &server, name, id, &key).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            (body["bits"].as_u64(), body["k"].as_u64()),
            (Some(20), Some(3))
        );
        ids.push(id);
    }
    assert_ne!(ids[0], ids[1]);
    let listed: Vec<(String, u64)> = list(&http, &server)
        .await
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["bits"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(listed, [("Ann".to_owned(), 20), ("Bob".to_owned(), 20)]);

    let (status, body) = call(&http, &server, "draw_modulus", &[("demo", "64")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["bits"], 64);
    let n = wire::decode(body["n"].as_str().unwrap(), 64).unwrap();
    assert_eq!(n.bits(), 64);
    BlumModulus::from_stored(&n).unwrap();

    // (An empty `demo=` reads as no demo: the pool.)
    for bad in ["17", "14", "66", "258", "4096", "abc", "-64"] {
        let reply = call(&http, &server, "draw_modulus", &[("demo", bad)]).await;
        refused(
            &reply,
            StatusCode::BAD_REQUEST,
            "bad_request",
            "a demo modulus is \"hac\" or an even number of bits from 16 to 64",
        );
    }
    // The pool is untouched by demo draws: a plain draw still gets a pool-sized modulus.
    draw(&http, &server).await;
}

//! Timing entry points for the FFS core in the browser (`scripts/bench-browser-ffs`).
//!
//! The benchmark page script imports these from `/pkg/zkrelay.js` after hydration and runs the
//! same operations in JS `BigInt` on the same modulus. Each operation is timed inside WASM with
//! `performance.now()` over batches, so the JS ↔ WASM boundary is crossed once per measurement,
//! not once per operation.

use super::now_ms;
use crate::protocol::ffs::{
    BlumModulus, Challenge, Commitment, Error, MAX_BITS, Prover, PublicKey, Response, SecretKey,
    Verifier, wire,
};
use crate::rng::os_rng;
use std::cell::RefCell;
use wasm_bindgen::prelude::*;

/// Operations timed per batch (inputs for a batch are prepared outside the timed span).
const BATCH: usize = 32;

fn js_error(e: impl core::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

/// Mean milliseconds per call of `op` over batches of [`BATCH`], until at least `min_ms` were
/// timed. `prepare` makes one batch's inputs (untimed); `op` consumes one input and reports
/// whether an honest operation failed (which fails the benchmark).
fn time<T>(
    min_ms: f64,
    mut prepare: impl FnMut() -> Result<T, Error>,
    mut op: impl FnMut(T) -> Result<(), Error>,
) -> Result<f64, JsError> {
    let (mut spent, mut count) = (0.0, 0usize);
    while spent < min_ms || count == 0 {
        let inputs = (0..BATCH)
            .map(|_| prepare())
            .collect::<Result<Vec<T>, _>>()
            .map_err(js_error)?;
        let start = now_ms();
        let done: Result<(), Error> = inputs.into_iter().try_for_each(&mut op);
        spent += now_ms() - start;
        done.map_err(js_error)?;
        count += BATCH;
    }
    Ok(spent / count as f64)
}

/// Times keygen, commit, respond, verify (receipt of x included) and whole rounds (commit,
/// challenge, respond, verify) for the modulus `n_hex` (canonical hex) and `k` secrets, each
/// for at least `min_ms`. Returns JSON: mean milliseconds per operation, plus one public key
/// (`n`, `i`) and one honest round (`x`, `e`, `y`) for the page's JS verifier to check.
#[wasm_bindgen(js_name = ffsBench)]
pub fn ffs_bench(n_hex: &str, k: usize, min_ms: f64) -> Result<String, JsError> {
    let n = wire::decode(n_hex, MAX_BITS).map_err(js_error)?;
    let modulus = BlumModulus::from_stored(&n).map_err(js_error)?;
    let rng = RefCell::new(os_rng());
    let rng = || rng.borrow_mut();
    let key = SecretKey::generate(&mut *rng(), &modulus, k).map_err(js_error)?;
    let keygen = time(
        min_ms,
        || Ok(()),
        |()| SecretKey::generate(&mut *rng(), &modulus, k).map(drop),
    )?;
    let prover = Prover::new(&key);
    let verifier = Verifier::new(key.public_key().clone());
    let commit = time(
        min_ms,
        || Ok(()),
        |()| {
            prover.commit(&mut *rng());
            Ok(())
        },
    )?;
    let respond = time(
        min_ms,
        || {
            let (round, _) = prover.commit(&mut *rng());
            Ok((round, Challenge::random(&mut *rng(), k)?))
        },
        |(round, e)| round.respond(&e).map(drop),
    )?;
    let honest = || {
        let (round, x) = prover.commit(&mut *rng());
        let e = Challenge::random(&mut *rng(), k)?;
        let y = round.respond(&e)?;
        Ok((x, e, y))
    };
    let verify = time(min_ms, &honest, |(x, e, y)| {
        verifier.receive(&x)?.challenge_with(e)?.verify(&y)
    })?;
    let round = time(
        min_ms,
        || Ok(()),
        |()| {
            let (pending, x) = prover.commit(&mut *rng());
            let (victor, e) = verifier.receive(&x)?.challenge(&mut *rng());
            victor.verify(&pending.respond(&e)?)
        },
    )?;
    let (x, e, y) = honest().map_err(js_error)?;
    let bits: String = e
        .bits()
        .iter()
        .map(|&b| if b { '1' } else { '0' })
        .collect();
    let ids: Vec<String> = key
        .public_key()
        .identifiers()
        .iter()
        .map(|i| format!("\"{}\"", wire::encode(i)))
        .collect();
    Ok(format!(
        r#"{{"keygen":{keygen},"commit":{commit},"respond":{respond},"verify":{verify},"round":{round},"n":"{n_hex}","i":[{}],"x":"{}","e":"{bits}","y":"{}"}}"#,
        ids.join(","),
        wire::encode(x.x()),
        wire::encode(y.y()),
    ))
}

/// Checks one round made elsewhere (the page's JS prover): modulus `n_hex`, identifiers
/// `ids` (comma-separated), `x` and `y` in canonical hex, `e` a string of `0`/`1`. True iff
/// Victor accepts.
#[wasm_bindgen(js_name = ffsBenchCheck)]
pub fn ffs_bench_check(n_hex: &str, ids: &str, x: &str, e: &str, y: &str) -> Result<bool, JsError> {
    let n = wire::decode(n_hex, MAX_BITS).map_err(js_error)?;
    let bits = n.bits();
    let ids = ids
        .split(',')
        .map(|i| wire::decode(i, bits))
        .collect::<Result<Vec<_>, _>>()
        .map_err(js_error)?;
    let key = PublicKey::from_parts(&n, &ids).map_err(js_error)?;
    let x = wire::decode(x, bits).map_err(js_error)?;
    let y = wire::decode(y, bits).map_err(js_error)?;
    let e = Challenge::from_bits(e.bytes().map(|c| c == b'1').collect()).map_err(js_error)?;
    let verdict = Verifier::new(key)
        .receive(&Commitment::new(x))
        .and_then(|round| round.challenge_with(e))
        .and_then(|round| round.verify(&Response::new(y)));
    Ok(verdict.is_ok())
}

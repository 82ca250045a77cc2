//! Relay cryptography: sealing and opening 64 KiB frames, and one SPAKE2 exchange with key
//! confirmation. `cargo bench --bench relay_crypto`.

#![allow(clippy::expect_used)] // a benchmark of valid inputs may expect them to be valid

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rand::rngs::OsRng;
use std::hint::black_box;
use zkrelay::protocol::relay::{
    Code, FrameReader, MAX_FRAME_PLAINTEXT, Opener, RecipientPake, Sealer, SenderPake,
};

fn frames(c: &mut Criterion) {
    let key = [9u8; 32];
    let plaintext = vec![0x5au8; MAX_FRAME_PLAINTEXT];
    let mut group = c.benchmark_group("frame_64k_aes256gcm");
    group.throughput(Throughput::Bytes(MAX_FRAME_PLAINTEXT as u64));
    let mut sealer = Sealer::new(&key);
    let mut out = Vec::with_capacity(MAX_FRAME_PLAINTEXT + 32);
    group.bench_function("seal", |b| {
        b.iter(|| {
            out.clear();
            sealer
                .seal_into(black_box(&plaintext), false, &mut out)
                .expect("seal");
        })
    });
    group.bench_function("seal_and_open", |b| {
        b.iter_batched(
            || (Sealer::new(&key), Opener::new(&key), FrameReader::new()),
            |(mut s, mut o, mut reader)| {
                reader.push(&s.seal(&plaintext, true).expect("seal"));
                let mut frame = reader.next_frame().expect("frame").expect("whole");
                o.open_in_place(&mut frame).expect("open");
                frame.body
            },
            criterion::BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn pake(c: &mut Criterion) {
    let code = Code::generate(&mut OsRng);
    c.bench_function("spake2_exchange_and_confirm", |b| {
        b.iter(|| {
            let (a, x) = SenderPake::start(OsRng, &code);
            let (r, y) = RecipientPake::start(OsRng, &code);
            let ka = a.finish(&y).expect("finish a");
            let kb = r.finish(&x).expect("finish b");
            ka.confirm_hh_k(&kb.hh_k()).expect("confirm");
            kb.confirm_h_k(&ka.h_k()).expect("confirm")
        })
    });
}

criterion_group!(benches, frames, pake);
criterion_main!(benches);

use super::*;
use crate::protocol::ffs::{self, BlumModulus, BoxedUint, PublicKey, SecretKey, wire};
use rand_chacha::{ChaCha20Rng, rand_core::SeedableRng};

const BITS: u32 = 256;

fn number(v: u64) -> WireNumber {
    WireNumber::new(BoxedUint::from(v))
}

fn bits(text: &str) -> ChallengeBits {
    ChallengeBits::parse(text).unwrap()
}

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

fn key(rng: &mut ChaCha20Rng, k: usize) -> SecretKey {
    let n = BlumModulus::generate_demo(rng, BITS).unwrap();
    SecretKey::generate(rng, &n, k).unwrap()
}

/// Sends `message` from `from` through the referee (as the server does) and back out of JSON
/// (as the other side reads it).
fn relay(referee: &mut Referee, from: Party, message: &Message) -> Message {
    let text = message.to_json();
    referee.check(from, &text).unwrap();
    Message::parse(&text, usize::MAX).unwrap()
}

struct Transcript {
    peggy: Vec<PeggyEvent>,
    victor: Vec<VictorEvent>,
    referee_done: bool,
}

/// Runs Peggy (proving with `prover_key`) against Victor (checking `public`) through a referee;
/// `manual` picks the bits of round i, else Victor draws them.
fn run(
    prover_key: &SecretKey,
    public: &PublicKey,
    rounds: u32,
    manual: Option<&dyn Fn(u32, usize) -> Vec<bool>>,
) -> Transcript {
    run_with(PeggyRun::new(prover_key), public, rounds, manual, 7)
}

/// [`run`] with any Peggy and the run's RNG seed.
fn run_with(
    mut peggy: PeggyRun,
    public: &PublicKey,
    rounds: u32,
    manual: Option<&dyn Fn(u32, usize) -> Vec<bool>>,
    seed: u64,
) -> Transcript {
    let mut rng = rng(seed);
    let mut referee = Referee::new(public);
    let (mut victor, start) = VictorRun::new(public.clone(), rounds).unwrap();
    let mut peggy_events = Vec::new();
    let mut victor_events = Vec::new();
    let mut to_peggy = vec![relay(&mut referee, Party::Victor, &start)];
    while !to_peggy.is_empty() {
        let mut to_victor = Vec::new();
        for message in to_peggy.drain(..) {
            let step = peggy.handle(&mut rng, message).unwrap();
            peggy_events.extend(step.events);
            for m in step.send {
                to_victor.push(relay(&mut referee, Party::Peggy, &m));
            }
        }
        for message in to_victor {
            let step = victor.handle(message).unwrap();
            victor_events.extend(step.events);
            for m in step.send {
                to_peggy.push(relay(&mut referee, Party::Victor, &m));
            }
            if victor.awaiting_challenge() {
                let (event, m) = match manual {
                    Some(pick) => victor
                        .challenge_with(pick(victor.round(), victor.k()))
                        .unwrap(),
                    None => victor.challenge(&mut rng).unwrap(),
                };
                victor_events.push(event);
                to_peggy.push(relay(&mut referee, Party::Victor, &m));
            }
        }
    }
    Transcript {
        peggy: peggy_events,
        victor: victor_events,
        referee_done: referee.is_done(),
    }
}

fn verdict_of(t: &Transcript) -> ffs::Verdict {
    match t.victor.last() {
        Some(VictorEvent::Finished(v)) => *v,
        other => panic!("no verdict: {other:?}"),
    }
}

/// A referee after `start` and round 1's commitment x1 = 4 (k = 5).
fn referee_in_round_one(public: &PublicKey) -> Referee {
    let mut referee = Referee::new(public);
    referee
        .check(Party::Victor, r#"{"type":"start","rounds":2}"#)
        .unwrap();
    referee
        .check(Party::Peggy, r#"{"type":"commit","round":1,"x":"4"}"#)
        .unwrap();
    referee
}

mod peggy;
mod referee;
mod runs;
mod typed;

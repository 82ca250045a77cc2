//! Victor's many-runs mode, in this page: an honest Peggy and a Peggy without the secret each
//! run `runs` whole identifications against a fresh Victor (all three in WASM, the same pure core
//! as real runs), on one Blum modulus drawn from the server. The chart is updated about a
//! hundred times over the batch, with a pause for the page to draw between updates.

use super::sleep_ms;
use crate::{
    api,
    components::soundness_chart::ChartData,
    protocol::{
        ffs::{self, BlumModulus, SecretKey, wire},
        identify::soundness::{Contender, MAX_RUNS},
    },
    rng::os_rng,
};

/// Updates of the chart over one batch.
const UPDATES: u32 = 100;

/// Runs the batch, calling `on` with the chart's data after every slice of runs. Stops early
/// (keeping what was counted) when `on` returns `false`.
pub async fn run(
    runs: u32,
    k: usize,
    rounds: u32,
    mut on: impl FnMut(&ChartData) -> bool,
) -> Result<ChartData, String> {
    if !(1..=MAX_RUNS).contains(&runs) {
        return Err(format!("runs must be 1 to {MAX_RUNS}"));
    }
    if !(1..=ffs::MAX_ROUNDS).contains(&rounds) {
        return Err(format!("rounds must be 1 to {}", ffs::MAX_ROUNDS));
    }
    let drawn = api::draw_modulus(None).await.map_err(|e| e.message)?;
    let n = wire::decode(&drawn.n, ffs::MAX_BITS)
        .map_err(|e| format!("the server's modulus is unusable: {e}"))?;
    let modulus = BlumModulus::from_stored(&n)
        .map_err(|e| format!("the server's modulus is unusable: {e}"))?;
    let mut rng = os_rng();
    let key = SecretKey::generate(&mut rng, &modulus, k).map_err(|e| e.to_string())?;
    let public = key.public_key().clone();
    let honest = Contender::honest(&key);
    let cheater = Contender::cheating(public.clone());
    let mut data = ChartData::new(runs, k, rounds);
    data.mark();
    let slice = runs.div_ceil(UPDATES);
    while data.cheater.runs() < runs {
        for _ in 0..slice.min(runs - data.cheater.runs()) {
            let outcome =
                |c: &Contender, rng: &mut _| c.run(rng, &public, rounds).map_err(|e| e.to_string());
            data.honest.record(outcome(&honest, &mut rng)?);
            data.cheater.record(outcome(&cheater, &mut rng)?);
        }
        data.mark();
        if !on(&data) {
            break;
        }
        sleep_ms(0).await;
    }
    Ok(data)
}

//! Identify on the server: drawing moduli, registering Peggys, listing them, and pairing a Victor
//! with a Peggy over two WebSockets.
//!
//! A Peggy draws a modulus from the Blum pool, builds her key in the browser and registers the
//! public half. Registration checks everything — the name, the key (through the FFS core), that the
//! key's n is the modulus issued under that id and that no other Peggy holds it — before the one
//! insert, which repeats the modulus conditions atomically so concurrent registrations cannot both
//! win. It answers with her public id and her seat secret ([`secret`]; only its digest is kept).
//! Draws and registrations are rate-limited per client address, and an empty pool generates on
//! demand only as far as `[blum] on_demand_generators` allows.
//!
//! Then Peggy connects `/ws/identify/peggy?peggy_id=…&secret=…` and waits; Victors connect
//! `/ws/identify/victor?peggy_id=…` one at a time ([`run`]). Peggy's rows (and her modulus) are
//! deleted when her run finishes or her own socket ends; a Victor who leaves frees only his seat.
//! Peggys that never connect, and moduli drawn but never registered, are swept after the channel
//! TTL; everything of a previous run goes at start-up ([`sweep_at_start`]).

mod run;
mod secret;

pub use run::{IdentifyChannels, IdentifyRun, routes};

use super::{
    AppState, Store,
    store::{InsertPeggy, NewPeggy, StoreError},
};
use crate::api::{
    ApiError, ErrorCode,
    identify::{
        DemoModulus, DrawnModulus, MAX_LISTED, PeggySummary, Registered, check_name,
        check_public_key,
    },
};
use crate::protocol::ffs::{BlumModulus, wire};
use std::{net::IpAddr, time::Duration};

/// Takes a fresh modulus from the pool for the client at `ip`, or issues the demo modulus
/// `demo` asks for (rate-limited alike).
pub async fn draw_modulus(
    state: &AppState,
    ip: IpAddr,
    demo: Option<DemoModulus>,
) -> Result<DrawnModulus, ApiError> {
    state.limits.draws.admit(ip).await?;
    if let Some(demo) = demo {
        return issue_demo_modulus(state, demo).await;
    }
    let drawn = state.blum_pool.draw().await?.ok_or_else(|| {
        ApiError::new(
            ErrorCode::Unavailable,
            "no modulus is ready; try again in a few seconds",
        )
    })?;
    tracing::info!(modulus_id = drawn.id, "identify: modulus drawn");
    Ok(DrawnModulus {
        modulus_id: drawn.id,
        n: drawn.n_hex,
        bits: state.blum_pool.bits(),
    })
}

/// Issues a demo modulus as its own row, so it is registered, listed and erased like any other.
/// A fresh one of ≤ 64 bits takes well under a millisecond; the draw limit bounds the rate.
async fn issue_demo_modulus(state: &AppState, demo: DemoModulus) -> Result<DrawnModulus, ApiError> {
    let modulus = match demo {
        DemoModulus::Handbook => BlumModulus::handbook_example(),
        DemoModulus::Bits(bits) => BlumModulus::generate_demo(&mut crate::rng::os_rng(), bits),
    }
    .map_err(|e| {
        tracing::error!(error = %e, %demo, "identify: cannot make a demo modulus");
        ApiError::internal()
    })?;
    let bits = modulus.bits();
    let issued = state
        .store
        .issue_new_modulus(&wire::encode(modulus.n()), bits)
        .await?;
    tracing::info!(modulus_id = issued.id, %demo, "identify: demo modulus issued");
    Ok(DrawnModulus {
        modulus_id: issued.id,
        n: issued.n_hex,
        bits,
    })
}

/// Validates and stores a registration from the client at `ip` (rate-limited, every attempt
/// counts); nothing is written unless every check passes.
pub async fn register_peggy(
    state: &AppState,
    ip: IpAddr,
    name: &str,
    modulus_id: i64,
    public_key: &str,
) -> Result<Registered, ApiError> {
    state.limits.registrations.admit(ip).await?;
    let name = check_name(name)?;
    let checked = check_public_key(public_key)?;
    let store = &state.store;
    let modulus = store
        .modulus(modulus_id)
        .await?
        .filter(|m| m.issued)
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::NotFound,
                format!("this server issued no modulus with id {modulus_id}; draw one first"),
            )
        })?;
    if modulus.n_hex != checked.n_hex {
        return Err(ApiError::invalid(format!(
            "the public key's n is not the modulus this server issued with id {modulus_id}"
        )));
    }
    if modulus.registered {
        return Err(already_registered());
    }
    let k = u32::try_from(checked.key.k()).map_err(|_| ApiError::internal())?;
    let (peggy_secret, secret_sha256) = secret::generate();
    let inserted = store
        .insert_peggy(&NewPeggy {
            name: &name,
            modulus_id,
            n_hex: &checked.n_hex,
            k,
            public_key: &checked.json,
            secret_sha256: &secret_sha256,
        })
        .await?;
    match inserted {
        InsertPeggy::Inserted(peggy_id) => {
            tracing::info!(%peggy_id, modulus_id, k, "identify: Peggy registered");
            Ok(Registered {
                peggy_id,
                peggy_secret,
                name,
                bits: modulus.bits,
                k,
            })
        }
        // Lost a race with another registration (or a clean-up) since the checks above.
        InsertPeggy::ModulusTaken => Err(already_registered()),
        InsertPeggy::NoSuchModulus => Err(ApiError::new(
            ErrorCode::NotFound,
            format!("the modulus with id {modulus_id} is gone; draw a new one"),
        )),
    }
}

fn already_registered() -> ApiError {
    ApiError::new(
        ErrorCode::Conflict,
        "a Peggy is already registered with this modulus; draw a new one",
    )
}

/// The registered Peggys, as Victors see them: at most [`MAX_LISTED`], oldest first, only
/// those named `name` if given.
pub async fn list_peggys(
    state: &AppState,
    name: Option<&str>,
) -> Result<Vec<PeggySummary>, ApiError> {
    let name = match name {
        Some(name) => Some(check_name(name)?),
        None => None,
    };
    Ok(state
        .store
        .peggys_listed(name.as_deref(), MAX_LISTED)
        .await?
        .into_iter()
        .map(|p| PeggySummary {
            peggy_id: p.id,
            name: p.name,
            bits: p.bits,
            k: p.k,
            busy: p.busy,
        })
        .collect())
}

/// The list of Peggys fetched for a request to `/victor`, so the page renders with it.
#[derive(Clone, Debug)]
pub struct PrefetchedList(pub Vec<PeggySummary>);

/// Middleware: a `GET /victor` first fetches the Peggy list (rendering is synchronous; the page
/// reads it back with [`prefetched_list`]). A failure only leaves the page to load it itself.
pub async fn prefetch_list(
    axum::extract::State(state): axum::extract::State<AppState>,
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if request.method() == axum::http::Method::GET
        && request.uri().path() == "/victor"
        && let Ok(list) = list_peggys(&state, None).await
    {
        request.extensions_mut().insert(PrefetchedList(list));
    }
    next.run(request).await
}

/// The list [`prefetch_list`] fetched for the request being rendered, if any.
pub fn prefetched_list() -> Option<Vec<PeggySummary>> {
    let parts = leptos::prelude::use_context::<axum::http::request::Parts>()?;
    parts
        .extensions
        .get::<PrefetchedList>()
        .map(|l| l.0.clone())
}

/// Removes every Peggy (and issued modulus) left by a previous run: none of its connections
/// survived, so none of them can be identified any more.
pub async fn sweep_at_start(store: &Store) -> Result<(), StoreError> {
    let (peggys, moduli) = store.sweep_identities().await?;
    if peggys > 0 || moduli > 0 {
        tracing::info!(
            peggys,
            moduli,
            "identify: removed Peggys and issued moduli left from the previous run"
        );
    }
    Ok(())
}

// ------------------------------------------------------------------ clean-up

/// Every `period`, deletes Peggys registered longer than `ttl` ago that never connected, and
/// moduli drawn longer than `ttl` ago that nobody registered.
pub fn spawn_janitor(
    state: AppState,
    ttl: Duration,
    period: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = sweep_stale(&state, ttl).await {
                tracing::error!(error = %e, "identify: clean-up failed");
            }
        }
    })
}

/// One pass of [`spawn_janitor`]; returns (Peggys, moduli) deleted.
pub async fn sweep_stale(state: &AppState, ttl: Duration) -> Result<(u64, u64), StoreError> {
    let cutoff =
        super::store::unix_now().saturating_sub(i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX));
    let mut peggys = 0;
    for peggy in state.store.peggys().await? {
        if peggy.created_at < cutoff
            && state.identify.watch(&peggy.id).is_none()
            && state.store.delete_peggy(&peggy.id).await?
        {
            peggys += 1;
        }
    }
    let moduli = state.store.delete_unregistered_moduli(cutoff).await?;
    if peggys > 0 || moduli > 0 {
        tracing::info!(
            peggys,
            moduli,
            "identify: removed stale Peggys and drawn moduli"
        );
    }
    Ok((peggys, moduli))
}

//! The operating system's CSPRNG, for the callers of the pure protocol code (server, CLI, browser).
//!
//! `src/protocol/` never reaches for randomness itself; whoever drives it passes one of these in.
//! In the browser getrandom uses `crypto.getRandomValues`.

use crate::protocol::ffs::rand_core::{CryptoRng, UnwrapErr};

/// The OS random number generator. Panics only if the OS cannot supply randomness at all, in which
/// case nothing cryptographic can go on safely.
pub fn os_rng() -> impl CryptoRng {
    UnwrapErr(getrandom_04::SysRng)
}

//! The operating system's CSPRNG, for the callers of the pure protocol code (server, CLI, browser).
//!
//! `src/protocol/` never reaches for randomness itself; whoever drives it passes one of these in.
//! In the browser getrandom uses `crypto.getRandomValues`.

use crate::protocol::{
    ffs::rand_core::{CryptoRng, Rng, UnwrapErr},
    hex,
};

/// The OS random number generator. Panics only if the OS cannot supply randomness at all, in which
/// case nothing cryptographic can go on safely.
pub fn os_rng() -> impl CryptoRng {
    UnwrapErr(getrandom_04::SysRng)
}

/// `bytes` random bytes from the OS CSPRNG, as lowercase hex (ids, uuids, seat secrets).
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    os_rng().fill_bytes(&mut buf);
    hex::encode(&buf)
}

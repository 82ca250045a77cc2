//! The protocols, pure: no I/O, no clock, no global RNG (a `CryptoRng` is passed in).
//!
//! Everything here compiles for native and wasm32, so the browser, the server's tests, the CLI and
//! the benchmarks all run the same code.

// What a peer sent is never indexed blindly: a bad length is an error, not a panic (arith.rs,
// whose limb loops run over lengths it fixed itself, opts out).
#![cfg_attr(not(test), warn(clippy::indexing_slicing))]

pub mod ffs;
pub mod hex;
pub mod identify;
pub mod ping;
pub mod relay;
pub mod text;

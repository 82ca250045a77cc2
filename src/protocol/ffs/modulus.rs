//! Blum moduli: n = p · q with p ≡ q ≡ 3 (mod 4), |p| = |q| = |n|/2 and n of exactly |n| bits.
//!
//! The primes come from crypto-primes' sieve and its Miller–Rabin (base 2) plus strong Lucas
//! (BPSW'21) test; the only addition here is a cheap `≡ 3 (mod 4)` filter on each sieved
//! candidate before it is tested, so Blum primes cost what any prime costs. Both top bits of p
//! and q are set, which makes p · q exactly |n| bits. p and q are zeroized as soon as n is
//! formed; a [`BlumModulus`] never holds them. The server keeps a pool of these; a stored n is
//! reloaded with [`BlumModulus::from_stored`].

use super::{Error, arith::Modulus};
use crypto_bigint::rand_core::CryptoRng;
use crypto_bigint::{BoxedUint, ConcatenatingMul};
use crypto_primes::{
    Flavor,
    hazmat::{SetBits, SmallFactorsSieveFactory},
    is_prime, sieve_and_find,
};
use std::sync::Arc;
use zeroize::Zeroize;

/// Smallest |n| outside demo mode.
pub const MIN_BITS: u32 = 1024;
/// Largest |n| accepted anywhere (also the bound on any big number before |n| is known).
pub const MAX_BITS: u32 = 4096;
/// Default |n|.
pub const DEFAULT_BITS: u32 = 2048;
/// Smallest |n| in demo mode (the Handbook's example modulus has 20 bits).
pub const DEMO_MIN_BITS: u32 = 16;
/// The modulus of the Handbook of Applied Cryptography's Example 10.27: 683 · 811.
pub const HANDBOOK_N: u64 = 553_913;

/// A Blum integer n, ready for Montgomery arithmetic. Cheap to clone (shared).
#[derive(Clone, Debug)]
pub struct BlumModulus {
    /// Shared so keys, provers and verifier rounds built on one n reuse its constants.
    pub(super) modulus: Arc<Modulus>,
}

impl BlumModulus {
    /// Generates a Blum modulus of `bits` bits, `bits` even and in 1024..=4096.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R, bits: u32) -> Result<Self, Error> {
        if !(MIN_BITS..=MAX_BITS).contains(&bits) {
            return Err(Error::ModulusSize);
        }
        Self::generate_any_size(rng, bits)
    }

    /// Generates a **demo-sized** Blum modulus (even `bits` in 16..=4096). Anything under 1024
    /// bits is trivially factored; the UI must say so wherever such a modulus is shown.
    pub fn generate_demo<R: CryptoRng + ?Sized>(rng: &mut R, bits: u32) -> Result<Self, Error> {
        if !(DEMO_MIN_BITS..=MAX_BITS).contains(&bits) {
            return Err(Error::ModulusSize);
        }
        Self::generate_any_size(rng, bits)
    }

    /// n = 553913 = 683 · 811, the Handbook of Applied Cryptography's Example 10.27 (20 bits:
    /// for teaching only).
    pub fn handbook_example() -> Result<Self, Error> {
        Self::from_stored(&BoxedUint::from(HANDBOOK_N))
    }

    /// Rebuilds a modulus that this module generated earlier (for example one the server's pool
    /// persisted). Only the size and oddness can be checked: the Blum property needs p and q.
    pub fn from_stored(n: &BoxedUint) -> Result<Self, Error> {
        if !(DEMO_MIN_BITS..=MAX_BITS).contains(&n.bits()) {
            return Err(Error::ModulusSize);
        }
        Ok(Self {
            modulus: Arc::new(Modulus::new(n)?),
        })
    }

    /// n itself.
    pub fn n(&self) -> &BoxedUint {
        self.modulus.value()
    }

    /// |n| in bits.
    pub fn bits(&self) -> u32 {
        self.modulus.bits()
    }

    /// Checks 0 < v < n (zero, values longer than |n| and values ≥ n are typed errors) without
    /// the coprimality test, which costs a gcd.
    pub fn check_range(&self, v: &BoxedUint) -> Result<(), Error> {
        self.modulus.residue(v).map(|_| ())
    }

    /// Checks that v is a unit in [1, n − 1] (range and gcd).
    pub fn check_unit(&self, v: &BoxedUint) -> Result<(), Error> {
        self.modulus.plain_unit(v).map(|_| ())
    }

    /// Whether |n| is below the 1024-bit floor (demo mode).
    pub fn is_demo(&self) -> bool {
        self.bits() < MIN_BITS
    }

    /// Builds n from known factors (tests with published tables only).
    #[cfg(test)]
    pub(super) fn from_factors(p: u64, q: u64) -> Self {
        assert!(p % 4 == 3 && q % 4 == 3 && p != q, "not Blum factors");
        let n = BoxedUint::from(p).concatenating_mul(&BoxedUint::from(q));
        Self {
            modulus: Arc::new(Modulus::new(&n).expect("odd")),
        }
    }

    fn generate_any_size<R: CryptoRng + ?Sized>(rng: &mut R, bits: u32) -> Result<Self, Error> {
        if !bits.is_multiple_of(2) {
            return Err(Error::ModulusSize);
        }
        let half = bits / 2;
        loop {
            let mut p = blum_prime(rng, half)?;
            let mut q = blum_prime(rng, half)?;
            let distinct = p != q;
            let mut n = p.concatenating_mul(&q);
            p.zeroize();
            q.zeroize();
            if distinct && n.bits() == bits {
                let modulus = Modulus::new(&n);
                n.zeroize();
                return Ok(Self {
                    modulus: Arc::new(modulus?),
                });
            }
        }
    }
}

/// A random prime p ≡ 3 (mod 4) of exactly `bits` bits with its two top bits set.
pub(super) fn blum_prime<R: CryptoRng + ?Sized>(
    rng: &mut R,
    bits: u32,
) -> Result<BoxedUint, Error> {
    let factory = SmallFactorsSieveFactory::<BoxedUint>::new(Flavor::Any, bits, SetBits::TwoMsb)
        .map_err(|_| Error::ModulusSize)?;
    let found = sieve_and_find(rng, factory, |_, candidate: &BoxedUint| {
        candidate.as_words().first().is_some_and(|w| w & 3 == 3) && is_prime(Flavor::Any, candidate)
    });
    match found {
        Ok(Some(p)) => Ok(p),
        _ => Err(Error::ModulusSize),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::{ChaCha20Rng, rand_core::SeedableRng};

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn generated_moduli_have_exact_size_and_blum_factors() {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        for bits in [16, 20, 64, 256] {
            let m = BlumModulus::generate_demo(&mut rng, bits).unwrap();
            assert_eq!(m.bits(), bits);
            assert_eq!(m.n().as_words()[0] & 3, 1, "p·q ≡ 3·3 ≡ 1 (mod 4)");
            assert!(m.is_demo());
        }
        let p = blum_prime(&mut rng, 128).unwrap();
        assert_eq!((p.bits(), p.as_words()[0] & 3), (128, 3));
        assert!(is_prime(Flavor::Any, &p));
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn sizes_outside_the_allowed_range_are_refused() {
        let mut rng = ChaCha20Rng::seed_from_u64(8);
        assert_eq!(
            BlumModulus::generate(&mut rng, 512).unwrap_err(),
            Error::ModulusSize
        );
        assert_eq!(
            BlumModulus::generate(&mut rng, 4098).unwrap_err(),
            Error::ModulusSize
        );
        assert_eq!(
            BlumModulus::generate_demo(&mut rng, 8).unwrap_err(),
            Error::ModulusSize
        );
        assert_eq!(
            BlumModulus::generate_demo(&mut rng, 33).unwrap_err(),
            Error::ModulusSize
        );
        assert_eq!(
            BlumModulus::from_stored(&BoxedUint::from(553_914u64)).unwrap_err(),
            Error::ModulusEven
        );
    }
}

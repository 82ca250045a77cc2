//! FFS keys: k secrets s_j with public identifiers I_j = (−1)^{b_j} · (s_j²)⁻¹ mod n.
//!
//! Key generation draws s_j uniformly from [1, n − 1], squares them and inverts all k squares
//! with **one** modular inversion (Montgomery's trick); if that inversion fails some s_j shared
//! a factor with n and the whole draw is repeated, so every s_j is a uniform unit. The sign bits
//! b_j make I_j range over all of Z_n^* with Jacobi symbol +1, as in HAC Protocol 10.26.

use super::{
    BlumModulus, Error,
    arith::{Modulus, Residue},
    wire::PublicKeyWire,
};
use crypto_bigint::BoxedUint;
use crypto_bigint::rand_core::CryptoRng;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use zeroize::Zeroize;

/// Default number of secrets per key.
pub const DEFAULT_K: usize = 20;
/// Largest number of secrets per key.
pub const MAX_K: usize = 64;

/// Peggy's secrets s_j in Montgomery form; zeroized on drop.
pub(super) struct Secrets {
    pub(super) s: Vec<Residue>,
}

impl Drop for Secrets {
    fn drop(&mut self) {
        self.s.zeroize();
    }
}

/// A secret key: the s_j and the public key they determine. Not `Clone`: hand out
/// [`super::Prover`]s, which share the secrets without copying them.
pub struct SecretKey {
    pub(super) secrets: Arc<Secrets>,
    pub(super) public: PublicKey,
}

/// A public key (n, I_1 … I_k). Cheap to clone. Its serde form is the wire form
/// `{"n", "k", "i"}`; deserializing validates every field (see [`PublicKey::from_parts`]).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(try_from = "PublicKeyWire", into = "PublicKeyWire")]
pub struct PublicKey {
    pub(super) modulus: BlumModulus,
    /// I_j in Montgomery form, ready for the verifier's products.
    pub(super) identifiers: Arc<[Residue]>,
}

impl SecretKey {
    /// Generates k secrets for the given modulus (k in 1..=64, default [`DEFAULT_K`]).
    pub fn generate<R: CryptoRng + ?Sized>(
        rng: &mut R,
        modulus: &BlumModulus,
        k: usize,
    ) -> Result<Self, Error> {
        if !(1..=MAX_K).contains(&k) {
            return Err(Error::KeyCount);
        }
        let m = &*modulus.modulus;
        loop {
            let s: Vec<Residue> = (0..k).map(|_| m.random(rng)).collect();
            let mut signs = vec![0u8; k];
            rng.fill_bytes(&mut signs);
            let negative: Vec<bool> = signs.iter().map(|b| b & 1 == 1).collect();
            let mut blind = m.random(rng);
            let key = Self::from_residues(modulus, Secrets { s }, &negative, &blind);
            blind.zeroize();
            if let Some(key) = key {
                return Ok(key);
            }
        }
    }

    /// The key of the Handbook of Applied Cryptography's Example 10.27: n = 683 · 811 = 553913,
    /// s = (157, 43215, 4646), b = (1, 0, 1), so I = (441845, 338402, 124423). Its n has 20 bits
    /// and its secrets are printed in a book: for teaching only, never for identification.
    pub fn handbook_example() -> Result<Self, Error> {
        let modulus = BlumModulus::handbook_example()?;
        let s = [157u64, 43_215, 4_646].map(BoxedUint::from);
        Self::from_secrets(&modulus, &s, &[true, false, true])
    }

    /// Builds a key from given secrets and sign bits (b_j = `true` means I_j carries −1), e.g.
    /// for published test vectors. Each s_j must be a unit modulo n. With no RNG at hand the
    /// one inversion is not blinded (see the `arith` module's security note): prefer
    /// [`SecretKey::generate`] for real keys.
    pub fn from_secrets(
        modulus: &BlumModulus,
        s: &[BoxedUint],
        negative: &[bool],
    ) -> Result<Self, Error> {
        if !(1..=MAX_K).contains(&s.len()) || s.len() != negative.len() {
            return Err(Error::KeyCount);
        }
        let m = &*modulus.modulus;
        let s = s.iter().map(|v| m.unit(v)).collect::<Result<Vec<_>, _>>()?;
        let one = m.residue(&BoxedUint::one())?;
        Self::from_residues(modulus, Secrets { s }, negative, &one).ok_or(Error::NotCoprime)
    }

    /// The public key I_j = (−1)^{b_j} · (s_j²)⁻¹ mod n, with one batched inversion blinded
    /// by `blind` (Montgomery forms throughout).
    fn from_residues(
        modulus: &BlumModulus,
        secrets: Secrets,
        negative: &[bool],
        blind: &Residue,
    ) -> Option<Self> {
        let m: &Modulus = &modulus.modulus;
        let mut squares: Vec<Residue> = secrets.s.iter().map(|s| m.square(s)).collect();
        let inverses = m.batch_invert(&squares, blind);
        squares.zeroize();
        let identifiers: Arc<[Residue]> = inverses?
            .into_iter()
            .zip(negative)
            .map(|(inv, &neg)| m.signed(inv, neg))
            .collect();
        let public = PublicKey {
            modulus: modulus.clone(),
            identifiers,
        };
        Some(Self {
            secrets: Arc::new(secrets),
            public,
        })
    }

    /// The public key to publish.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// The number of secrets k.
    pub fn k(&self) -> usize {
        self.secrets.s.len()
    }

    /// The secrets s_1 … s_k as plain integers, for Peggy's own page to show in demo mode
    /// (the caller owns the copies).
    pub fn secret_values(&self) -> Vec<BoxedUint> {
        let m = &self.public.modulus.modulus;
        self.secrets.s.iter().map(|s| m.value_of(s)).collect()
    }
}

impl core::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SecretKey")
            .field("k", &self.k())
            .finish_non_exhaustive()
    }
}

impl PublicKey {
    /// Validates a received key: n odd with 16..=4096 bits (below 1024 only counts as
    /// [`PublicKey::is_demo`]), 1 ≤ k ≤ 64 identifiers, each in [1, n − 1] and coprime to n.
    pub fn from_parts(n: &BoxedUint, identifiers: &[BoxedUint]) -> Result<Self, Error> {
        let modulus = BlumModulus::from_stored(n)?;
        if !(1..=MAX_K).contains(&identifiers.len()) {
            return Err(Error::KeyCount);
        }
        let m = &*modulus.modulus;
        let identifiers = identifiers
            .iter()
            .map(|v| m.unit(v))
            .collect::<Result<Arc<[_]>, _>>()?;
        Ok(Self {
            modulus,
            identifiers,
        })
    }

    /// The modulus n.
    pub fn modulus(&self) -> &BlumModulus {
        &self.modulus
    }

    /// The number of identifiers k.
    pub fn k(&self) -> usize {
        self.identifiers.len()
    }

    /// Whether |n| is below the 1024-bit floor (demo mode).
    pub fn is_demo(&self) -> bool {
        self.modulus.is_demo()
    }

    /// The identifiers I_j as plain integers.
    pub fn identifiers(&self) -> Vec<BoxedUint> {
        self.identifiers
            .iter()
            .map(|i| self.modulus.modulus.value_of(i))
            .collect()
    }
}

impl TryFrom<PublicKeyWire> for PublicKey {
    type Error = Error;

    fn try_from(wire: PublicKeyWire) -> Result<Self, Error> {
        if usize::from(wire.k) != wire.i.len() {
            return Err(Error::KeyCount);
        }
        Self::from_parts(&wire.n, &wire.i)
    }
}

impl From<PublicKey> for PublicKeyWire {
    fn from(key: PublicKey) -> Self {
        let i = key.identifiers();
        Self {
            n: key.modulus.n().clone(),
            k: i.len() as u8,
            i,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::{ChaCha20Rng, rand_core::SeedableRng};

    fn u(v: u64) -> BoxedUint {
        BoxedUint::from(v)
    }

    /// HAC Example 10.27: n = 683 · 811, s = (157, 43215, 4646), b = (1, 0, 1).
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn handbook_example_identifiers() {
        let modulus = BlumModulus::from_factors(683, 811);
        assert_eq!(modulus.n(), &u(553_913));
        let key = SecretKey::from_secrets(
            &modulus,
            &[u(157), u(43_215), u(4_646)],
            &[true, false, true],
        )
        .unwrap();
        assert_eq!(
            key.public_key().identifiers(),
            vec![u(441_845), u(338_402), u(124_423)]
        );
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn generated_identifiers_satisfy_the_key_equation() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let modulus = BlumModulus::generate_demo(&mut rng, 64).unwrap();
        let key = SecretKey::generate(&mut rng, &modulus, 20).unwrap();
        let m = &*modulus.modulus;
        let one = m.small(1).unwrap();
        for (s, i) in key.secrets.s.iter().zip(key.public.identifiers.iter()) {
            let product = m.mul(&m.square(s), i);
            assert!(
                product == one || product == m.neg(&one),
                "I_j · s_j² must be ±1"
            );
        }
        assert_eq!(
            SecretKey::generate(&mut rng, &modulus, 0).unwrap_err(),
            Error::KeyCount
        );
        assert_eq!(
            SecretKey::generate(&mut rng, &modulus, 65).unwrap_err(),
            Error::KeyCount
        );
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn bad_public_keys_are_typed_errors() {
        let n = "873b9";
        let key = |json: &str| {
            serde_json::from_str::<PublicKey>(json)
                .map(|_| ())
                .map_err(|e| e.to_string())
        };
        assert!(key(&format!(r#"{{"n":"{n}","k":1,"i":["6bdf5"]}}"#)).is_ok());
        let cases = [
            (format!(r#"{{"n":"{n}","k":1,"i":["0"]}}"#), Error::Zero),
            (
                format!(r#"{{"n":"{n}","k":1,"i":["{n}"]}}"#),
                Error::OutOfRange,
            ),
            (
                format!(r#"{{"n":"{n}","k":1,"i":["1000000"]}}"#),
                Error::TooLong,
            ),
            (
                format!(r#"{{"n":"{n}","k":1,"i":["2ab"]}}"#),
                Error::NotCoprime,
            ),
            (
                format!(r#"{{"n":"{n}","k":1,"i":["06bdf5"]}}"#),
                Error::NonCanonical,
            ),
            (
                format!(r#"{{"n":"{n}","k":1,"i":["6BDF5"]}}"#),
                Error::NonCanonical,
            ),
            (
                format!(r#"{{"n":"{n}","k":2,"i":["6bdf5"]}}"#),
                Error::KeyCount,
            ),
            (format!(r#"{{"n":"{n}","k":0,"i":[]}}"#), Error::KeyCount),
            (
                r#"{"n":"873ba","k":1,"i":["1"]}"#.to_owned(),
                Error::ModulusEven,
            ),
            (
                r#"{"n":"fff","k":1,"i":["1"]}"#.to_owned(),
                Error::ModulusSize,
            ),
        ];
        for (json, error) in cases {
            let message = key(&json).unwrap_err();
            assert!(message.starts_with(&error.to_string()), "{json}: {message}");
        }
    }
}

//! Montgomery arithmetic modulo an odd n: the one place where FFS multiplies big numbers.
//!
//! Values live as [`Residue`]s in Montgomery form (a · R mod n, R = 2^(w·s) for s limbs of w
//! bits), so a modular product costs one interleaved multiply-and-reduce pass (CIOS) and no
//! division. Limbs are 64-bit on native targets and 32-bit on wasm32,
//! where 32×32→64 products map onto wasm's native `i64.mul`. Values cross to crypto-bigint
//! (whose word size may differ) as big-endian bytes. The one inversion a key needs
//! and the coprimality checks go to crypto-bigint's safegcd.
//!
//! # Security
//!
//! The multiply, the final conditional subtraction, comparisons and the gcd checks on public
//! values are **not constant-time**: their running time can depend on the operands. The core is
//! an educational identification protocol run between a browser and a relay, not a hardened
//! smart-card implementation; an attacker who can time the prover's arithmetic precisely could
//! learn about r and s_j. The one inversion of secret data uses crypto-bigint's constant-time
//! safegcd.

use super::Error;
use crypto_bigint::rand_core::CryptoRng;
use crypto_bigint::{BoxedUint, Gcd, Odd};
use zeroize::Zeroize;

/// One limb: 64 bits on 64-bit targets, 32 bits elsewhere (wasm32: 32×32→64 is one `i64.mul`).
#[cfg(target_pointer_width = "64")]
pub(super) type Limb = u64;
#[cfg(target_pointer_width = "64")]
type Wide = u128;
#[cfg(not(target_pointer_width = "64"))]
pub(super) type Limb = u32;
#[cfg(not(target_pointer_width = "64"))]
type Wide = u64;
const LIMB_BITS: u32 = Limb::BITS;

/// A value modulo n in Montgomery form a · R mod n, fully reduced into [0, n).
#[derive(Clone, PartialEq, Eq, Zeroize)]
pub(super) struct Residue(Box<[Limb]>);

impl core::fmt::Debug for Residue {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Residue(..)")
    }
}

/// An odd modulus n with the constants its Montgomery arithmetic needs.
#[derive(Clone, Debug)]
pub(super) struct Modulus {
    /// n, little-endian, exactly `s` limbs with a nonzero top limb.
    n: Box<[Limb]>,
    /// −n⁻¹ mod 2^w: makes the low limb vanish in each reduction step.
    n0inv: Limb,
    /// R² mod n: one Montgomery multiply by it moves a plain value into Montgomery form.
    r2: Box<[Limb]>,
    /// n for the safegcd routines and for encoding, with precision `s` limbs.
    big: Odd<BoxedUint>,
    bits: u32,
}

impl Modulus {
    /// Prepares arithmetic modulo `n`. Fails if n is even or smaller than 3.
    pub(super) fn new(n: &BoxedUint) -> Result<Self, Error> {
        let bits = n.bits();
        if bits < 2 {
            return Err(Error::ModulusSize);
        }
        let s = bits.div_ceil(LIMB_BITS) as usize;
        let limbs = pad(n, s);
        if limbs[0] & 1 == 0 {
            return Err(Error::ModulusEven);
        }
        let n0 = limbs[0];
        // Newton's iteration doubles the correct low bits of n⁻¹ mod 2^w each step (3 → 96).
        let mut inv: Limb = n0;
        for _ in 0..5 {
            inv = inv.wrapping_mul((2 as Limb).wrapping_sub(n0.wrapping_mul(inv)));
        }
        let big_n = uint(&limbs);
        let big = Odd::new(big_n.clone())
            .into_option()
            .ok_or(Error::ModulusEven)?;
        let width = (s as u32) * LIMB_BITS;
        let r2_wide = BoxedUint::one_with_precision(2 * width + LIMB_BITS)
            .shl_vartime(2 * width)
            .ok_or(Error::ModulusSize)?;
        let r2_big = r2_wide.rem_vartime(big.as_nz_ref());
        let r2 = pad(&r2_big, s);
        Ok(Self {
            n: limbs,
            n0inv: inv.wrapping_neg(),
            r2,
            big,
            bits,
        })
    }

    /// |n| in bits.
    pub(super) fn bits(&self) -> u32 {
        self.bits
    }

    /// n as a plain integer.
    pub(super) fn value(&self) -> &BoxedUint {
        &self.big
    }

    /// Moves 0 < v < n into Montgomery form; zero, values longer than |n| and values ≥ n are
    /// typed errors.
    pub(super) fn residue(&self, v: &BoxedUint) -> Result<Residue, Error> {
        if v.bits() == 0 {
            return Err(Error::Zero);
        }
        if v.bits() > self.bits {
            return Err(Error::TooLong);
        }
        let limbs = pad(v, self.n.len());
        if !less(&limbs, &self.n) {
            return Err(Error::OutOfRange);
        }
        Ok(Residue(self.mont_mul(&limbs, &self.r2)))
    }

    /// Like [`Modulus::residue`], and also requires gcd(v, n) = 1.
    pub(super) fn unit(&self, v: &BoxedUint) -> Result<Residue, Error> {
        let residue = self.residue(v)?;
        let g = self.big.gcd_vartime(&uint(&pad(v, self.n.len())));
        if g.bits() != 1 {
            return Err(Error::NotCoprime);
        }
        Ok(residue)
    }

    /// The plain integer a with a Montgomery form `x`, in [0, n).
    pub(super) fn value_of(&self, x: &Residue) -> BoxedUint {
        let mut one = vec![0 as Limb; self.n.len()];
        one[0] = 1;
        uint(&self.mont_mul(&x.0, &one))
    }

    /// The Montgomery form of a small constant c < n.
    #[cfg(test)]
    pub(super) fn small(&self, c: Limb) -> Result<Residue, Error> {
        self.residue(&uint(&[c]))
    }

    /// a · b mod n.
    pub(super) fn mul(&self, a: &Residue, b: &Residue) -> Residue {
        Residue(self.mont_mul(&a.0, &b.0))
    }

    /// a² mod n.
    pub(super) fn square(&self, a: &Residue) -> Residue {
        Residue(self.mont_mul(&a.0, &a.0))
    }

    /// −a mod n.
    pub(super) fn neg(&self, a: &Residue) -> Residue {
        if a.0.iter().all(|&l| l == 0) {
            return a.clone();
        }
        let mut out = self.n.clone();
        sub_in_place(&mut out, &a.0);
        Residue(out)
    }

    /// (−1)^sign · a mod n.
    pub(super) fn signed(&self, a: Residue, negative: bool) -> Residue {
        if negative { self.neg(&a) } else { a }
    }

    /// A uniformly random value in [1, n − 1], drawn directly in Montgomery form (a uniform
    /// Montgomery representative is the form of a uniform value, so no conversion is needed).
    pub(super) fn random<R: CryptoRng + ?Sized>(&self, rng: &mut R) -> Residue {
        let s = self.n.len();
        let top_bits = self.bits - (s as u32 - 1) * LIMB_BITS;
        let mask: Limb = if top_bits == LIMB_BITS {
            Limb::MAX
        } else {
            (1 << top_bits) - 1
        };
        let mut limbs = vec![0 as Limb; s].into_boxed_slice();
        let mut bytes = [0u8; core::mem::size_of::<Limb>()];
        loop {
            for limb in limbs.iter_mut() {
                rng.fill_bytes(&mut bytes);
                *limb = Limb::from_le_bytes(bytes);
            }
            limbs[s - 1] &= mask;
            if less(&limbs, &self.n) && limbs.iter().any(|&l| l != 0) {
                bytes.zeroize();
                return Residue(limbs);
            }
        }
    }

    /// Inverts every element with one modular inversion (Montgomery's trick: prefix products,
    /// invert the total, walk back). `None` if some element shares a factor with n.
    pub(super) fn batch_invert(&self, xs: &[Residue]) -> Option<Vec<Residue>> {
        let (first, rest) = xs.split_first()?;
        let mut prefix = Vec::with_capacity(xs.len());
        prefix.push(first.clone());
        for x in rest {
            let last = prefix.last()?;
            prefix.push(self.mul(last, x));
        }
        let mut inv = self.invert(prefix.last()?)?;
        let mut out = vec![Residue(Box::default()); xs.len()];
        for i in (1..xs.len()).rev() {
            out[i] = self.mul(&inv, &prefix[i - 1]);
            inv = self.mul(&inv, &xs[i]);
        }
        out[0] = inv;
        prefix.zeroize();
        Some(out)
    }

    /// a⁻¹ in Montgomery form, via constant-time safegcd on the plain representative.
    fn invert(&self, a: &Residue) -> Option<Residue> {
        // a holds A·R; safegcd gives (A·R)⁻¹; two multiplies by R² turn it into A⁻¹·R.
        let mut plain = uint(&a.0);
        let inv = plain.invert_odd_mod(&self.big).into_option();
        plain.zeroize();
        let mut inv = inv?;
        let once = self.mont_mul(&pad(&inv, self.n.len()), &self.r2);
        inv.zeroize();
        Some(Residue(self.mont_mul(&once, &self.r2)))
    }

    /// Montgomery product a · b · R⁻¹ mod n (CIOS with the two inner loops fused).
    fn mont_mul(&self, a: &[Limb], b: &[Limb]) -> Box<[Limb]> {
        let n = &*self.n;
        let s = n.len();
        let mut t = vec![0 as Limb; s + 1];
        let (b0, n0) = (b[0] as Wide, n[0] as Wide);
        for &ai in a {
            let ai = ai as Wide;
            let uv = t[0] as Wide + ai * b0;
            let t0 = uv as Limb;
            let mut c1 = uv >> LIMB_BITS;
            let m = t0.wrapping_mul(self.n0inv) as Wide;
            let mut c2 = (t0 as Wide + m * n0) >> LIMB_BITS;
            for j in 1..s {
                let uv = t[j] as Wide + ai * b[j] as Wide + c1;
                c1 = uv >> LIMB_BITS;
                let uv2 = (uv as Limb) as Wide + m * n[j] as Wide + c2;
                c2 = uv2 >> LIMB_BITS;
                t[j - 1] = uv2 as Limb;
            }
            let uv = t[s] as Wide + c1;
            let uv2 = (uv as Limb) as Wide + c2;
            t[s - 1] = uv2 as Limb;
            t[s] = ((uv >> LIMB_BITS) + (uv2 >> LIMB_BITS)) as Limb;
        }
        // t < 2n here; one conditional subtraction brings it into [0, n).
        if t[s] != 0 || !less(&t[..s], n) {
            sub_in_place(&mut t[..s], n);
        }
        t.truncate(s);
        t.into_boxed_slice()
    }
}

/// The low `s` limbs of v, zero-padded (v must fit in `s` limbs).
fn pad(v: &BoxedUint, s: usize) -> Box<[Limb]> {
    const BYTES: usize = core::mem::size_of::<Limb>();
    let bytes = v.to_be_bytes();
    let mut limbs: Box<[Limb]> = bytes
        .rchunks(BYTES)
        .take(s)
        .map(|chunk| chunk.iter().fold(0, |acc, &b| acc << 8 | Limb::from(b)))
        .collect();
    if limbs.len() < s {
        let mut longer = limbs.into_vec();
        longer.resize(s, 0);
        limbs = longer.into_boxed_slice();
    }
    limbs
}

/// The plain integer with these little-endian limbs, with precision of `limbs.len()` limbs.
fn uint(limbs: &[Limb]) -> BoxedUint {
    let mut bytes: Vec<u8> = limbs.iter().rev().flat_map(|l| l.to_be_bytes()).collect();
    // Precision is the limbs' width rounded up to crypto-bigint's word, the same for n and for
    // every value modulo n, as its safegcd routines expect.
    let value = BoxedUint::from_be_slice_truncated(&bytes, (bytes.len() * 8) as u32);
    bytes.zeroize();
    value
}

/// a < b for equal-length little-endian limb slices.
fn less(a: &[Limb], b: &[Limb]) -> bool {
    for (x, y) in a.iter().rev().zip(b.iter().rev()) {
        if x != y {
            return x < y;
        }
    }
    false
}

/// a ← a − b (mod 2^(w·len)).
fn sub_in_place(a: &mut [Limb], b: &[Limb]) {
    let mut borrow = false;
    for (x, &y) in a.iter_mut().zip(b) {
        let (d1, b1) = x.overflowing_sub(y);
        let (d2, b2) = d1.overflowing_sub(borrow as Limb);
        *x = d2;
        borrow = b1 | b2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::{ChaCha20Rng, rand_core::SeedableRng};

    fn uint(v: u64) -> BoxedUint {
        BoxedUint::from(v)
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn products_match_plain_arithmetic() {
        let n = 553_913u64;
        let m = Modulus::new(&uint(n)).unwrap();
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        for _ in 0..200 {
            let (a, b) = (m.random(&mut rng), m.random(&mut rng));
            let (pa, pb) = (m.value_of(&a), m.value_of(&b));
            #[allow(clippy::useless_conversion)] // crypto-bigint words are u32 on some targets
            let plain = |v: &BoxedUint| u64::from(v.as_words()[0]);
            assert_eq!(
                plain(&m.value_of(&m.mul(&a, &b))),
                plain(&pa) * plain(&pb) % n
            );
            assert_eq!(plain(&m.value_of(&m.neg(&a))), n - plain(&pa));
        }
        assert_eq!(m.residue(&uint(n)).unwrap_err(), Error::OutOfRange);
        assert_eq!(m.residue(&uint(1 << 20)).unwrap_err(), Error::TooLong);
        assert_eq!(m.residue(&uint(0)).unwrap_err(), Error::Zero);
        assert_eq!(m.unit(&uint(683 * 5)).unwrap_err(), Error::NotCoprime);
        assert_eq!(Modulus::new(&uint(10)).unwrap_err(), Error::ModulusEven);
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn batch_inversion_inverts_each_element() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        // 2^127 − 1 is prime, so every nonzero value is invertible.
        let m = Modulus::new(&BoxedUint::from(u128::MAX >> 1)).unwrap();
        let xs: Vec<Residue> = (0..7).map(|_| m.random(&mut rng)).collect();
        let one = m.small(1).unwrap();
        match m.batch_invert(&xs) {
            Some(inv) => xs
                .iter()
                .zip(&inv)
                .for_each(|(x, i)| assert_eq!(m.mul(x, i), one)),
            None => panic!("random values modulo a random odd n were not all invertible"),
        }
    }
}

//! Arithmetic modulo an odd n: Montgomery products and a binary gcd, the one place where FFS
//! computes with big numbers.
//!
//! A [`Residue`] is a value in [0, n) as little-endian limbs. Which value it stands for is
//! fixed where it is stored, in one of three forms: **Montgomery form** a · R mod n
//! (R = 2^width, see below; the key's s_j and I_j), the **plain** value a (x and y as sent), or
//! a · R⁻¹ (the verifier's copy of x). The one product, [`Modulus::mul`], is the Montgomery
//! product a · b · R⁻¹: with b in Montgomery form it maps each form of a to the same form of
//! a · b, so products of plain values with key material need no conversion, and a
//! multiply-and-reduce pass with no division does the work.
//!
//! Limbs are 64-bit on native targets and 32-bit on wasm32. Natively (and on other 32-bit
//! targets) a product is one interleaved pass over the limbs (FIOS) and R = 2^(w·s) for s limbs
//! of w bits. In wasm32 products run on 27-bit digits with SIMD (see [`simd`]) and
//! R = 2^(27·L); the API and every result are the same. Scratch space lives on the stack (n has
//! at most 4096 bits), so the hot loops do not allocate.
//!
//! Coprimality checks and the inversion that key generation needs use Pornin's binary gcd with
//! 64-bit approximations ("Optimized Binary GCD for Modular Inversion", 2020): 31 cheap steps on
//! two machine words, then one linear combination of the full numbers, until a is zero.
//!
//! # Security
//!
//! Nothing here is constant-time: products, the final conditional subtraction, comparisons
//! and the gcd take time that can depend on the operands. The core is an educational
//! identification protocol run between a browser and a relay, not a hardened smart-card
//! implementation; an attacker who can time the prover's arithmetic precisely could learn about
//! r and s_j. The one inversion of secret data (key generation) is blinded: it inverts
//! P · b for a fresh uniform b, which is uniform and independent of the secrets.

#![allow(
    clippy::indexing_slicing,
    reason = "limb loops index scratch arrays over lengths this module fixed itself, never a peer's"
)]

use super::{Error, modulus::MAX_BITS};
use crypto_bigint::rand_core::CryptoRng;
use crypto_bigint::{BoxedUint, Word};
use zeroize::Zeroize;

/// One limb: 64 bits on 64-bit targets, 32 bits elsewhere.
#[cfg(target_pointer_width = "64")]
pub(super) type Limb = u64;
#[cfg(target_pointer_width = "64")]
type Wide = u128;
#[cfg(target_pointer_width = "64")]
type SignedWide = i128;
#[cfg(not(target_pointer_width = "64"))]
pub(super) type Limb = u32;
#[cfg(not(target_pointer_width = "64"))]
type Wide = u64;
#[cfg(not(target_pointer_width = "64"))]
type SignedWide = i64;
const LIMB_BITS: u32 = Limb::BITS;
/// Limbs of the largest modulus.
const MAX_LIMBS: usize = (MAX_BITS / LIMB_BITS) as usize;
/// Limbs per crypto-bigint word (which is 64-bit on wasm32).
const PER_WORD: usize = (Word::BITS / LIMB_BITS) as usize;
const _: () = assert!(Word::BITS >= LIMB_BITS && Word::BITS <= 128);

/// Binary gcd steps per outer iteration; the update factors then stay below 2^31 in size.
const STEPS: u32 = 31;

/// A value in [0, n) as `s` little-endian limbs; its form (Montgomery, plain or · R⁻¹) is
/// documented where it is stored.
#[derive(Clone, PartialEq, Eq, Hash, Zeroize)]
pub(super) struct Residue(Box<[Limb]>);

impl core::fmt::Debug for Residue {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Residue(..)")
    }
}

/// Stack scratch: a product uses s + 1 limbs, the gcd's modular update s + 2.
type Scratch = [Limb; MAX_LIMBS + 2];
const SCRATCH: Scratch = [0; MAX_LIMBS + 2];

/// An odd modulus n with the constants its Montgomery arithmetic needs.
#[derive(Clone, Debug)]
pub(super) struct Modulus {
    /// n, little-endian, exactly `s` limbs with a nonzero top limb.
    n: Box<[Limb]>,
    /// −n⁻¹ mod 2^w: makes the low limb vanish in each reduction step.
    n0inv: Limb,
    /// R² mod n: one Montgomery product with it moves a plain value into Montgomery form.
    r2: Residue,
    /// √R mod n (plain; R = 2^width is a square): the nonce's scale, see [`Modulus::nonce`].
    root_r: Residue,
    /// n as an integer.
    value: BoxedUint,
    bits: u32,
    /// n in the 27-bit digits that products run on in wasm32 (see [`simd`]).
    #[cfg(target_arch = "wasm32")]
    digits: simd::Digits,
}

impl Modulus {
    /// Prepares arithmetic modulo `n`. Fails if n is even, smaller than 3 or longer than 4096
    /// bits.
    pub(super) fn new(n: &BoxedUint) -> Result<Self, Error> {
        let bits = n.bits();
        if !(2..=MAX_BITS).contains(&bits) {
            return Err(Error::ModulusSize);
        }
        let s = bits.div_ceil(LIMB_BITS) as usize;
        let limbs = limbs_of(n, s);
        if limbs[0] & 1 == 0 {
            return Err(Error::ModulusEven);
        }
        let n0 = limbs[0];
        // Newton's iteration doubles the correct low bits of n⁻¹ mod 2^w each step (3 → 96).
        let mut inv: Limb = n0;
        for _ in 0..5 {
            inv = inv.wrapping_mul((2 as Limb).wrapping_sub(n0.wrapping_mul(inv)));
        }
        let zero = Residue(vec![0; s].into_boxed_slice());
        #[cfg(target_arch = "wasm32")]
        let digits = simd::Digits::new(&limbs, bits);
        // R = 2^width: w · s for the limb products, an even number of 27-bit digits in wasm32.
        #[cfg(not(target_arch = "wasm32"))]
        let width = s as u32 * LIMB_BITS;
        #[cfg(target_arch = "wasm32")]
        let width = digits.width();
        let mut m = Self {
            n: limbs,
            n0inv: inv.wrapping_neg(),
            r2: zero.clone(),
            root_r: zero,
            value: n.clone(),
            bits,
            #[cfg(target_arch = "wasm32")]
            digits,
        };
        // R mod n (the Montgomery form of 1) by doubling 2^(|n|−1) < n up to 2^width; one more
        // doubling gives the Montgomery form of 2.
        let mut two = vec![0 as Limb; s].into_boxed_slice();
        two[((bits - 1) / LIMB_BITS) as usize] = 1 << ((bits - 1) % LIMB_BITS);
        for _ in 0..width - bits + 2 {
            m.double(&mut two);
        }
        // The Montgomery form of 2^(width/2) is √R · R; reducing it once gives √R, squaring it
        // gives the Montgomery form of R, which is R².
        let root_mont = m.pow(&Residue(two), width / 2);
        m.root_r = m.reduce(&root_mont);
        m.r2 = m.square(&root_mont);
        Ok(m)
    }

    /// |n| in bits.
    pub(super) fn bits(&self) -> u32 {
        self.bits
    }

    /// n as a plain integer.
    pub(super) fn value(&self) -> &BoxedUint {
        &self.value
    }

    /// The plain value v as a residue, for 0 < v < n; zero, values longer than |n| and values
    /// ≥ n are typed errors.
    pub(super) fn plain(&self, v: &BoxedUint) -> Result<Residue, Error> {
        if v.bits() == 0 {
            return Err(Error::Zero);
        }
        if v.bits() > self.bits {
            return Err(Error::TooLong);
        }
        let limbs = limbs_of(v, self.n.len());
        if !less(&limbs, &self.n) {
            return Err(Error::OutOfRange);
        }
        Ok(Residue(limbs))
    }

    /// Like [`Modulus::plain`], and also requires gcd(v, n) = 1.
    pub(super) fn plain_unit(&self, v: &BoxedUint) -> Result<Residue, Error> {
        let plain = self.plain(v)?;
        if !self.coprime(&plain.0) {
            return Err(Error::NotCoprime);
        }
        Ok(plain)
    }

    /// The Montgomery form of 0 < v < n (errors as [`Modulus::plain`]).
    pub(super) fn residue(&self, v: &BoxedUint) -> Result<Residue, Error> {
        let plain = self.plain(v)?;
        Ok(self.mul(&plain, &self.r2))
    }

    /// Like [`Modulus::residue`], and also requires gcd(v, n) = 1.
    pub(super) fn unit(&self, v: &BoxedUint) -> Result<Residue, Error> {
        let plain = self.plain_unit(v)?;
        Ok(self.mul(&plain, &self.r2))
    }

    /// The Montgomery form a · R of a plain a.
    pub(super) fn to_montgomery(&self, a: &Residue) -> Residue {
        self.mul(a, &self.r2)
    }

    /// The integer a residue holds (no change of form).
    pub(super) fn integer(&self, a: &Residue) -> BoxedUint {
        uint(&a.0)
    }

    /// The plain integer of a Montgomery form `x`, in [0, n).
    pub(super) fn value_of(&self, x: &Residue) -> BoxedUint {
        uint(&self.reduce(x).0)
    }

    /// a · R⁻¹ mod n: a Montgomery reduction alone (half the work of a product).
    pub(super) fn reduce(&self, a: &Residue) -> Residue {
        let s = self.n.len();
        let mut t = SCRATCH;
        t[..s].copy_from_slice(&a.0);
        self.redc(&mut t);
        Residue(t[..s].into())
    }

    /// The plain nonce r = u · R^(−1/2) mod n that a uniform residue u stands for: the prover
    /// draws u and sends x = u · u · R⁻¹ = r² (one product, no conversion). u ↦ r is a
    /// bijection, so r is uniform when u is.
    pub(super) fn nonce(&self, u: &Residue) -> Residue {
        self.mul(u, &self.root_r)
    }

    /// The u that stands for a chosen plain nonce r (a demo's chosen r, known-answer tests).
    pub(super) fn nonce_from_plain(&self, r: &Residue) -> Residue {
        self.mul(&self.to_montgomery(r), &self.root_r)
    }

    /// The Montgomery form of a small constant c < n.
    #[cfg(test)]
    pub(super) fn small(&self, c: Limb) -> Result<Residue, Error> {
        self.residue(&uint(&[c]))
    }

    /// The Montgomery product a · b · R⁻¹ mod n (a · b mod n for Montgomery forms).
    pub(super) fn mul(&self, a: &Residue, b: &Residue) -> Residue {
        let mut t = SCRATCH;
        self.mont_mul(&a.0, &b.0, &mut t);
        Residue(t[..self.n.len()].into())
    }

    /// acc ← acc · b · R⁻¹ mod n, without allocating.
    pub(super) fn mul_assign(&self, acc: &mut Residue, b: &Residue) {
        let mut t = SCRATCH;
        self.mont_mul(&acc.0, &b.0, &mut t);
        acc.0.copy_from_slice(&t[..self.n.len()]);
    }

    /// a · a · R⁻¹ mod n.
    pub(super) fn square(&self, a: &Residue) -> Residue {
        self.mul(a, a)
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

    /// A uniformly random residue in [1, n − 1]. In Montgomery form it is the form of a uniform
    /// value, so no conversion is needed.
    pub(super) fn random<R: CryptoRng + ?Sized>(&self, rng: &mut R) -> Residue {
        const BYTES: usize = core::mem::size_of::<Limb>();
        let s = self.n.len();
        let top_bits = self.bits - (s as u32 - 1) * LIMB_BITS;
        let mask: Limb = if top_bits == LIMB_BITS {
            Limb::MAX
        } else {
            (1 << top_bits) - 1
        };
        let mut limbs = vec![0 as Limb; s].into_boxed_slice();
        let mut bytes = [0u8; MAX_LIMBS * BYTES];
        let bytes = &mut bytes[..s * BYTES];
        loop {
            rng.fill_bytes(bytes);
            for (limb, chunk) in limbs.iter_mut().zip(bytes.chunks_exact(BYTES)) {
                let mut le = [0u8; BYTES];
                le.copy_from_slice(chunk);
                *limb = Limb::from_le_bytes(le);
            }
            limbs[s - 1] &= mask;
            if less(&limbs, &self.n) && limbs.iter().any(|&l| l != 0) {
                bytes.zeroize();
                return Residue(limbs);
            }
        }
    }

    /// A uniformly random **unit** in [1, n − 1] (redraws values sharing a factor with n). On a
    /// demo-sized n such a value is drawn often (n = 683 · 811: 0.27 % of draws), and a
    /// commitment made from it is refused by Victor; at 1024 bits and more it never happens in
    /// practice, and [`Modulus::random`] skips the gcd.
    pub(super) fn random_unit<R: CryptoRng + ?Sized>(&self, rng: &mut R) -> Residue {
        loop {
            let r = self.random(rng);
            if self.coprime(&r.0) {
                return r;
            }
        }
    }

    /// Inverts every element (Montgomery forms) with one modular inversion (Montgomery's trick:
    /// prefix products, invert the total, walk back). The total is multiplied by `blind` (a
    /// fresh uniform residue, or the form of 1 where there is no secret to hide) before the
    /// variable-time inversion. `None` if some element or the blind shares a factor with n.
    pub(super) fn batch_invert(&self, xs: &[Residue], blind: &Residue) -> Option<Vec<Residue>> {
        let (first, rest) = xs.split_first()?;
        let mut prefix = Vec::with_capacity(xs.len());
        prefix.push(first.clone());
        for x in rest {
            let last = prefix.last()?;
            prefix.push(self.mul(last, x));
        }
        let mut inv = self.invert(prefix.last()?, blind)?;
        let mut out = vec![Residue(Box::default()); xs.len()];
        for i in (1..xs.len()).rev() {
            out[i] = self.mul(&inv, &prefix[i - 1]);
            self.mul_assign(&mut inv, &xs[i]);
        }
        out[0] = inv;
        prefix.zeroize();
        Some(out)
    }

    /// The Montgomery form of a⁻¹ for the Montgomery form A = a · R, blinded by B = b · R.
    fn invert(&self, a: &Residue, blind: &Residue) -> Option<Residue> {
        // C = A · B · R⁻¹ = a · b · R as an integer; its inverse is a⁻¹ · b⁻¹ · R⁻¹. One
        // product with B gives a⁻¹ · R⁻¹, two with R² give a⁻¹ · R.
        let mut c = self.mul(a, blind);
        let inv = self.invert_vartime(&c.0);
        c.zeroize();
        let mut inv = Residue(inv?);
        self.mul_assign(&mut inv, blind);
        self.mul_assign(&mut inv, &self.r2);
        self.mul_assign(&mut inv, &self.r2);
        Some(inv)
    }

    /// Montgomery product a · b · R⁻¹ mod n into t[..s] (FIOS: the multiply and the reduction
    /// share one pass over the limbs; the running value shifts down one limb per step).
    #[cfg(not(target_arch = "wasm32"))]
    fn mont_mul(&self, a: &[Limb], b: &[Limb], t: &mut Scratch) {
        let s = self.n.len();
        let (n, a, b, t) = (&self.n[..s], &a[..s], &b[..s], &mut t[..s + 1]);
        let (b0, n0, n0inv) = (Wide::from(b[0]), Wide::from(n[0]), self.n0inv);
        for &ai in a {
            let ai = Wide::from(ai);
            let uv = Wide::from(t[0]) + ai * b0;
            let t0 = uv as Limb;
            let mut c1 = uv >> LIMB_BITS;
            let m = Wide::from(t0.wrapping_mul(n0inv));
            let mut c2 = (Wide::from(t0) + m * n0) >> LIMB_BITS;
            for j in 1..s {
                let uv = Wide::from(t[j]) + ai * Wide::from(b[j]) + c1;
                c1 = uv >> LIMB_BITS;
                let uv2 = Wide::from(uv as Limb) + m * Wide::from(n[j]) + c2;
                c2 = uv2 >> LIMB_BITS;
                t[j - 1] = uv2 as Limb;
            }
            let uv = Wide::from(t[s]) + c1;
            let uv2 = Wide::from(uv as Limb) + c2;
            t[s - 1] = uv2 as Limb;
            t[s] = ((uv >> LIMB_BITS) + (uv2 >> LIMB_BITS)) as Limb;
        }
        // t < 2n here; one conditional subtraction brings it into [0, n).
        if t[s] != 0 || !less(&t[..s], n) {
            sub_in_place(&mut t[..s], n);
        }
    }

    /// Montgomery product a · b · R⁻¹ mod n into t[..s], on 27-bit digits with SIMD (see
    /// [`simd`]).
    #[cfg(target_arch = "wasm32")]
    fn mont_mul(&self, a: &[Limb], b: &[Limb], t: &mut Scratch) {
        let s = self.n.len();
        let mut out = simd::DIGITS;
        self.digits.mont_mul(&a[..s], Some(&b[..s]), &mut out);
        self.finish(&out, t);
    }

    /// t[..s] ← t[..s] · R⁻¹ mod n (t[..s] < n), on 27-bit digits with SIMD.
    #[cfg(target_arch = "wasm32")]
    fn redc(&self, t: &mut Scratch) {
        let s = self.n.len();
        let mut out = simd::DIGITS;
        self.digits.mont_mul(&t[..s], None, &mut out);
        self.finish(&out, t);
    }

    /// t[..s] ← the digits' value (< 2n) reduced into [0, n).
    #[cfg(target_arch = "wasm32")]
    fn finish(&self, digits: &simd::DigitBuffer, t: &mut Scratch) {
        let s = self.n.len();
        let t = &mut t[..s + 1];
        simd::join(&digits[..self.digits.len() + 1], t);
        if t[s] != 0 || !less(&t[..s], &self.n) {
            sub_in_place(t, &self.n);
        }
    }

    /// t[..s] ← t[..s] · R⁻¹ mod n (t[..s] < n, t[s] = 0).
    #[cfg(not(target_arch = "wasm32"))]
    fn redc(&self, t: &mut Scratch) {
        let s = self.n.len();
        let (n, t) = (&self.n[..s], &mut t[..s + 1]);
        for _ in 0..s {
            let m = Wide::from(t[0].wrapping_mul(self.n0inv));
            let mut c = (Wide::from(t[0]) + m * Wide::from(n[0])) >> LIMB_BITS;
            for j in 1..s {
                let uv = Wide::from(t[j]) + m * Wide::from(n[j]) + c;
                t[j - 1] = uv as Limb;
                c = uv >> LIMB_BITS;
            }
            let uv = Wide::from(t[s]) + c;
            t[s - 1] = uv as Limb;
            t[s] = (uv >> LIMB_BITS) as Limb;
        }
        if t[s] != 0 || !less(&t[..s], n) {
            sub_in_place(&mut t[..s], n);
        }
    }

    /// v ← 2 · v mod n for v < n.
    fn double(&self, v: &mut [Limb]) {
        let mut carry = 0;
        for limb in v.iter_mut() {
            let next = *limb >> (LIMB_BITS - 1);
            *limb = *limb << 1 | carry;
            carry = next;
        }
        if carry != 0 || !less(v, &self.n) {
            sub_in_place(v, &self.n);
        }
    }

    /// The Montgomery form of a^e for the Montgomery form of a, e ≥ 1 (public exponent).
    fn pow(&self, base: &Residue, e: u32) -> Residue {
        let mut acc = base.clone();
        for i in (0..e.ilog2()).rev() {
            acc = self.square(&acc);
            if e >> i & 1 == 1 {
                self.mul_assign(&mut acc, base);
            }
        }
        acc
    }

    /// gcd(v, n) = 1, for v < n (variable time; binary gcd with approximations).
    pub(super) fn coprime(&self, v: &[Limb]) -> bool {
        let s = self.n.len();
        // Four buffers; each step writes the next a and b into the spare two and swaps the
        // references (not the arrays).
        let mut buffers = [SCRATCH; 4];
        let [a, b, fresh, spare] = &mut buffers;
        let (mut a, mut b, mut fresh, mut spare) = (a, b, fresh, spare);
        a[..s].copy_from_slice(v);
        b[..s].copy_from_slice(&self.n);
        let mut len = s;
        for _ in 0..max_outer(s) {
            len = active(a, b, len);
            if a[..len].iter().all(|&l| l == 0) {
                return is_one(&b[..len]);
            }
            let top = bit_length(&a[..len]).max(bit_length(&b[..len]));
            if top <= 64 {
                return gcd_u64(low_u64(a), low_u64(b)) == 1;
            }
            let steps = divsteps(approximate(a, len, top), approximate(b, len, top));
            lincomb_pair((fresh, spare), (a, b), len, steps);
            core::mem::swap(&mut a, &mut fresh);
            core::mem::swap(&mut b, &mut spare);
        }
        false
    }

    /// v⁻¹ mod n as plain limbs for a plain v < n, or `None` if gcd(v, n) ≠ 1 (variable time:
    /// the binary gcd of [`Modulus::coprime`], with cofactors kept modulo n).
    fn invert_vartime(&self, v: &[Limb]) -> Option<Box<[Limb]>> {
        let s = self.n.len();
        let mut buffers = [SCRATCH; 8];
        let [a, b, u, w, fresh, spare, fresh_u, spare_w] = &mut buffers;
        let (mut a, mut b, mut fresh, mut spare) = (a, b, fresh, spare);
        let (mut u, mut w, mut fresh_u, mut spare_w) = (u, w, fresh_u, spare_w);
        a[..s].copy_from_slice(v);
        b[..s].copy_from_slice(&self.n);
        // Invariants: a ≡ u · v and b ≡ w · v (mod n).
        u[0] = 1;
        let mut len = s;
        for _ in 0..max_outer(s) {
            len = active(a, b, len);
            if a[..len].iter().all(|&l| l == 0) {
                return is_one(&b[..len]).then(|| w[..s].into());
            }
            let top = bit_length(&a[..len]).max(bit_length(&b[..len]));
            let steps = divsteps(approximate(a, len, top), approximate(b, len, top));
            let [f0, g0, f1, g1] = steps;
            let (a_negative, b_negative) = lincomb_pair((fresh, spare), (a, b), len, steps);
            core::mem::swap(&mut a, &mut fresh);
            core::mem::swap(&mut b, &mut spare);
            self.lincomb_mod(fresh_u, u, w, f0, g0, a_negative);
            self.lincomb_mod(spare_w, u, w, f1, g1, b_negative);
            core::mem::swap(&mut u, &mut fresh_u);
            core::mem::swap(&mut w, &mut spare_w);
        }
        None
    }

    /// out ← ±(f · u + g · w) / 2^31 mod n for u, w < n (minus when `negate`).
    fn lincomb_mod(
        &self,
        out: &mut Scratch,
        u: &Scratch,
        w: &Scratch,
        f: i64,
        g: i64,
        negate: bool,
    ) {
        let s = self.n.len();
        let (n, out) = (&self.n[..s], &mut out[..s + 2]);
        // t = f · u + g · w in s + 2 limbs (two's complement): |t| < 2^31 · n.
        let (f, g) = (SignedWide::from(f), SignedWide::from(g));
        let mut carry: SignedWide = 0;
        for j in 0..s {
            let acc = carry + f * SignedWide::from(u[j]) + g * SignedWide::from(w[j]);
            out[j] = acc as Limb;
            carry = acc >> LIMB_BITS;
        }
        out[s] = carry as Limb;
        out[s + 1] = if carry < 0 { Limb::MAX } else { 0 };
        // t += m · n with m < 2^31 chosen so that the low 31 bits vanish (m · n ≡ −t).
        let mask: Limb = (1 << STEPS) - 1;
        let m = Wide::from(out[0].wrapping_mul(self.n0inv) & mask);
        let mut c: Wide = 0;
        for j in 0..s {
            let acc = Wide::from(out[j]) + m * Wide::from(n[j]) + c;
            out[j] = acc as Limb;
            c = acc >> LIMB_BITS;
        }
        let (top, c1) = out[s].overflowing_add(c as Limb);
        out[s] = top;
        out[s + 1] = out[s + 1].wrapping_add(Limb::from(c1));
        // −2^31 · n < t < 2^32 · n, so −n < t / 2^31 < 2n: at most one correction.
        shift_right(out, STEPS);
        if out[s + 1] >> (LIMB_BITS - 1) == 1 {
            add_in_place(out, n);
        } else if out[s] != 0 || !less(&out[..s], n) {
            sub_in_place(out, n);
        }
        out[s] = 0;
        out[s + 1] = 0;
        if negate && out[..s].iter().any(|&l| l != 0) {
            let mut neg = self.n.clone();
            sub_in_place(&mut neg, &out[..s]);
            out[..s].copy_from_slice(&neg);
        }
    }
}

mod gcd;
mod limbs;
#[cfg(target_arch = "wasm32")]
mod simd;
#[cfg(test)]
mod tests;

use gcd::{
    active, approximate, bit_length, divsteps, gcd_u64, is_one, lincomb_pair, low_u64, max_outer,
    shift_right,
};
use limbs::*;

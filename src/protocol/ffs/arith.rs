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
#[derive(Clone, PartialEq, Eq, Zeroize)]
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

/// Outer iterations of the binary gcd that always suffice: 2 · |n| − 1 steps in all (Pornin,
/// Theorem 1), 31 per iteration, plus slack. Reaching it would mean a bug, reported as "no".
fn max_outer(s: usize) -> usize {
    2 * s * LIMB_BITS as usize / STEPS as usize + 4
}

/// The number of low limbs that hold all of a and b (at least 1).
fn active(a: &Scratch, b: &Scratch, mut len: usize) -> usize {
    while len > 1 && a[len - 1] == 0 && b[len - 1] == 0 {
        len -= 1;
    }
    len
}

fn bit_length(x: &[Limb]) -> u32 {
    match x.iter().rposition(|&l| l != 0) {
        Some(i) => i as u32 * LIMB_BITS + (LIMB_BITS - x[i].leading_zeros()),
        None => 0,
    }
}

/// The low 64 bits of x.
fn low_u64(x: &Scratch) -> u64 {
    let mut out = 0u128;
    for (i, &l) in x.iter().take((64 / LIMB_BITS) as usize).enumerate() {
        out |= u128::from(l) << (i as u32 * LIMB_BITS);
    }
    out as u64
}

/// Bits [at, at + 64) of x (zeros beyond its end).
fn bits_at(x: &Scratch, len: usize, at: u32) -> u64 {
    let first = (at / LIMB_BITS) as usize;
    let mut window = 0u128;
    for i in 0..=(64 / LIMB_BITS) as usize {
        if let Some(&l) = x[..len].get(first + i) {
            window |= u128::from(l) << (i as u32 * LIMB_BITS);
        }
    }
    (window >> (at % LIMB_BITS)) as u64
}

/// Pornin's 64-bit stand-in for x when the longer of a and b has `top` bits: x itself if it
/// fits, else x's bits [top − 33, top) above its low 31 bits.
fn approximate(x: &Scratch, len: usize, top: u32) -> u64 {
    if top <= 64 {
        return low_u64(x);
    }
    let high = bits_at(x, len, top - 33) & ((1 << 33) - 1);
    high << STEPS | (low_u64(x) & ((1 << STEPS) - 1))
}

/// 31 binary gcd steps on approximations (b odd): returns [f0, g0, f1, g1] such that
/// (f0 · a + g0 · b) / 2^31 and (f1 · a + g1 · b) / 2^31 are the next a and b (up to sign).
/// Runs of halvings go at once; the swap is branchless (it is a coin flip for the predictor).
fn divsteps(mut a: u64, mut b: u64) -> [i64; 4] {
    let (mut f0, mut g0, mut f1, mut g1) = (1i64, 0i64, 0i64, 1i64);
    let mut left = STEPS;
    loop {
        let run = a.trailing_zeros().min(left);
        a >>= run;
        f1 <<= run;
        g1 <<= run;
        left -= run;
        if left == 0 {
            return [f0, g0, f1, g1];
        }
        // a is odd: if a < b swap the pairs, then a ← (a − b) / 2.
        let swap = u64::from(a < b).wrapping_neg();
        let d = (a ^ b) & swap;
        a ^= d;
        b ^= d;
        let swap = swap as i64;
        let df = (f0 ^ f1) & swap;
        f0 ^= df;
        f1 ^= df;
        let dg = (g0 ^ g1) & swap;
        g0 ^= dg;
        g1 ^= dg;
        a = (a - b) >> 1;
        f0 -= f1;
        g0 -= g1;
        f1 <<= 1;
        g1 <<= 1;
        left -= 1;
    }
}

/// One outer step of the binary gcd over the low `len` limbs: na ← |f0 · a + g0 · b| / 2^31
/// and nb ← |f1 · a + g1 · b| / 2^31 (exact divisions), in one pass. Returns whether each
/// combination was negative.
fn lincomb_pair(
    (na, nb): (&mut Scratch, &mut Scratch),
    (a, b): (&Scratch, &Scratch),
    len: usize,
    [f0, g0, f1, g1]: [i64; 4],
) -> (bool, bool) {
    let (f0, g0) = (SignedWide::from(f0), SignedWide::from(g0));
    let (f1, g1) = (SignedWide::from(f1), SignedWide::from(g1));
    let (mut c0, mut c1): (SignedWide, SignedWide) = (0, 0);
    // The shifted result lags one limb behind: limb j − 1 needs limb j's low bits.
    let (mut low0, mut low1): (Limb, Limb) = (0, 0);
    let (na, nb) = (&mut na[..len + 1], &mut nb[..len + 1]);
    for j in 0..len {
        let (x, y) = (SignedWide::from(a[j]), SignedWide::from(b[j]));
        let acc0 = c0 + f0 * x + g0 * y;
        let acc1 = c1 + f1 * x + g1 * y;
        c0 = acc0 >> LIMB_BITS;
        c1 = acc1 >> LIMB_BITS;
        let (l0, l1) = (acc0 as Limb, acc1 as Limb);
        if j > 0 {
            na[j - 1] = low0 >> STEPS | l0 << (LIMB_BITS - STEPS);
            nb[j - 1] = low1 >> STEPS | l1 << (LIMB_BITS - STEPS);
        }
        (low0, low1) = (l0, l1);
    }
    // The top: the last low limb and the signed carry (|carry| < 2^31).
    na[len - 1] = low0 >> STEPS | (c0 as Limb) << (LIMB_BITS - STEPS);
    nb[len - 1] = low1 >> STEPS | (c1 as Limb) << (LIMB_BITS - STEPS);
    na[len] = (c0 >> STEPS) as Limb;
    nb[len] = (c1 >> STEPS) as Limb;
    // −(t / 2^31) = (−t) / 2^31 for an exact division.
    let (neg0, neg1) = (c0 < 0, c1 < 0);
    if neg0 {
        negate(na);
    }
    if neg1 {
        negate(nb);
    }
    (neg0, neg1)
}

/// x ← −x in two's complement.
fn negate(x: &mut [Limb]) {
    let mut carry = true;
    for limb in x.iter_mut() {
        let (v, c) = (!*limb).overflowing_add(Limb::from(carry));
        *limb = v;
        carry = c;
    }
}

/// x ← x >> k for 0 < k < w, arithmetic (the top bit is kept).
fn shift_right(x: &mut [Limb], k: u32) {
    let len = x.len();
    for i in 0..len - 1 {
        x[i] = x[i] >> k | x[i + 1] << (LIMB_BITS - k);
    }
    let sign = x[len - 1] >> (LIMB_BITS - 1);
    x[len - 1] = x[len - 1] >> k | (sign.wrapping_neg() << (LIMB_BITS - k));
}

/// x = 1.
fn is_one(x: &[Limb]) -> bool {
    x.first() == Some(&1) && x[1..].iter().all(|&l| l == 0)
}

fn gcd_u64(mut a: u64, mut b: u64) -> u64 {
    if a == 0 {
        return b;
    }
    if b == 0 {
        return a;
    }
    let shift = (a | b).trailing_zeros();
    a >>= a.trailing_zeros();
    loop {
        b >>= b.trailing_zeros();
        if a > b {
            core::mem::swap(&mut a, &mut b);
        }
        b -= a;
        if b == 0 {
            return a << shift;
        }
    }
}

/// The low `s` limbs of v, zero-padded (v must fit in `s` limbs).
fn limbs_of(v: &BoxedUint, s: usize) -> Box<[Limb]> {
    let mut limbs = vec![0 as Limb; s].into_boxed_slice();
    for (i, &word) in v.as_words().iter().enumerate() {
        let word = u128::from(word);
        for h in 0..PER_WORD {
            if let Some(limb) = limbs.get_mut(i * PER_WORD + h) {
                *limb = (word >> (h as u32 * LIMB_BITS)) as Limb;
            }
        }
    }
    limbs
}

/// The integer with these little-endian limbs.
fn uint(limbs: &[Limb]) -> BoxedUint {
    BoxedUint::from_words(limbs.chunks(PER_WORD).map(|chunk| {
        let word = chunk
            .iter()
            .rev()
            .fold(0u128, |acc, &l| acc << LIMB_BITS | u128::from(l));
        word as Word
    }))
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

/// a ← a − b (mod 2^(w·len)); returns the borrow out.
fn sub_in_place(a: &mut [Limb], b: &[Limb]) -> bool {
    let mut borrow = false;
    for (x, &y) in a.iter_mut().zip(b) {
        let (d1, b1) = x.overflowing_sub(y);
        let (d2, b2) = d1.overflowing_sub(Limb::from(borrow));
        *x = d2;
        borrow = b1 | b2;
    }
    for x in a.iter_mut().skip(b.len()) {
        let (d, b) = x.overflowing_sub(Limb::from(borrow));
        *x = d;
        borrow = b;
    }
    borrow
}

/// a ← a + b (mod 2^(w·len)) for b no longer than a.
fn add_in_place(a: &mut [Limb], b: &[Limb]) {
    let mut carry = false;
    for (x, &y) in a.iter_mut().zip(b) {
        let (s1, c1) = x.overflowing_add(y);
        let (s2, c2) = s1.overflowing_add(Limb::from(carry));
        *x = s2;
        carry = c1 | c2;
    }
    for x in a.iter_mut().skip(b.len()) {
        let (s, c) = x.overflowing_add(Limb::from(carry));
        *x = s;
        carry = c;
    }
}

/// Montgomery products in wasm32: 27-bit digits, 64-bit accumulators, SIMD.
///
/// With 32-bit limbs each step of a product waits for the previous step's carry, and a
/// 2048-bit product is 8192 scalar multiplies (about 5.5 µs in Chromium, against about 2 µs for
/// a `BigInt` `a * b % n`). Here the product runs on L 27-bit digits (operand scanning with the
/// Montgomery reduction interleaved): position i + j of a vector of 64-bit accumulators takes
/// a_i · b_j + m_i · n_j, two lanes per SIMD multiply (`i64x2.extmul_*_i32x4_u`), with no
/// carry at all — only position i is carried, to find m_i. A position takes at most 2 · L such terms below 2^54, so even at 4096 bits
/// (L = 152) it stays below 2^63. For the accumulator pairs to line up, b and n are packed
/// four digits to a vector twice: from digit 0 for even i and from digit −1 (a zero) for odd
/// i. Residues keep their 32-bit limbs; digits exist only inside a product, and
/// R = 2^(27 · L) for an even L (so that √R is a power of two).
///
/// Every browser engine of the last years runs wasm SIMD (Chrome 91, Firefox 89, Safari
/// 16.4); a module that contains it fails to load in older ones.
#[cfg(target_arch = "wasm32")]
mod simd {
    use super::{Limb, MAX_BITS};
    use core::arch::wasm32::{
        i64x2_add, u32x4, u32x4_splat, u64x2, u64x2_extmul_high_u32x4, u64x2_extmul_low_u32x4,
        u64x2_extract_lane, v128,
    };
    use core::hint::black_box;

    const BITS: u32 = 27;
    const MASK: u64 = (1 << BITS) - 1;
    /// Digits of the largest modulus (even).
    const MAX_DIGITS: usize = MAX_BITS.div_ceil(BITS).next_multiple_of(2) as usize;
    /// Vectors of four digits that cover digits −1 ..= L + 2.
    const MAX_QUADS: usize = MAX_DIGITS / 4 + 1;
    /// Accumulator pairs: positions 0 ..= 2L + 4 and what the last quads touch.
    const MAX_PAIRS: usize = MAX_DIGITS + 2 * MAX_QUADS + 2;
    const ZERO: v128 = u64x2(0, 0);
    /// Digits of a result (L + 1).
    pub(super) type DigitBuffer = [u32; MAX_DIGITS + 1];
    pub(super) const DIGITS: DigitBuffer = [0; MAX_DIGITS + 1];

    /// n as digits, packed for both parities, and −n⁻¹ mod 2^27.
    #[derive(Clone, Debug)]
    pub(super) struct Digits {
        l: usize,
        quads: usize,
        n: [Box<[v128]>; 2],
        n0inv: u32,
    }

    impl Digits {
        pub(super) fn new(n: &[Limb], bits: u32) -> Self {
            let l = bits.div_ceil(BITS).next_multiple_of(2) as usize;
            let quads = l / 4 + 1;
            let mut digits = DIGITS;
            split(n, &mut digits[..l]);
            let (mut even, mut odd) = ([ZERO; MAX_QUADS], [ZERO; MAX_QUADS]);
            pack(&digits[..l], &mut even[..quads], &mut odd[..quads]);
            let n0 = digits[0];
            let mut inv = n0;
            for _ in 0..5 {
                inv = inv.wrapping_mul(2u32.wrapping_sub(n0.wrapping_mul(inv)));
            }
            Self {
                l,
                quads,
                n: [even[..quads].into(), odd[..quads].into()],
                n0inv: inv.wrapping_neg() & MASK as u32,
            }
        }

        /// L.
        pub(super) fn len(&self) -> usize {
            self.l
        }

        /// log₂ R = 27 · L.
        pub(super) fn width(&self) -> u32 {
            self.l as u32 * BITS
        }

        /// out[..L + 1] ← the digits of a · b · 2^(−27 · L) (< 2n) for a, b < n given as
        /// 32-bit limbs; `None` for b = 1 (a reduction alone: start from a, add no products).
        #[target_feature(enable = "simd128")]
        pub(super) fn mont_mul(&self, a: &[Limb], b: Option<&[Limb]>, out: &mut DigitBuffer) {
            let (l, q) = (self.l, self.quads);
            let mut da = DIGITS;
            split(a, &mut da[..l]);
            let mut db = DIGITS;
            let (mut even, mut odd) = ([ZERO; MAX_QUADS], [ZERO; MAX_QUADS]);
            let mut t = [ZERO; MAX_PAIRS];
            match b {
                Some(b) => {
                    split(b, &mut db[..l]);
                    pack(&db[..l], &mut even[..q], &mut odd[..q]);
                }
                None => {
                    // t = a; the products a_i · b_j are all zero (b = 0 here).
                    for (pair, d) in t.iter_mut().zip(da[..l].chunks_exact(2)) {
                        *pair = u64x2(u64::from(d[0]), u64::from(d[1]));
                    }
                }
            }
            let b_quads: [&[v128]; 2] = [&even[..q], &odd[..q]];
            let b0 = u64::from(db[0]);
            for (i, &digit) in da[..l].iter().enumerate() {
                let (pair, lane) = (i >> 1, i & 1);
                let ai = if b.is_some() { u64::from(digit) } else { 0 };
                let x = lane_of(t[pair], lane) + ai * b0;
                let m = u64::from((x as u32).wrapping_mul(self.n0inv)) & MASK;
                let (av, mv) = (u32x4_splat(ai as u32), u32x4_splat(m as u32));
                accumulate(&mut t[pair..], av, b_quads[lane], mv, &self.n[lane]);
                // Position i is now 0 mod 2^27: carry it into position i + 1.
                let carry = lane_of(t[pair], lane) >> BITS;
                if lane == 0 {
                    t[pair] = u64x2(0, u64x2_extract_lane::<1>(t[pair]) + carry);
                } else {
                    t[pair] = ZERO;
                    t[pair + 1] = u64x2(
                        u64x2_extract_lane::<0>(t[pair + 1]) + carry,
                        u64x2_extract_lane::<1>(t[pair + 1]),
                    );
                }
            }
            // The result is positions L ..= 2L; carry through them once.
            let mut carry = 0u64;
            for (k, digit) in out[..l + 1].iter_mut().enumerate() {
                let p = l + k;
                let v = lane_of(t[p >> 1], p & 1) + carry;
                *digit = (v & MASK) as u32;
                carry = v >> BITS;
            }
        }
    }

    /// The 64-bit value in lane `lane` (0 or 1) of a pair.
    #[target_feature(enable = "simd128")]
    fn lane_of(pair: v128, lane: usize) -> u64 {
        if lane == 0 {
            u64x2_extract_lane::<0>(pair)
        } else {
            u64x2_extract_lane::<1>(pair)
        }
    }

    /// t[2k], t[2k + 1] += a · b_quad[k] + m · n_quad[k], lane by lane (two 32×32→64 products
    /// per multiply).
    #[target_feature(enable = "simd128")]
    fn accumulate(t: &mut [v128], a: v128, b: &[v128], m: v128, n: &[v128]) {
        let (pairs, _) = t.as_chunks_mut::<2>();
        for (pair, (&bq, &nq)) in pairs.iter_mut().zip(b.iter().zip(n)) {
            // Opaque to the optimizer, or it hoists the widening of the loop-invariant factors
            // and the multiplies become 64×64 (`i64x2.mul`), which engines emulate slowly.
            let (a, m) = black_box((a, m));
            let low = i64x2_add(u64x2_extmul_low_u32x4(a, bq), u64x2_extmul_low_u32x4(m, nq));
            let high = i64x2_add(
                u64x2_extmul_high_u32x4(a, bq),
                u64x2_extmul_high_u32x4(m, nq),
            );
            pair[0] = i64x2_add(pair[0], low);
            pair[1] = i64x2_add(pair[1], high);
        }
    }

    /// Packs digits four to a vector: `even` from digit 0, `odd` from digit −1 (a zero).
    #[target_feature(enable = "simd128")]
    fn pack(digits: &[u32], even: &mut [v128], odd: &mut [v128]) {
        let d = |j: isize| -> u32 {
            usize::try_from(j)
                .ok()
                .and_then(|j| digits.get(j))
                .copied()
                .unwrap_or(0)
        };
        for (k, (e, o)) in even.iter_mut().zip(odd.iter_mut()).enumerate() {
            let j = 4 * k as isize;
            *e = u32x4(d(j), d(j + 1), d(j + 2), d(j + 3));
            *o = u32x4(d(j - 1), d(j), d(j + 1), d(j + 2));
        }
    }

    /// 32-bit limbs → 27-bit digits (`out` long enough for the value).
    pub(super) fn split(limbs: &[Limb], out: &mut [u32]) {
        let (mut acc, mut have, mut next) = (0u64, 0u32, limbs.iter());
        for digit in out.iter_mut() {
            if have < BITS {
                acc |= u64::from(next.next().copied().unwrap_or(0)) << have;
                have += Limb::BITS;
            }
            *digit = (acc & MASK) as u32;
            acc >>= BITS;
            have -= BITS;
        }
    }

    /// 27-bit digits (the last one may be wider) → 32-bit limbs, truncated to `out`.
    pub(super) fn join(digits: &[u32], out: &mut [Limb]) {
        let (mut acc, mut have, mut next) = (0u128, 0u32, digits.iter());
        for limb in out.iter_mut() {
            while have < Limb::BITS {
                match next.next() {
                    Some(&d) => acc |= u128::from(d) << have,
                    None => break,
                }
                have += BITS;
            }
            *limb = acc as Limb;
            acc >>= Limb::BITS;
            have = have.saturating_sub(Limb::BITS);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crypto_bigint::{ConcatenatingMul, Gcd, NonZero};
    use proptest::{prelude::*, test_runner::Config};
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
        #[allow(clippy::useless_conversion)] // crypto-bigint words are u32 on some targets
        let plain = |v: &BoxedUint| u64::from(v.as_words()[0]);
        for _ in 0..200 {
            let (a, b) = (m.random(&mut rng), m.random(&mut rng));
            let (pa, pb) = (m.value_of(&a), m.value_of(&b));
            assert_eq!(
                plain(&m.value_of(&m.mul(&a, &b))),
                plain(&pa) * plain(&pb) % n
            );
            assert_eq!(plain(&m.value_of(&m.neg(&a))), n - plain(&pa));
            // A plain value times a Montgomery form stays plain.
            let pa_plain = m.plain(&pa).unwrap();
            assert_eq!(
                plain(&m.integer(&m.mul(&pa_plain, &b))),
                plain(&pa) * plain(&pb) % n
            );
            // u · u · R⁻¹ is the square of the nonce u stands for.
            let r = m.integer(&m.nonce(&a));
            assert_eq!(plain(&m.integer(&m.square(&a))), plain(&r) * plain(&r) % n);
        }
        assert_eq!(m.residue(&uint(n)).unwrap_err(), Error::OutOfRange);
        assert_eq!(m.residue(&uint(1 << 20)).unwrap_err(), Error::TooLong);
        assert_eq!(m.residue(&uint(0)).unwrap_err(), Error::Zero);
        assert_eq!(m.unit(&uint(683 * 5)).unwrap_err(), Error::NotCoprime);
        assert_eq!(Modulus::new(&uint(10)).unwrap_err(), Error::ModulusEven);
        assert_eq!(Modulus::new(&uint(1)).unwrap_err(), Error::ModulusSize);
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn batch_inversion_inverts_each_element() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        // 2^127 − 1 is prime, so every nonzero value is invertible.
        let m = Modulus::new(&BoxedUint::from(u128::MAX >> 1)).unwrap();
        let xs: Vec<Residue> = (0..7).map(|_| m.random(&mut rng)).collect();
        let one = m.small(1).unwrap();
        for blind in [one.clone(), m.random(&mut rng)] {
            match m.batch_invert(&xs, &blind) {
                Some(inv) => xs
                    .iter()
                    .zip(&inv)
                    .for_each(|(x, i)| assert_eq!(m.mul(x, i), one)),
                None => panic!("random values modulo a prime were not all invertible"),
            }
        }
    }

    /// n = odd(n_bytes) · odd(f_bytes) and x = x_bytes · odd(f_bytes) mod n, so x shares the
    /// factor odd(f_bytes) with n (trivially 1 when f_bytes is empty).
    fn case(n: &[u8], x: &[u8], f: &[u8]) -> (BoxedUint, BoxedUint) {
        let odd = |bytes: &[u8]| {
            let mut bytes = bytes.to_vec();
            bytes.push(1);
            BoxedUint::from_be_slice_vartime(&bytes)
        };
        let f = odd(f);
        let n = odd(n).concatenating_mul(&f);
        let nz = NonZero::new(n.clone()).unwrap();
        let x = BoxedUint::from_be_slice_vartime(x)
            .concatenating_mul(&f)
            .rem_vartime(&nz);
        (n, x)
    }

    proptest! {
        #![proptest_config(Config { cases: 96, failure_persistence: None, ..Config::default() })]

        /// The binary gcd and inversion agree with crypto-bigint's on random sizes, with and
        /// without shared factors, for values as long as n and far shorter.
        #[cfg_attr(not(target_arch = "wasm32"), test)]
        #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
        fn gcd_and_inverse_match_crypto_bigint(
            n in prop::collection::vec(any::<u8>(), 1..140),
            x in prop::collection::vec(any::<u8>(), 1..140),
            f in prop::collection::vec(any::<u8>(), 0..40),
        ) {
            let (n, x) = case(&n, &x, &f);
            let m = Modulus::new(&n).unwrap();
            let Ok(x) = m.plain(&x) else { return Ok(()); };
            let odd = n.to_odd().unwrap();
            let expect = odd.gcd_vartime(&m.integer(&x)).get() == BoxedUint::one();
            prop_assert_eq!(m.coprime(&x.0), expect);
            match m.invert_vartime(&x.0) {
                Some(inv) => {
                    prop_assert!(expect);
                    let product = m.mul(&m.mul(&x, &Residue(inv)), &m.r2);
                    prop_assert_eq!(m.integer(&product), BoxedUint::one());
                }
                None => prop_assert!(!expect),
            }
        }
    }

    proptest! {
        #![proptest_config(Config { cases: 32, failure_persistence: None, ..Config::default() })]

        /// Products, squares, Montgomery forms and nonces agree with plain big-integer
        /// arithmetic for every size up to 4096 bits.
        #[cfg_attr(not(target_arch = "wasm32"), test)]
        #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
        fn products_match_crypto_bigint_at_any_size(
            n in prop::collection::vec(any::<u8>(), 1..=512),
            a in prop::collection::vec(any::<u8>(), 1..=512),
            b in prop::collection::vec(any::<u8>(), 1..=512),
        ) {
            let mut n = n;
            let last = n.len() - 1;
            n[0] |= 0x80;
            n[last] |= 1;
            let n = BoxedUint::from_be_slice_vartime(&n);
            prop_assume!(n.bits() >= 2);
            let m = Modulus::new(&n).unwrap();
            let nz = NonZero::new(n.clone()).unwrap();
            let reduce = |v: &[u8]| BoxedUint::from_be_slice_vartime(v).rem_vartime(&nz);
            let (a, b) = (reduce(&a), reduce(&b));
            prop_assume!(a.bits() > 0 && b.bits() > 0);
            let expect = a.concatenating_mul(&b).rem_vartime(&nz);
            let (ma, mb) = (m.residue(&a).unwrap(), m.residue(&b).unwrap());
            prop_assert_eq!(m.value_of(&m.mul(&ma, &mb)), expect.clone());
            let plain = m.plain(&a).unwrap();
            prop_assert_eq!(m.integer(&m.mul(&plain, &mb)), expect);
            prop_assert_eq!(m.value_of(&ma), a.clone());
            let square = a.concatenating_mul(&a).rem_vartime(&nz);
            prop_assert_eq!(m.value_of(&m.square(&ma)), square);
            let r = m.integer(&m.nonce(&ma));
            prop_assert_eq!(m.integer(&m.square(&ma)), r.concatenating_mul(&r).rem_vartime(&nz));
        }
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn gcd_edge_cases() {
        let n = BoxedUint::from(u128::MAX >> 1); // 2^127 − 1, prime
        let m = Modulus::new(&n).unwrap();
        for v in [1u64, 2, 3, 1 << 63, u64::MAX] {
            let x = m.plain(&uint(v)).unwrap();
            assert!(m.coprime(&x.0), "{v}");
            assert!(m.invert_vartime(&x.0).is_some(), "{v}");
        }
        let top = m.plain(&BoxedUint::from((u128::MAX >> 1) - 1)).unwrap();
        assert!(m.coprime(&top.0));
        // n = 3 · 5 · 7 · … sharing small and large factors.
        let m = Modulus::new(&BoxedUint::from(3u64 * 5 * 7 * 4_294_967_311)).unwrap();
        for (v, coprime) in [
            (2u64, true),
            (3, false),
            (35, false),
            (4_294_967_311, false),
            (11, true),
        ] {
            let x = m.plain(&uint(v)).unwrap();
            assert_eq!(m.coprime(&x.0), coprime, "{v}");
            assert_eq!(m.invert_vartime(&x.0).is_some(), coprime, "{v}");
        }
    }
}

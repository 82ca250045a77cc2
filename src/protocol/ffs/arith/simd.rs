//! Montgomery products in wasm32: 27-bit digits, 64-bit accumulators, SIMD.
//!
//! With 32-bit limbs each step of a product waits for the previous step's carry, and a
//! 2048-bit product is 8192 scalar multiplies (about 5.5 µs in Chromium, against about 2 µs for
//! a `BigInt` `a * b % n`). Here the product runs on L 27-bit digits (operand scanning with the
//! Montgomery reduction interleaved): position i + j of a vector of 64-bit accumulators takes
//! a_i · b_j + m_i · n_j, two lanes per SIMD multiply (`i64x2.extmul_*_i32x4_u`), with no
//! carry at all — only position i is carried, to find m_i. A position takes at most 2 · L such terms below 2^54, so even at 4096 bits
//! (L = 152) it stays below 2^63. For the accumulator pairs to line up, b and n are packed
//! four digits to a vector twice: from digit 0 for even i and from digit −1 (a zero) for odd
//! i. Residues keep their 32-bit limbs; digits exist only inside a product, and
//! R = 2^(27 · L) for an even L (so that √R is a power of two).
//!
//! Every browser engine of the last years runs wasm SIMD (Chrome 91, Firefox 89, Safari
//! 16.4); a module that contains it fails to load in older ones.

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

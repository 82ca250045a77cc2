//! Pornin's binary gcd with 64-bit approximations: the word-sized steps and the full-width linear
//! combinations that [`Modulus::coprime`](super::Modulus) and the batched inversion run.

use super::{LIMB_BITS, Limb, STEPS, Scratch, SignedWide};

/// Outer iterations of the binary gcd that always suffice: 2 · |n| − 1 steps in all (Pornin,
/// Theorem 1), 31 per iteration, plus slack. Reaching it would mean a bug, reported as "no".
pub(super) fn max_outer(s: usize) -> usize {
    2 * s * LIMB_BITS as usize / STEPS as usize + 4
}

/// The number of low limbs that hold all of a and b (at least 1).
pub(super) fn active(a: &Scratch, b: &Scratch, mut len: usize) -> usize {
    while len > 1 && a[len - 1] == 0 && b[len - 1] == 0 {
        len -= 1;
    }
    len
}

pub(super) fn bit_length(x: &[Limb]) -> u32 {
    match x.iter().rposition(|&l| l != 0) {
        Some(i) => i as u32 * LIMB_BITS + (LIMB_BITS - x[i].leading_zeros()),
        None => 0,
    }
}

/// The low 64 bits of x.
pub(super) fn low_u64(x: &Scratch) -> u64 {
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
pub(super) fn approximate(x: &Scratch, len: usize, top: u32) -> u64 {
    if top <= 64 {
        return low_u64(x);
    }
    let high = bits_at(x, len, top - 33) & ((1 << 33) - 1);
    high << STEPS | (low_u64(x) & ((1 << STEPS) - 1))
}

/// 31 binary gcd steps on approximations (b odd): returns [f0, g0, f1, g1] such that
/// (f0 · a + g0 · b) / 2^31 and (f1 · a + g1 · b) / 2^31 are the next a and b (up to sign).
/// Runs of halvings go at once; the swap is branchless (it is a coin flip for the predictor).
pub(super) fn divsteps(mut a: u64, mut b: u64) -> [i64; 4] {
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
pub(super) fn lincomb_pair(
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
pub(super) fn shift_right(x: &mut [Limb], k: u32) {
    let len = x.len();
    for i in 0..len - 1 {
        x[i] = x[i] >> k | x[i + 1] << (LIMB_BITS - k);
    }
    let sign = x[len - 1] >> (LIMB_BITS - 1);
    x[len - 1] = x[len - 1] >> k | (sign.wrapping_neg() << (LIMB_BITS - k));
}

/// x = 1.
pub(super) fn is_one(x: &[Limb]) -> bool {
    x.first() == Some(&1) && x[1..].iter().all(|&l| l == 0)
}

pub(super) fn gcd_u64(mut a: u64, mut b: u64) -> u64 {
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

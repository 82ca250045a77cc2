//! Little-endian limb vectors: conversion from and to `BoxedUint`, comparison, and in-place
//! addition and subtraction.

use super::{LIMB_BITS, Limb, PER_WORD};
use crypto_bigint::{BoxedUint, Word};

/// The low `s` limbs of v, zero-padded (v must fit in `s` limbs).
pub(super) fn limbs_of(v: &BoxedUint, s: usize) -> Box<[Limb]> {
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
pub(super) fn uint(limbs: &[Limb]) -> BoxedUint {
    BoxedUint::from_words(limbs.chunks(PER_WORD).map(|chunk| {
        let word = chunk
            .iter()
            .rev()
            .fold(0u128, |acc, &l| acc << LIMB_BITS | u128::from(l));
        word as Word
    }))
}

/// a < b for equal-length little-endian limb slices.
pub(super) fn less(a: &[Limb], b: &[Limb]) -> bool {
    for (x, y) in a.iter().rev().zip(b.iter().rev()) {
        if x != y {
            return x < y;
        }
    }
    false
}

/// a ← a − b (mod 2^(w·len)); returns the borrow out.
pub(super) fn sub_in_place(a: &mut [Limb], b: &[Limb]) -> bool {
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
pub(super) fn add_in_place(a: &mut [Limb], b: &[Limb]) {
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

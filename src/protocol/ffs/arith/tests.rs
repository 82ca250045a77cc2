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

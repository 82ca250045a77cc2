//! Readable rounds for demo-sized moduli: every number of a round in decimal, with the formula
//! that produced it — x = ±r² mod n, y = r · ∏ s_j^{e_j} mod n and Victor's check
//! y² · ∏ I_j^{e_j} ≡ ±x — and which s_j and I_j the challenge bits select.
//!
//! The numbers are recomputed here with plain machine arithmetic — n fits in 64 bits, so every
//! product fits in a `u128` — independently of the Montgomery core (`arith`) that runs the
//! protocol: what a page shows is a second opinion on the round, not a copy of it. Only moduli of
//! at most [`MAX_EXPLAINED_BITS`] bits are explained (20 decimal digits: they fit on a screen,
//! and a projector).

use super::{BoxedUint, Challenge, Error};
use core::fmt;

/// Largest |n| whose rounds are explained (20 decimal digits).
pub const MAX_EXPLAINED_BITS: u32 = 64;

/// One factor a challenge may select: s_j on Peggy's side, I_j on Victor's.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Term {
    /// j, from 1.
    pub j: usize,
    /// The value in decimal.
    pub value: String,
    /// e_j = 1.
    pub selected: bool,
}

/// Peggy's commitment x = (−1)^σ · r² mod n.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Commit {
    pub n: String,
    pub r: String,
    pub negative: bool,
    pub x: String,
}

/// Peggy's response y = r · ∏ s_j^{e_j} mod n.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Answer {
    pub n: String,
    pub r: String,
    /// Every s_j, the selected ones marked.
    pub secrets: Vec<Term>,
    pub y: String,
}

/// How z = y² · ∏ I_j^{e_j} mod n compares with x.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// z = x: the round passes.
    PlusX,
    /// z = n − x: the round passes.
    MinusX,
    /// z ≠ ±x: the round fails.
    Fails,
}

/// Victor's check of one round.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Check {
    pub n: String,
    pub y: String,
    /// Every I_j, the selected ones marked.
    pub identifiers: Vec<Term>,
    /// z = y² · ∏ I_j^{e_j} mod n.
    pub z: String,
    pub x: String,
    pub outcome: Outcome,
}

impl Outcome {
    /// Whether the round passes.
    pub fn passed(self) -> bool {
        self != Self::Fails
    }
}

/// Works out rounds on one demo-sized n.
#[derive(Clone, Debug)]
pub struct Explainer {
    n: u64,
    n_text: String,
}

/// v as a machine word, if it has at most 64 bits.
pub fn small(v: &BoxedUint) -> Option<u64> {
    if v.bits() > 64 {
        return None;
    }
    // At most 64 bits: every byte before the last eight is zero and shifts out.
    let bytes = v.to_be_bytes();
    Some(bytes.iter().fold(0u64, |w, &b| (w << 8) | u64::from(b)))
}

/// v in decimal.
pub fn decimal(v: &BoxedUint) -> String {
    small(v).map_or_else(|| super::wire::encode(v), |v| v.to_string())
}

impl Explainer {
    /// An explainer for n, if |n| ≤ [`MAX_EXPLAINED_BITS`] (else [`Error::ModulusSize`]).
    pub fn new(n: &BoxedUint) -> Result<Self, Error> {
        match small(n) {
            Some(n) if n > 2 => Ok(Self {
                n_text: n.to_string(),
                n,
            }),
            _ => Err(Error::ModulusSize),
        }
    }

    /// n in decimal.
    pub fn n(&self) -> &str {
        &self.n_text
    }

    /// A number in decimal.
    pub fn decimal(&self, v: &BoxedUint) -> String {
        decimal(v)
    }

    /// x = (−1)^σ · r² mod n.
    pub fn commit(&self, r: &BoxedUint, negative: bool) -> Commit {
        let r_word = self.reduce(r);
        let square = self.mul(r_word, r_word);
        let x = if negative {
            self.negate(square)
        } else {
            square
        };
        Commit {
            n: self.n_text.clone(),
            r: decimal(r),
            negative,
            x: x.to_string(),
        }
    }

    /// y = r · ∏ s_j^{e_j} mod n.
    pub fn answer(&self, r: &BoxedUint, secrets: &[BoxedUint], e: &Challenge) -> Answer {
        let (y, secrets) = self.product(self.reduce(r), secrets, e);
        Answer {
            n: self.n_text.clone(),
            r: decimal(r),
            secrets,
            y: y.to_string(),
        }
    }

    /// z = y² · ∏ I_j^{e_j} mod n, compared with ±x.
    pub fn check(
        &self,
        identifiers: &[BoxedUint],
        e: &Challenge,
        x: &BoxedUint,
        y: &BoxedUint,
    ) -> Check {
        let y_word = self.reduce(y);
        let (z, identifiers) = self.product(self.mul(y_word, y_word), identifiers, e);
        // x as a peer sent it: nonzero and below n, or the round fails.
        let outcome = match small(x) {
            Some(x) if x == 0 || x >= self.n => Outcome::Fails,
            Some(x) if z == x => Outcome::PlusX,
            Some(x) if z == self.negate(x) => Outcome::MinusX,
            _ => Outcome::Fails,
        };
        Check {
            n: self.n_text.clone(),
            y: decimal(y),
            identifiers,
            z: z.to_string(),
            x: decimal(x),
            outcome,
        }
    }

    /// v mod n (a value too long for a word counts as 0: it fails every check).
    fn reduce(&self, v: &BoxedUint) -> u64 {
        small(v).map_or(0, |v| v % self.n)
    }

    /// a · b mod n, for a, b < n.
    fn mul(&self, a: u64, b: u64) -> u64 {
        // Both below n < 2^64: the product fits in 128 bits and the remainder in 64.
        (u128::from(a) * u128::from(b) % u128::from(self.n)) as u64
    }

    /// (n − v) mod n, for v < n.
    fn negate(&self, v: u64) -> u64 {
        if v == 0 { 0 } else { self.n - v }
    }

    /// start · ∏_{e_j = 1} v_j mod n, and every v_j as a term.
    fn product(&self, start: u64, values: &[BoxedUint], e: &Challenge) -> (u64, Vec<Term>) {
        let mut acc = start;
        let mut terms = Vec::with_capacity(values.len());
        for (j, (v, &selected)) in values.iter().zip(e.bits()).enumerate() {
            if selected {
                acc = self.mul(acc, self.reduce(v));
            }
            terms.push(Term {
                j: j + 1,
                value: decimal(v),
                selected,
            });
        }
        (acc, terms)
    }
}

/// j as subscript digits: 12 → "₁₂".
pub fn subscript(j: usize) -> String {
    j.to_string()
        .chars()
        .map(|c| char::from_u32(0x2080 + c.to_digit(10).unwrap_or(0)).unwrap_or(c))
        .collect()
}

fn selected_product(f: &mut fmt::Formatter<'_>, terms: &[Term]) -> fmt::Result {
    for t in terms.iter().filter(|t| t.selected) {
        write!(f, " · {}", t.value)?;
    }
    Ok(())
}

impl fmt::Display for Commit {
    /// `x = −1279² mod 553913 = 25898`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.negative { "−" } else { "" };
        write!(f, "x = {sign}{}² mod {} = {}", self.r, self.n, self.x)
    }
}

impl fmt::Display for Answer {
    /// `y = 1279 · 4646 mod 553913 = 403104`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "y = {}", self.r)?;
        selected_product(f, &self.secrets)?;
        write!(f, " mod {} = {}", self.n, self.y)
    }
}

impl fmt::Display for Check {
    /// `403104² · 124423 mod 553913 = 25898 = x ✓`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}²", self.y)?;
        selected_product(f, &self.identifiers)?;
        write!(f, " mod {} = {}", self.n, self.z)?;
        f.write_str(match self.outcome {
            Outcome::PlusX => " = x ✓",
            Outcome::MinusX => " = −x ✓",
            Outcome::Fails => " ≠ ±x ✗",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ffs::{Prover, SecretKey, Verifier};

    fn challenge(bits: &[bool]) -> Challenge {
        Challenge::from_bits(bits.to_vec()).unwrap()
    }

    /// HAC Example 10.27: r = 1279, σ = 1, e = (0, 0, 1) gives x = 25898 and y = 403104, and
    /// Victor's z = y² · I₃ = 25898 = x.
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn the_handbook_round_in_decimal() {
        let key = SecretKey::handbook_example().unwrap();
        let public = key.public_key();
        let explain = Explainer::new(public.modulus().n()).unwrap();
        assert_eq!(explain.n(), "553913");
        let prover = Prover::new(&key);
        let (round, commitment) = prover
            .commit_chosen(&BoxedUint::from(1279u64), true)
            .unwrap();
        let (r, negative) = round.nonce();
        assert_eq!((explain.decimal(&r), negative), ("1279".to_owned(), true));

        let commit = explain.commit(&r, negative);
        assert_eq!(commit.x, "25898");
        assert_eq!(
            commit.x,
            explain.decimal(commitment.x()),
            "agrees with the core"
        );
        assert_eq!(commit.to_string(), "x = −1279² mod 553913 = 25898");

        let e = challenge(&[false, false, true]);
        let answer = explain.answer(&r, &key.secret_values(), &e);
        let response = round.respond(&e).unwrap();
        assert_eq!(answer.y, "403104");
        assert_eq!(
            answer.y,
            explain.decimal(response.y()),
            "agrees with the core"
        );
        assert_eq!(answer.to_string(), "y = 1279 · 4646 mod 553913 = 403104");
        let picked: Vec<_> = answer
            .secrets
            .iter()
            .map(|t| (t.value.as_str(), t.selected))
            .collect();
        assert_eq!(picked, [("157", false), ("43215", false), ("4646", true)]);

        let check = explain.check(&public.identifiers(), &e, commitment.x(), response.y());
        assert_eq!(check.z, "25898");
        assert_eq!(check.outcome, Outcome::PlusX);
        assert_eq!(
            check.to_string(),
            "403104² · 124423 mod 553913 = 25898 = x ✓"
        );
        let ids: Vec<_> = check.identifiers.iter().map(|t| t.value.as_str()).collect();
        assert_eq!(ids, ["441845", "338402", "124423"]);
    }

    /// On random demo keys and challenges the explained numbers are the core's, and the
    /// explained check agrees with the verifier's, passing and failing alike.
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn agrees_with_the_core_on_random_rounds() {
        let mut rng = crate::rng::os_rng();
        for bits in [16, 32, 48, 64] {
            let modulus = crate::protocol::ffs::BlumModulus::generate_demo(&mut rng, bits).unwrap();
            let key = SecretKey::generate(&mut rng, &modulus, 5).unwrap();
            let public = key.public_key();
            let explain = Explainer::new(modulus.n()).unwrap();
            for _ in 0..20 {
                let (round, commitment) = Prover::new(&key).commit(&mut rng);
                let (r, negative) = round.nonce();
                assert_eq!(
                    explain.commit(&r, negative).x,
                    explain.decimal(commitment.x())
                );
                let e = Challenge::random(&mut rng, 5).unwrap();
                let answer = explain.answer(&r, &key.secret_values(), &e);
                let response = round.respond(&e).unwrap();
                assert_eq!(answer.y, explain.decimal(response.y()));
                let verifier = Verifier::new(public.clone());
                let awaiting = verifier.receive(&commitment).unwrap();
                let awaiting = awaiting.challenge_with(e.clone()).unwrap();
                assert!(awaiting.verify(&response).is_ok());
                let check = explain.check(&public.identifiers(), &e, commitment.x(), response.y());
                assert!(check.outcome.passed(), "{check}");
                // A wrong y fails both checks.
                let wrong = response.y().wrapping_add(BoxedUint::one());
                let check = explain.check(&public.identifiers(), &e, commitment.x(), &wrong);
                assert_eq!(check.outcome, Outcome::Fails, "{check}");
            }
        }
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn refuses_moduli_too_large_to_read() {
        let n = crate::protocol::ffs::wire::decode(&format!("1{}1", "0".repeat(15)), 4096).unwrap();
        assert_eq!(Explainer::new(&n).unwrap_err(), Error::ModulusSize);
        assert_eq!(subscript(12), "₁₂");
    }
}

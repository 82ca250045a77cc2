//! The readable demo mode's view of a run: a page's events (numbers and challenges as the
//! messages carried them) turned into decimal numbers and worked formulas ([`ffs::explain`]).
//!
//! Only demo-sized keys (below 1024 bits, and at most [`explain::MAX_EXPLAINED_BITS`]) get one:
//! [`Readable::for_peggy`] / [`Readable::for_victor`] return `None` for a real key, and the page
//! shows hex as before. Peggy's view holds her own secrets, to show which s_j a challenge picks;
//! it lives in her page only.

use super::{ChallengeBits, Nonce, WireNumber};
use crate::protocol::ffs::{
    self, BoxedUint, Challenge, PublicKey, SecretKey,
    explain::{Answer, Check, Commit, Explainer},
};

/// Decimal numbers and formulas for one demo-sized key.
#[derive(Clone, Debug)]
pub struct Readable {
    explainer: Explainer,
    bits: u32,
    identifiers: Vec<BoxedUint>,
    /// Peggy's s_j (her page only).
    secrets: Option<Vec<BoxedUint>>,
}

impl Readable {
    /// Peggy's view of her own demo-sized key.
    pub fn for_peggy(key: &SecretKey) -> Option<Self> {
        let mut readable = Self::for_victor(key.public_key())?;
        readable.secrets = Some(key.secret_values());
        Some(readable)
    }

    /// Victor's (or a cheating Peggy's) view of a demo-sized public key.
    pub fn for_victor(public: &PublicKey) -> Option<Self> {
        if !public.is_demo() {
            return None;
        }
        let modulus = public.modulus();
        Some(Self {
            explainer: Explainer::new(modulus.n()).ok()?,
            bits: modulus.bits(),
            identifiers: public.identifiers(),
            secrets: None,
        })
    }

    /// n in decimal.
    pub fn n(&self) -> &str {
        self.explainer.n()
    }

    /// |n| in bits.
    pub fn bits(&self) -> u32 {
        self.bits
    }

    /// The I_j in decimal.
    pub fn identifiers(&self) -> Vec<String> {
        self.identifiers
            .iter()
            .map(|i| self.explainer.decimal(i))
            .collect()
    }

    /// Peggy's s_j in decimal (none in Victor's view).
    pub fn secrets(&self) -> Vec<String> {
        self.secrets
            .iter()
            .flatten()
            .map(|s| self.explainer.decimal(s))
            .collect()
    }

    /// A number of the run in decimal (in hex if it has more bits than n, as a peer may send).
    pub fn decimal(&self, v: &WireNumber) -> String {
        self.number(v)
            .map_or_else(|| v.to_string(), |v| self.explainer.decimal(v))
    }

    /// x = ±r² mod n for a round's nonce.
    pub fn commit(&self, nonce: &Nonce) -> Option<Commit> {
        Some(
            self.explainer
                .commit(self.number(&nonce.r)?, nonce.negative),
        )
    }

    /// y = r · ∏ s_j^{e_j} mod n (Peggy's view only).
    pub fn answer(&self, nonce: &Nonce, e: &ChallengeBits) -> Option<Answer> {
        let secrets = self.secrets.as_ref()?;
        Some(
            self.explainer
                .answer(self.number(&nonce.r)?, secrets, self.challenge(e)?),
        )
    }

    /// Victor's check y² · ∏ I_j^{e_j} ≡ ±x for a round's values.
    pub fn check(&self, x: &WireNumber, e: &ChallengeBits, y: &WireNumber) -> Option<Check> {
        Some(self.explainer.check(
            &self.identifiers,
            self.challenge(e)?,
            self.number(x)?,
            self.number(y)?,
        ))
    }

    /// The number, if it has at most |n| bits (a longer one gets no formula).
    fn number<'a>(&self, v: &'a WireNumber) -> Option<&'a BoxedUint> {
        v.check_bits(self.bits).ok().map(|()| v.value())
    }

    /// The challenge, if it has this key's k bits.
    fn challenge<'a>(&self, e: &'a ChallengeBits) -> Option<&'a Challenge> {
        (e.k() == self.identifiers.len()).then(|| e.challenge())
    }
}

/// Reads a decimal r typed by a person (digits only, spaces around ignored) as a
/// nonce for `public`'s n: it must be a unit in [1, n − 1].
pub fn parse_nonce(text: &str, public: &PublicKey) -> Result<BoxedUint, String> {
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|c| c.is_ascii_digit()) {
        return Err("r must be a whole number written in decimal digits".into());
    }
    let r = text
        .parse::<u64>()
        .map(BoxedUint::from)
        .map_err(|_| "r must be less than n".to_owned())?;
    public.modulus().check_unit(&r).map_err(|e| match e {
        ffs::Error::Zero => "r must not be zero".to_owned(),
        e => format!("r: {e}"),
    })?;
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ffs::explain::Outcome;

    fn number(v: u64) -> WireNumber {
        WireNumber::new(BoxedUint::from(v))
    }

    fn bits(text: &str) -> ChallengeBits {
        ChallengeBits::parse(text).unwrap()
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn peggys_and_victors_views_of_the_handbook_round() {
        let key = SecretKey::handbook_example().unwrap();
        let peggy = Readable::for_peggy(&key).unwrap();
        let victor = Readable::for_victor(key.public_key()).unwrap();
        assert_eq!((peggy.n(), peggy.bits()), ("553913", 20));
        assert_eq!(victor.identifiers(), ["441845", "338402", "124423"]);
        assert_eq!(peggy.secrets(), ["157", "43215", "4646"]);
        assert!(victor.secrets().is_empty());

        let r = parse_nonce("1279", key.public_key()).unwrap();
        let nonce = Nonce {
            r: WireNumber::new(r),
            negative: true,
        };
        let e = bits("001");
        assert_eq!(peggy.commit(&nonce).unwrap().x, "25898");
        let answer = peggy.answer(&nonce, &e).unwrap();
        assert_eq!(answer.y, "403104");
        assert!(victor.answer(&nonce, &e).is_none(), "Victor has no secrets");
        let (x, y) = (number(25898), number(403104));
        assert_eq!(victor.decimal(&x), "25898");
        let check = victor.check(&x, &e, &y).unwrap();
        assert_eq!((check.z.as_str(), check.outcome), ("25898", Outcome::PlusX));
        // The other sign of x passes too: z = −(n − x).
        let minus_x = number(553913 - 25898);
        let check = victor.check(&minus_x, &e, &y).unwrap();
        assert_eq!(check.outcome, Outcome::MinusX);
        // Malformed input from a peer gives no formula rather than a wrong one: a challenge of
        // the wrong length or a number longer than n here; the wrong alphabet and non-hex never
        // get past the message's parse.
        assert!(victor.check(&x, &bits("01"), &y).is_none());
        assert!(ChallengeBits::parse("0a1").is_err());
        assert!(WireNumber::parse("zz").is_err());
        let too_long = WireNumber::parse(&"f".repeat(6)).unwrap();
        assert!(victor.check(&too_long, &e, &y).is_none());
        assert_eq!(victor.decimal(&too_long), "ffffff", "shown as sent");
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn only_demo_keys_are_readable() {
        let mut rng = crate::rng::os_rng();
        let modulus = ffs::BlumModulus::generate(&mut rng, 1024).unwrap();
        let key = SecretKey::generate(&mut rng, &modulus, 2).unwrap();
        assert!(Readable::for_peggy(&key).is_none());
        assert!(Readable::for_victor(key.public_key()).is_none());
        let demo = ffs::BlumModulus::generate_demo(&mut rng, 66).unwrap();
        let key = SecretKey::generate(&mut rng, &demo, 2).unwrap();
        assert!(
            Readable::for_victor(key.public_key()).is_none(),
            "too long to read"
        );
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn a_typed_nonce_is_checked() {
        let key = SecretKey::handbook_example().unwrap();
        let public = key.public_key();
        assert!(parse_nonce(" 1279 ", public).is_ok());
        for bad in [
            "",
            "-5",
            "12 79",
            "0x10",
            "0",
            "553913",
            "683",
            &"9".repeat(81),
        ] {
            assert!(parse_nonce(bad, public).is_err(), "{bad:?} accepted");
        }
        assert_eq!(parse_nonce("0", public).unwrap_err(), "r must not be zero");
        assert!(parse_nonce("553912", public).is_ok(), "n − 1 is a unit");
    }
}

//! The two kinds of value a run's messages carry, parsed once when a message is read
//! ([`super::Message::parse`]) and written back in the very same text.
//!
//! - [`WireNumber`] — x, y or a nonce r: the FFS core's canonical lowercase hex
//!   ([`ffs::wire`]), at most [`ffs::MAX_BITS`] bits. The text's length is bounded before a
//!   digit is read, so a hostile megabyte of hex costs a length comparison.
//! - [`ChallengeBits`] — e (or a cheater's bet ê): 1 to [`ffs::MAX_K`] characters `0`/`1`,
//!   e_1 first, bounded the same way.
//!
//! What a value must be for one run (at most |n| bits, in [1, n − 1], exactly k bits) depends
//! on the key, so the referee and Victor check that on the parsed value.

use crate::protocol::ffs::{self, BlumModulus, BoxedUint, Challenge, wire};
use core::{fmt, hash, marker::PhantomData};
use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

/// A big number of a message (see the module documentation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WireNumber(BoxedUint);

/// A challenge of a message: k bits, 1 ≤ k ≤ 64 (see the module documentation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChallengeBits(Challenge);

impl WireNumber {
    /// A number to send.
    pub fn new(value: BoxedUint) -> Self {
        Self(value)
    }

    /// Reads the canonical hex text of a number of at most 4096 bits, refusing a longer text
    /// before decoding it ([`ffs::Error::TooLong`]) and any other form
    /// ([`ffs::Error::NonCanonical`]).
    pub fn parse(text: &str) -> Result<Self, ffs::Error> {
        wire::decode(text, ffs::MAX_BITS).map(Self)
    }

    /// The number.
    pub fn value(&self) -> &BoxedUint {
        &self.0
    }

    /// The number, owned.
    pub fn into_value(self) -> BoxedUint {
        self.0
    }

    /// Its length in bits (0 for zero).
    pub fn bits(&self) -> u32 {
        self.0.bits()
    }

    /// Whether it fits a number of at most `max_bits` bits ([`ffs::Error::TooLong`] if not).
    pub fn check_bits(&self, max_bits: u32) -> Result<(), ffs::Error> {
        if self.bits() > max_bits {
            Err(ffs::Error::TooLong)
        } else {
            Ok(())
        }
    }

    /// Checks it for a run modulo n: at most |n| bits, in [1, n − 1].
    pub fn check_range(&self, n: &BlumModulus) -> Result<(), ffs::Error> {
        self.check_bits(n.bits())?;
        n.check_range(&self.0)
    }

    /// Its big-endian bytes without leading zeros: one byte string per value, whatever the
    /// width it was computed in (what repeat detection compares).
    pub fn canonical_bytes(&self) -> Box<[u8]> {
        self.0.to_be_bytes_trimmed_vartime()
    }
}

impl ChallengeBits {
    /// Reads 1 to 64 characters `0`/`1`, refusing a longer text before reading it.
    pub fn parse(text: &str) -> Result<Self, ffs::Error> {
        if text.len() > ffs::MAX_K {
            return Err(ffs::Error::ChallengeLength);
        }
        let bits = text.bytes().map(|c| match c {
            b'0' => Ok(false),
            b'1' => Ok(true),
            _ => Err(ffs::Error::ChallengeLength),
        });
        Challenge::from_bits(bits.collect::<Result<_, _>>()?).map(Self)
    }

    /// The challenge.
    pub fn challenge(&self) -> &Challenge {
        &self.0
    }

    /// Its number of bits k.
    pub fn k(&self) -> usize {
        self.0.k()
    }
}

impl From<Challenge> for ChallengeBits {
    fn from(challenge: Challenge) -> Self {
        Self(challenge)
    }
}

/// The canonical hex text, as sent.
impl fmt::Display for WireNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&wire::encode(&self.0))
    }
}

/// The bits as `0`/`1`, e_1 first, as sent.
impl fmt::Display for ChallengeBits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0
            .bits()
            .iter()
            .try_for_each(|&b| f.write_str(if b { "1" } else { "0" }))
    }
}

// Equal values hash alike: `Eq` compares values, not the width they are stored in.
impl hash::Hash for WireNumber {
    fn hash<H: hash::Hasher>(&self, state: &mut H) {
        self.canonical_bytes().hash(state);
    }
}

impl hash::Hash for ChallengeBits {
    fn hash<H: hash::Hasher>(&self, state: &mut H) {
        self.0.bits().hash(state);
    }
}

/// A value whose wire form is one JSON string.
pub(super) trait WireText: Sized {
    /// What the string must be, for serde's "expected …" errors.
    const EXPECTING: &'static str;

    fn parse_text(text: &str) -> Result<Self, ffs::Error>;
}

impl WireText for WireNumber {
    const EXPECTING: &'static str =
        "a lowercase hex number without leading zeros, at most 4096 bits";

    fn parse_text(text: &str) -> Result<Self, ffs::Error> {
        Self::parse(text)
    }
}

impl WireText for ChallengeBits {
    const EXPECTING: &'static str = "a string of 1 to 64 characters 0 or 1";

    fn parse_text(text: &str) -> Result<Self, ffs::Error> {
        Self::parse(text)
    }
}

/// A value read from its string with [`WireText::parse_text`], the outcome kept: whoever holds
/// it knows which round of which message it belongs to, and says so when it is refused.
#[derive(Debug)]
pub(super) struct Lexed<T>(pub(super) Result<T, ffs::Error>);

struct TextVisitor<T>(PhantomData<T>);

impl<T: WireText> de::Visitor<'_> for TextVisitor<T> {
    type Value = Lexed<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(T::EXPECTING)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Lexed<T>, E> {
        Ok(Lexed(T::parse_text(text)))
    }
}

impl<'de, T: WireText> Deserialize<'de> for Lexed<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(TextVisitor(PhantomData))
    }
}

fn deserialize_text<'de, T: WireText, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
    Lexed::<T>::deserialize(d)?.0.map_err(de::Error::custom)
}

impl<'de> Deserialize<'de> for WireNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize_text(d)
    }
}

impl<'de> Deserialize<'de> for ChallengeBits {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize_text(d)
    }
}

impl Serialize for WireNumber {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl Serialize for ChallengeBits {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::identify::Message;
    use std::collections::HashSet;

    fn message_error(text: &str) -> String {
        Message::parse(text, usize::MAX)
            .map(|m| format!("accepted: {m:?}"))
            .unwrap_or_else(|e| e.message().to_owned())
    }

    /// Each typed message reads from and writes back to the very text the untyped ones did.
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn typed_messages_keep_their_json_text() {
        let y_hex = "ff0000000000000000000000000000000000000001";
        let y = BoxedUint::from_be_hex(&format!("000000{y_hex}"), 192).unwrap();
        let cases = [
            (
                Message::Commit {
                    round: 1,
                    x: WireNumber::new(BoxedUint::from(0x1a2b3cu64)),
                },
                r#"{"type":"commit","round":1,"x":"1a2b3c"}"#,
            ),
            (
                Message::Challenge {
                    round: 2,
                    e: ChallengeBits::parse("01101").unwrap(),
                },
                r#"{"type":"challenge","round":2,"e":"01101"}"#,
            ),
            (
                Message::Response {
                    round: 3,
                    y: WireNumber::new(y.clone()),
                },
                r#"{"type":"response","round":3,"y":"ff0000000000000000000000000000000000000001"}"#,
            ),
        ];
        for (message, text) in cases {
            assert_eq!(message.to_json(), text);
            let parsed = Message::parse(text, usize::MAX).unwrap();
            assert_eq!(parsed.to_json(), text, "round trip");
            // serde's own path reads the same values.
            let direct: Message = serde_json::from_str(text).unwrap();
            assert_eq!(direct.to_json(), text);
        }
        match Message::parse(
            r#"{"type":"response","round":3,"y":"ff0000000000000000000000000000000000000001"}"#,
            1024,
        ) {
            Ok(Message::Response { round: 3, y: got }) => {
                assert_eq!(got.value(), &y);
                assert_eq!(got.to_string(), y_hex);
            }
            other => panic!("{other:?}"),
        }
        match Message::parse(r#"{"type":"challenge","round":2,"e":"01101"}"#, 1024) {
            Ok(Message::Challenge { e, .. }) => {
                assert_eq!(e.challenge().bits(), [false, true, true, false, true]);
                assert_eq!(e.k(), 5);
            }
            other => panic!("{other:?}"),
        }
        // A value computed in a wider number writes the same text and is the same value.
        let wide = WireNumber::new(BoxedUint::from_be_slice(&[0x1a, 0x2b, 0x3c], 1024).unwrap());
        let narrow = WireNumber::parse("1a2b3c").unwrap();
        assert_eq!(wide.to_string(), "1a2b3c");
        assert_eq!(wide, narrow);
        assert_eq!(HashSet::from([wide]).len(), HashSet::from([narrow]).len());
        assert_eq!(WireNumber::new(BoxedUint::zero()).to_string(), "0");
    }

    /// A hostile length is refused by comparing lengths: ten million non-hex characters give
    /// `TooLong`, not `NonCanonical`, so no digit was decoded and nothing was allocated for
    /// them. (`Message::parse` also bounds the whole text by its `max_bytes`.)
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn an_oversize_number_or_challenge_is_refused_by_its_length_before_decoding() {
        let huge = "z".repeat(10_000_000);
        assert_eq!(WireNumber::parse(&huge), Err(ffs::Error::TooLong));
        assert_eq!(
            message_error(&format!(r#"{{"type":"commit","round":1,"x":"{huge}"}}"#)),
            "x of round 1 is invalid: number has more bits than the modulus allows"
        );
        assert_eq!(
            ChallengeBits::parse(&"2".repeat(10_000_000)),
            Err(ffs::Error::ChallengeLength)
        );
        // The bounds themselves: 4096 bits and 64 challenge bits.
        let max = "f".repeat(1024);
        assert_eq!(WireNumber::parse(&max).map(|v| v.bits()), Ok(4096));
        assert_eq!(
            WireNumber::parse(&format!("1{max}")),
            Err(ffs::Error::TooLong)
        );
        assert_eq!(
            message_error(&format!(r#"{{"type":"response","round":2,"y":"1{max}"}}"#)),
            "y of round 2 is invalid: number has more bits than the modulus allows"
        );
        assert_eq!(ChallengeBits::parse(&"1".repeat(64)).map(|e| e.k()), Ok(64));
        assert_eq!(
            message_error(&format!(
                r#"{{"type":"challenge","round":1,"e":"{}"}}"#,
                "1".repeat(65)
            )),
            "the challenge of round 1 is invalid: challenge must be exactly k characters of 0 or 1"
        );
    }

    /// A malformed value is refused when its message is read, with its round named.
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn malformed_numbers_and_challenges_are_refused_naming_their_round() {
        let not_canonical = "number is not in canonical lowercase hex without leading zeros";
        for x in [
            "", "00", "01", "0x1", "1A", "-1", "+1", " 1", "1 ", "g", "１",
        ] {
            assert_eq!(
                message_error(&format!(r#"{{"type":"commit","round":4,"x":"{x}"}}"#)),
                format!("x of round 4 is invalid: {not_canonical}"),
                "{x:?}"
            );
            assert!(WireNumber::parse(x).is_err());
        }
        assert_eq!(
            message_error(r#"{"type":"response","round":2,"y":"5g"}"#),
            format!("y of round 2 is invalid: {not_canonical}")
        );
        for e in ["", "10201", "1o1", "1 1", "0b1"] {
            assert_eq!(
                message_error(&format!(r#"{{"type":"challenge","round":3,"e":"{e}"}}"#)),
                "the challenge of round 3 is invalid: challenge must be exactly k characters of 0 \
                 or 1",
                "{e:?}"
            );
        }
        // Not a string at all: the message's shape is wrong.
        for text in [
            r#"{"type":"commit","round":1,"x":5}"#,
            r#"{"type":"challenge","round":1,"e":[0,1]}"#,
            r#"{"type":"response","round":1,"y":null}"#,
        ] {
            assert!(
                message_error(text).starts_with("malformed message"),
                "{text}: {}",
                message_error(text)
            );
        }
        // serde's own path refuses them too.
        assert!(
            serde_json::from_str::<Message>(r#"{"type":"commit","round":4,"x":"01"}"#).is_err()
        );
        assert!(
            serde_json::from_str::<Message>(r#"{"type":"challenge","round":1,"e":"12"}"#).is_err()
        );
    }
}

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

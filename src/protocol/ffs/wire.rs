//! The wire format: serde types and the one canonical encoding of big numbers.
//!
//! **Big numbers** are lowercase hexadecimal strings, most significant digit first, without a
//! leading zero (zero itself is `"0"`, which every FFS field then refuses as [`Error::Zero`]).
//! No sign, prefix, whitespace or uppercase. A decoder first bounds the string's length (at
//! most ⌈4096/4⌉ = 1024 digits, then at most |n| bits once n is known) and only then parses it.
//! **Challenges** are strings of k characters `0`/`1`, e_1 first. A public key is
//! `{"n": hex, "k": k, "i": [hex; k]}`, a commitment `{"x": hex}`, a challenge `{"e": "0110…"}`
//! and a response `{"y": hex}`.

use super::{Error, modulus::MAX_BITS};
use crypto_bigint::BoxedUint;
use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

/// Encodes `v` canonically: lowercase hex, no leading zeros, `"0"` for zero.
pub fn encode(v: &BoxedUint) -> String {
    let out = crate::protocol::hex::encode(&v.to_be_bytes_trimmed_vartime());
    let trimmed = out.trim_start_matches('0');
    if trimmed.is_empty() {
        "0".to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// Decodes a canonical hex number of at most `max_bits` bits. The length bound is checked
/// before any digit is parsed; non-canonical forms are [`Error::NonCanonical`].
pub fn decode(text: &str, max_bits: u32) -> Result<BoxedUint, Error> {
    if text.len() > max_bits.div_ceil(4) as usize {
        return Err(Error::TooLong);
    }
    match text.as_bytes() {
        [] | [b'0', _, ..] => return Err(Error::NonCanonical),
        _ => {}
    }
    if !crate::protocol::hex::is_lower(text) {
        return Err(Error::NonCanonical);
    }
    // An odd number of digits has an implied leading zero.
    let bytes = if text.len() % 2 == 1 {
        ::hex::decode(format!("0{text}"))
    } else {
        ::hex::decode(text)
    }
    .map_err(|_| Error::NonCanonical)?;
    let value = BoxedUint::from_be_slice_vartime(&bytes);
    if value.bits() > max_bits {
        return Err(Error::TooLong);
    }
    Ok(value)
}

/// serde adapter for one big number in the canonical encoding (bounded by 4096 bits).
pub(super) mod hex {
    use super::*;

    pub(in super::super) fn serialize<S: Serializer>(
        v: &BoxedUint,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_str(&encode(v))
    }

    pub(in super::super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BoxedUint, D::Error> {
        d.deserialize_str(HexVisitor)
    }
}

/// serde adapter for a list of big numbers (the identifiers I_j).
pub(super) mod hex_list {
    use super::*;

    pub(in super::super) fn serialize<S: Serializer>(
        vs: &[BoxedUint],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(vs.iter().map(encode))
    }

    pub(in super::super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<BoxedUint>, D::Error> {
        d.deserialize_seq(ListVisitor)
    }
}

struct HexVisitor;

impl de::Visitor<'_> for HexVisitor {
    type Value = BoxedUint;

    fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("a lowercase hex number without leading zeros, at most 4096 bits")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<BoxedUint, E> {
        decode(text, MAX_BITS).map_err(E::custom)
    }
}

/// One wire element of a list: a hex number.
struct HexElement(BoxedUint);

impl<'de> Deserialize<'de> for HexElement {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(HexVisitor).map(HexElement)
    }
}

struct ListVisitor;

impl<'de> de::Visitor<'de> for ListVisitor {
    type Value = Vec<BoxedUint>;

    fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("a list of at most 64 hex numbers")
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(HexElement(v)) = seq.next_element()? {
            if out.len() == super::keys::MAX_K {
                return Err(de::Error::custom(Error::KeyCount));
            }
            out.push(v);
        }
        Ok(out)
    }
}

/// A public key as sent: validated into a [`super::PublicKey`] by `TryFrom`.
#[derive(Serialize, Deserialize)]
pub(super) struct PublicKeyWire {
    #[serde(with = "hex")]
    pub(super) n: BoxedUint,
    pub(super) k: u8,
    #[serde(with = "hex_list")]
    pub(super) i: Vec<BoxedUint>,
}

/// A challenge as sent: a string of `0`/`1`, validated into a [`super::Challenge`].
#[derive(Serialize, Deserialize)]
pub(super) struct ChallengeWire {
    pub(super) e: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn canonical_hex_round_trips() {
        for v in [1u64, 15, 16, 255, 256, 553_913, u64::MAX] {
            let text = encode(&BoxedUint::from(v));
            assert_eq!(text, format!("{v:x}"));
            assert_eq!(decode(&text, 64).unwrap(), BoxedUint::from(v));
        }
        assert_eq!(encode(&BoxedUint::zero()), "0");
        assert_eq!(decode("0", 64).unwrap().bits(), 0);
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn non_canonical_forms_are_refused() {
        for bad in [
            "", "00", "01", "0x1", "1A", "-1", "+1", " 1", "1 ", "1\n", "g", "１",
        ] {
            assert_eq!(decode(bad, 64).unwrap_err(), Error::NonCanonical, "{bad:?}");
        }
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn length_is_bounded_before_parsing() {
        assert_eq!(decode("1ffff", 16).unwrap_err(), Error::TooLong);
        assert_eq!(decode("1ffff", 17).unwrap().bits(), 17);
        // Too long even though it is not hex at all: the bound comes first.
        assert_eq!(
            decode(&"z".repeat(1025), MAX_BITS).unwrap_err(),
            Error::TooLong
        );
        let json = format!("\"{}\"", "f".repeat(1025));
        let mut de = serde_json::Deserializer::from_str(&json);
        assert!(hex::deserialize(&mut de).is_err());
    }
}

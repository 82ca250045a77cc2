//! Lowercase hex, the one text form of every byte string the protocols exchange (SPAKE2
//! messages, digests, uuids, seat secrets), on the `hex` crate. Big numbers have their own
//! canonical form ([`super::ffs::wire`]).

/// `bytes` as lowercase hex.
pub fn encode(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// Whether `text` is only lowercase hex digits.
pub fn is_lower(text: &str) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Fills `out` from `text`, which must be exactly `2 · out.len()` lowercase hex digits.
pub fn decode_lower(text: &str, out: &mut [u8]) -> Option<()> {
    if !is_lower(text) {
        return None;
    }
    hex::decode_to_slice(text, out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn one_form_only() {
        assert_eq!(encode(&[0x00, 0xab, 0x7f]), "00ab7f");
        let mut out = [0u8; 3];
        assert_eq!(decode_lower("00ab7f", &mut out), Some(()));
        assert_eq!(out, [0x00, 0xab, 0x7f]);
        for bad in ["00AB7F", "00ab7", "00ab7f00", "00ab7g", " 0ab7f"] {
            assert_eq!(decode_lower(bad, &mut out), None, "{bad}");
        }
        assert!(is_lower("") && !is_lower("A"));
    }
}

//! A Peggy's seat secret: 32 bytes from the OS CSPRNG, handed to her once (as 64 lowercase hex
//! digits) by `register_peggy`; only she can open `/ws/identify/peggy` with it. The server keeps
//! the SHA-256 of the 32 bytes, never the secret, and compares digests in constant time.

use crate::protocol::hex;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Bytes in a secret.
pub const SECRET_BYTES: usize = 32;

/// A new secret (64 lowercase hex digits) and the digest to store.
pub fn generate() -> (String, [u8; 32]) {
    use crate::protocol::ffs::rand_core::Rng;
    let mut bytes = [0u8; SECRET_BYTES];
    crate::rng::os_rng().fill_bytes(&mut bytes);
    (hex::encode(&bytes), digest(&bytes))
}

fn digest(bytes: &[u8; SECRET_BYTES]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// The 32 bytes of a secret in its one text form (64 lowercase hex digits), else `None`.
fn decode(text: &str) -> Option<[u8; SECRET_BYTES]> {
    let mut bytes = [0u8; SECRET_BYTES];
    hex::decode_lower(text, &mut bytes)?;
    Some(bytes)
}

/// Whether `given` opens the seat whose stored digest is `stored`. A missing or malformed secret,
/// and a Peggy that does not exist, are all simply "no", after the same work: a digest and one
/// constant-time comparison.
pub fn opens(given: Option<&str>, stored: Option<&[u8]>) -> bool {
    let decoded = given.and_then(decode);
    let presented = digest(&decoded.unwrap_or([0; SECRET_BYTES]));
    let expected = stored.unwrap_or(&[0xff; 32]);
    let equal: bool = presented.as_slice().ct_eq(expected).into();
    equal && decoded.is_some() && stored.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_secret_itself_opens_the_seat() {
        let (secret, stored) = generate();
        assert_eq!(secret.len(), 64);
        assert!(
            secret
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        );
        assert_ne!(hex::encode(&stored), secret, "the digest is not the secret");
        assert!(opens(Some(&secret), Some(&stored)));
        let (other, _) = generate();
        let mut flipped = secret.clone().into_bytes();
        flipped[63] = if flipped[63] == b'0' { b'1' } else { b'0' };
        let flipped = String::from_utf8(flipped).unwrap();
        for wrong in [
            None,
            Some(""),
            Some(other.as_str()),
            Some(flipped.as_str()),
            Some(&secret[..62]),
            Some(&*format!("{secret}00")),
            Some(&*secret.to_uppercase()),
            Some(&*hex::encode(&stored)),
        ] {
            assert!(!opens(wrong, Some(&stored)), "{wrong:?}");
        }
        // No Peggy: nothing opens, not even the digest of all zeros.
        assert!(!opens(Some(&"0".repeat(64)), None));
        assert!(!opens(None, None));
        // A stored digest of the wrong length never matches.
        assert!(!opens(Some(&secret), Some(&stored[..31])));
    }
}

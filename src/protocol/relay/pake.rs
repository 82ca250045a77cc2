//! SPAKE2 over Ed25519 between sender (A) and recipient (B), key confirmation and data keys.

use super::{Code, Error};
use crate::protocol::hex;
use hkdf::Hkdf;
use rand_core::{CryptoRng, RngCore};
use sha2::{Digest, Sha256};
use spake2::{Ed25519Group, Identity, Password, Spake2};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// The group name on the wire.
pub const CURVE: &str = "ed25519";
const ID_SENDER: &[u8] = b"zkrelay-sender";
const ID_RECIPIENT: &[u8] = b"zkrelay-recipient";
const MESSAGE_LEN: usize = 33;

/// Checks the `curve` value of the wire.
pub fn check_curve(curve: &str) -> Result<(), Error> {
    if curve == CURVE {
        Ok(())
    } else {
        Err(Error::Curve)
    }
}

/// The sender's half of the exchange, waiting for `y`.
pub struct SenderPake(Spake2<Ed25519Group>);
/// The recipient's half of the exchange, waiting for `x`.
pub struct RecipientPake(Spake2<Ed25519Group>);

impl SenderPake {
    /// Starts side A; returns the state and `x` (hex).
    pub fn start<R: RngCore + CryptoRng>(rng: R, code: &Code) -> (Self, String) {
        let (state, msg) = Spake2::<Ed25519Group>::start_a_with_rng(
            &Password::new(code.as_bytes()),
            &Identity::new(ID_SENDER),
            &Identity::new(ID_RECIPIENT),
            rng,
        );
        (Self(state), hex::encode(&msg))
    }

    /// Finishes with the recipient's `y` (hex).
    pub fn finish(self, y: &str) -> Result<SharedKey, Error> {
        let msg = decode_message(y, b'B')?;
        finish(self.0, &msg)
    }
}

impl RecipientPake {
    /// Starts side B; returns the state and `y` (hex).
    pub fn start<R: RngCore + CryptoRng>(rng: R, code: &Code) -> (Self, String) {
        let (state, msg) = Spake2::<Ed25519Group>::start_b_with_rng(
            &Password::new(code.as_bytes()),
            &Identity::new(ID_SENDER),
            &Identity::new(ID_RECIPIENT),
            rng,
        );
        (Self(state), hex::encode(&msg))
    }

    /// Finishes with the sender's `x` (hex).
    pub fn finish(self, x: &str) -> Result<SharedKey, Error> {
        let msg = decode_message(x, b'A')?;
        finish(self.0, &msg)
    }
}

fn finish(state: Spake2<Ed25519Group>, msg: &[u8]) -> Result<SharedKey, Error> {
    let mut key = state.finish(msg).map_err(|_| Error::BadMessage)?;
    let mut k = [0u8; 32];
    if key.len() != k.len() {
        key.zeroize();
        return Err(Error::BadMessage);
    }
    k.copy_from_slice(&key);
    key.zeroize();
    Ok(SharedKey(k))
}

/// Which way data flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    SenderToRecipient,
    RecipientToSender,
}

/// The SPAKE2 key k. Zeroized on drop; only digests of it and keys derived from it leave.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct SharedKey([u8; 32]);

impl std::fmt::Debug for SharedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedKey(<hidden>)")
    }
}

impl SharedKey {
    /// `h_k` = hex(SHA-256(k)): the sender publishes it.
    pub fn h_k(&self) -> String {
        hex::encode(&Sha256::digest(self.0))
    }

    /// `hh_k` = hex(SHA-256(SHA-256(k))): the recipient publishes it.
    pub fn hh_k(&self) -> String {
        hex::encode(&Sha256::digest(Sha256::digest(self.0)))
    }

    /// The sender's check of the recipient's `hh_k`.
    pub fn confirm_hh_k(&self, hh_k: &str) -> Result<(), Error> {
        confirm(&self.hh_k(), hh_k)
    }

    /// The recipient's check of the sender's `h_k`.
    pub fn confirm_h_k(&self, h_k: &str) -> Result<(), Error> {
        confirm(&self.h_k(), h_k)
    }

    /// The 32-byte AES-256-GCM key for one direction of `channel`: HKDF-SHA256 from k.
    pub fn data_key(&self, channel: &str, direction: Direction) -> [u8; 32] {
        let label: &[u8] = match direction {
            Direction::SenderToRecipient => b"zkrelay v2 aes-256-gcm sender->recipient ",
            Direction::RecipientToSender => b"zkrelay v2 aes-256-gcm recipient->sender ",
        };
        let info = [label, channel.as_bytes()].concat();
        let mut out = [0u8; 32];
        // 32 bytes is always a valid HKDF-SHA256 output length.
        let _ = Hkdf::<Sha256>::new(None, &self.0).expand(&info, &mut out);
        out
    }

    /// The key of one direction of one version-3 data connection: HKDF-SHA256 from k with salt
    /// `sender_nonce ‖ recipient_nonce` (each side's fresh random bytes for this connection) and
    /// info `"zkrelay v3 aes-256-gcm {direction} " ‖ channel`. The channel and k name the
    /// transfer; the nonces make every connection's keys new, so frame counters restart at 0
    /// under a key never used before, and frames of one connection open on no other.
    pub fn connection_key(
        &self,
        channel: &str,
        direction: Direction,
        sender_nonce: &[u8],
        recipient_nonce: &[u8],
    ) -> [u8; 32] {
        let label: &[u8] = match direction {
            Direction::SenderToRecipient => b"zkrelay v3 aes-256-gcm sender->recipient ",
            Direction::RecipientToSender => b"zkrelay v3 aes-256-gcm recipient->sender ",
        };
        let info = [label, channel.as_bytes()].concat();
        let salt = [sender_nonce, recipient_nonce].concat();
        let mut out = [0u8; 32];
        let _ = Hkdf::<Sha256>::new(Some(&salt), &self.0).expand(&info, &mut out);
        out
    }
}

fn confirm(expected: &str, got: &str) -> Result<(), Error> {
    if got.len() != 64 || !hex::is_lower(got) {
        return Err(Error::BadDigest);
    }
    if bool::from(expected.as_bytes().ct_eq(got.as_bytes())) {
        Ok(())
    } else {
        Err(Error::WrongCode)
    }
}

fn decode_message(text: &str, side: u8) -> Result<Vec<u8>, Error> {
    if text.len() != MESSAGE_LEN * 2 {
        return Err(Error::BadMessage);
    }
    let mut bytes = vec![0u8; MESSAGE_LEN];
    hex::decode_lower(text, &mut bytes).ok_or(Error::BadMessage)?;
    if bytes.first() != Some(&side) {
        return Err(Error::BadMessage);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::OsRng;

    fn exchange(a: &Code, b: &Code) -> (SharedKey, SharedKey) {
        let (sender, x) = SenderPake::start(OsRng, a);
        let (recipient, y) = RecipientPake::start(OsRng, b);
        assert_eq!((x.len(), &x[..2], &y[..2]), (66, "41", "42"));
        (sender.finish(&y).unwrap(), recipient.finish(&x).unwrap())
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn same_code_same_key_and_confirmation_passes() {
        let code = Code::generate(&mut OsRng);
        let (ka, kb) = exchange(&code, &code);
        ka.confirm_hh_k(&kb.hh_k()).unwrap();
        kb.confirm_h_k(&ka.h_k()).unwrap();
        let c = "4821";
        assert_eq!(
            ka.data_key(c, Direction::SenderToRecipient),
            kb.data_key(c, Direction::SenderToRecipient)
        );
        assert_ne!(
            ka.data_key(c, Direction::SenderToRecipient),
            ka.data_key(c, Direction::RecipientToSender)
        );
        assert_ne!(
            ka.data_key(c, Direction::SenderToRecipient),
            ka.data_key("4822", Direction::SenderToRecipient)
        );
        // Each connection's nonces give it keys of its own, distinct from version 2's.
        let (r1, r2) = ([1u8; 32], [2u8; 32]);
        let s2r = Direction::SenderToRecipient;
        assert_eq!(
            ka.connection_key(c, s2r, &r1, &r2),
            kb.connection_key(c, s2r, &r1, &r2)
        );
        for other in [
            ka.connection_key(c, s2r, &r2, &r1),
            ka.connection_key(c, s2r, &r1, &r1),
            ka.connection_key(c, Direction::RecipientToSender, &r1, &r2),
            ka.connection_key("4822", s2r, &r1, &r2),
            ka.data_key(c, s2r),
        ] {
            assert_ne!(ka.connection_key(c, s2r, &r1, &r2), other);
        }
        // The data key is not H(k), which the relay sees.
        assert_ne!(
            hex::encode(&ka.data_key(c, Direction::SenderToRecipient)),
            ka.h_k()
        );
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn a_wrong_code_fails_confirmation_on_both_sides() {
        let (ka, kb) = exchange(
            &Code::parse("comet-maple-otter-tulip").unwrap(),
            &Code::parse("comet-maple-otter-tiger").unwrap(),
        );
        assert_eq!(ka.confirm_hh_k(&kb.hh_k()).unwrap_err(), Error::WrongCode);
        assert_eq!(kb.confirm_h_k(&ka.h_k()).unwrap_err(), Error::WrongCode);
        assert_eq!(ka.confirm_hh_k("00").unwrap_err(), Error::BadDigest);
        assert_eq!(
            ka.confirm_hh_k(&"G".repeat(64)).unwrap_err(),
            Error::BadDigest
        );
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn malformed_or_swapped_messages_are_refused() {
        let code = Code::generate(&mut OsRng);
        let (_, x) = SenderPake::start(OsRng, &code);
        let (_, y) = RecipientPake::start(OsRng, &code);
        let fresh = || SenderPake::start(OsRng, &code).0;
        assert_eq!(
            fresh().finish(&x).unwrap_err(),
            Error::BadMessage,
            "own side's message"
        );
        assert_eq!(fresh().finish(&y[..64]).unwrap_err(), Error::BadMessage);
        assert_eq!(
            fresh().finish(&y.to_uppercase()).unwrap_err(),
            Error::BadMessage
        );
        assert_eq!(
            fresh().finish(&format!("{y}00")).unwrap_err(),
            Error::BadMessage
        );
        assert_eq!(check_curve("p256").unwrap_err(), Error::Curve);
        check_curve("ed25519").unwrap();
        // A tampered y still decodes as a point or not; either way the keys no longer confirm.
        let (sender, x) = SenderPake::start(OsRng, &code);
        let (recipient, y) = RecipientPake::start(OsRng, &code);
        let mut bad = y.into_bytes();
        bad[10] = if bad[10] == b'0' { b'1' } else { b'0' };
        let bad = String::from_utf8(bad).unwrap();
        let kb = recipient.finish(&x).unwrap();
        match sender.finish(&bad) {
            Ok(ka) => assert_eq!(ka.confirm_hh_k(&kb.hh_k()).unwrap_err(), Error::WrongCode),
            Err(e) => assert_eq!(e, Error::BadMessage),
        }
    }
}

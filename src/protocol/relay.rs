//! Relay cryptography, pure: the shared code, SPAKE2 with key confirmation, per-direction data
//! keys, the encrypted frame stream, and received file names.
//!
//! - [`Code`] — four words from a 256-word list; the SPAKE2 password. [`phrase`] joins it to the
//!   public channel name for people to read aloud.
//! - [`SenderPake`] / [`RecipientPake`] — SPAKE2 over Ed25519 (the `spake2` crate, compatible with
//!   python-spake2 0.9), sender = side A, recipient = side B; messages travel as hex (`x`, `y`).
//! - [`SharedKey`] — k: `h_k` = hex(SHA-256(k)), `hh_k` = hex(SHA-256(SHA-256(k))) for key
//!   confirmation through the relay; data keys by HKDF-SHA256 from k itself, bound to the channel.
//! - [`Sealer`] / [`Opener`] / [`FrameReader`] — AES-256-GCM frames with counter nonces and an
//!   authenticated final flag: replayed, reordered, truncated or altered data is an error.
//!   [`Sequence`] holds the frame rules for the browser's WebCrypto backend too.
//! - [`Header`] — the first frame: a text, one file or (stream version 2) several files, whose
//!   [`Manifest`] follows, checked whole before anything is written.
//! - [`receive_link`] / [`phrase_from_fragment`] — the link a QR code carries (the phrase in its
//!   fragment, never sent to the server); [`complete`] — Tab completion of a phrase's words.
//! - [`sanitize_filename`] — a received name reduced to a safe single component.
//! - [`data_hello`], [`Answer`], [`Ack`], [`Resume`] and [`Trailer`] — the data connection's own
//!   messages. (The HTTP steps up to a confirmed
//!   key are `api::relay::handshake`.)
//!
//! Randomness comes from the caller (`rand_core` 0.6, as `spake2` uses).

mod code;
mod data;
mod filename;
mod frame;
mod header;
mod link;
mod manifest;
mod pake;

pub use code::{
    CHANNEL_NAMES, Code, Completion, MAX_CODE_TEXT, PHRASE_WORDS, WORDLIST, WORDS, channel_name,
    complete, is_channel_name, phrase, split_phrase,
};
pub use data::{
    Ack, Answer, CONNECTION_NONCE, DATA_VERSION, MAX_CONTROL, RESUMABLE_DATA_VERSION, Resume,
    Trailer, data_hello, resumable_data_hello,
};
pub use filename::{MAX_FILENAME_BYTES, is_hidden_char, sanitize_filename, shorten_filename};
pub use frame::{
    FRAME_OVERHEAD, Frame, FrameParams, FrameReader, MAX_FRAME_CIPHERTEXT, MAX_FRAME_PLAINTEXT,
    Opener, PREFIX_LEN, Prefix, Sealer, Sequence,
};
pub use header::{Header, MAX_HEADER, STREAM_VERSION};
pub use link::{RECEIVE_PATH, phrase_from_fragment, receive_link};
pub use manifest::{
    Entry, MAX_DEPTH, MAX_ENTRIES, MAX_MANIFEST_BYTES, MODE_BITS, Manifest, ManifestError, Refusal,
};
pub use pake::{CURVE, Direction, RecipientPake, SenderPake, SharedKey, check_curve};

/// Why a relay step failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("the code is four words from the list, e.g. comet-maple-otter-tulip")]
    BadCode,
    #[error("unsupported curve: only ed25519")]
    Curve,
    #[error(
        "a SPAKE2 message must be 66 lowercase hex digits starting with 41 (sender) or 42 (recipient)"
    )]
    BadMessage,
    #[error("a digest must be 64 lowercase hex digits")]
    BadDigest,
    #[error("the other side used a different code (key confirmation failed)")]
    WrongCode,
    #[error("a frame is larger than allowed")]
    FrameTooLarge,
    #[error("a frame failed authentication: the data was altered, replayed or reordered")]
    FrameForged,
    #[error("data arrived after the final frame")]
    AfterFinal,
    #[error("the stream ended before its final frame")]
    Truncated,
    #[error("too many frames for one key")]
    CounterExhausted,
    #[error("the transfer header is malformed or too large")]
    BadHeader,
    #[error("the file name is empty or unusable")]
    BadFilename,
    #[error("the sender uses a newer zkrelay: update this one to receive it")]
    NewerVersion,
    #[error("the list of files is empty or larger than 16 MiB")]
    ManifestTooLarge,
}

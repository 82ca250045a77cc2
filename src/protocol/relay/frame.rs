//! The encrypted stream of one direction: length-prefixed ChaCha20-Poly1305 frames.
//!
//! Frame i (from 0): `len: u32 BE` then `len` bytes of ciphertext‖tag of at most
//! [`MAX_FRAME_PLAINTEXT`] plaintext bytes. Nonce = 4 zero bytes ‖ i as u64 BE; associated data is
//! one byte, 1 on the final frame and 0 otherwise. Counters never repeat under one key, so a
//! replayed or reordered frame fails to open; a missing final frame is [`Error::Truncated`].

use super::Error;
use chacha20poly1305::{ChaCha20Poly1305, Key, KeyInit, Nonce, Tag, aead::AeadInPlace};
use serde::{Deserialize, Serialize};

/// Largest plaintext in one frame.
pub const MAX_FRAME_PLAINTEXT: usize = 64 * 1024;
/// Tag bytes added to each frame.
pub const FRAME_OVERHEAD: usize = 16;
/// Largest `len` a reader accepts.
pub const MAX_FRAME_CIPHERTEXT: usize = MAX_FRAME_PLAINTEXT + FRAME_OVERHEAD;
/// Largest transfer header.
pub const MAX_HEADER: usize = 4096;

fn nonce(counter: u64) -> Nonce {
    let mut n = [0u8; 12];
    n[4..].copy_from_slice(&counter.to_be_bytes());
    Nonce::from(n)
}

/// Encrypts one direction.
pub struct Sealer {
    cipher: ChaCha20Poly1305,
    counter: u64,
    finished: bool,
}

impl Sealer {
    pub fn new(key: &[u8; 32]) -> Self {
        Self {
            cipher: ChaCha20Poly1305::new(Key::from_slice(key)),
            counter: 0,
            finished: false,
        }
    }

    /// Appends the frame for `plaintext` (≤ [`MAX_FRAME_PLAINTEXT`]) to `out`.
    pub fn seal_into(
        &mut self,
        plaintext: &[u8],
        last: bool,
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        if plaintext.len() > MAX_FRAME_PLAINTEXT {
            return Err(Error::FrameTooLarge);
        }
        if self.finished {
            return Err(Error::AfterFinal);
        }
        if self.counter == u64::MAX {
            return Err(Error::CounterExhausted);
        }
        let len =
            u32::try_from(plaintext.len() + FRAME_OVERHEAD).map_err(|_| Error::FrameTooLarge)?;
        out.extend_from_slice(&len.to_be_bytes());
        let start = out.len();
        out.extend_from_slice(plaintext);
        let tag = self
            .cipher
            .encrypt_in_place_detached(&nonce(self.counter), &[u8::from(last)], &mut out[start..])
            .map_err(|_| Error::FrameTooLarge)?;
        out.extend_from_slice(&tag);
        self.counter += 1;
        self.finished = last;
        Ok(())
    }

    /// The frame for `plaintext`, as a new buffer.
    pub fn seal(&mut self, plaintext: &[u8], last: bool) -> Result<Vec<u8>, Error> {
        let mut out = Vec::with_capacity(4 + plaintext.len() + FRAME_OVERHEAD);
        self.seal_into(plaintext, last, &mut out)?;
        Ok(out)
    }
}

/// Decrypts one direction.
pub struct Opener {
    cipher: ChaCha20Poly1305,
    counter: u64,
    finished: bool,
}

impl Opener {
    pub fn new(key: &[u8; 32]) -> Self {
        Self {
            cipher: ChaCha20Poly1305::new(Key::from_slice(key)),
            counter: 0,
            finished: false,
        }
    }

    /// Opens one frame's ciphertext (without its length prefix) in place; on success `frame` holds
    /// the plaintext and the result says whether it was the final frame.
    pub fn open_in_place(&mut self, frame: &mut Vec<u8>) -> Result<bool, Error> {
        if self.finished {
            return Err(Error::AfterFinal);
        }
        if frame.len() < FRAME_OVERHEAD || frame.len() > MAX_FRAME_CIPHERTEXT {
            return Err(Error::FrameTooLarge);
        }
        let body = frame.len() - FRAME_OVERHEAD;
        let tag = *Tag::from_slice(&frame[body..]);
        frame.truncate(body);
        let n = nonce(self.counter);
        for last in [false, true] {
            if self
                .cipher
                .decrypt_in_place_detached(&n, &[u8::from(last)], frame, &tag)
                .is_ok()
            {
                self.counter += 1;
                self.finished = last;
                return Ok(last);
            }
        }
        Err(Error::FrameForged)
    }

    /// Whether the final frame has been opened.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Call when the stream ends: an error unless the final frame came.
    pub fn finish(&self) -> Result<(), Error> {
        if self.finished {
            Ok(())
        } else {
            Err(Error::Truncated)
        }
    }
}

/// Cuts a byte stream (pushed in chunks of any size) into frames, bounded.
#[derive(Default)]
pub struct FrameReader {
    buf: Vec<u8>,
    start: usize,
}

impl FrameReader {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.start > 0 && self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete frame's ciphertext, if one has fully arrived. A length prefix over the
    /// limit is an error before anything is allocated for it.
    pub fn next_frame(&mut self) -> Result<Option<Vec<u8>>, Error> {
        let available = &self.buf[self.start..];
        let Some(prefix) = available.first_chunk::<4>() else {
            return Ok(None);
        };
        let len = u32::from_be_bytes(*prefix) as usize;
        if !(FRAME_OVERHEAD..=MAX_FRAME_CIPHERTEXT).contains(&len) {
            return Err(Error::FrameTooLarge);
        }
        if available.len() < 4 + len {
            return Ok(None);
        }
        let frame = available[4..4 + len].to_vec();
        self.start += 4 + len;
        if self.start > MAX_FRAME_CIPHERTEXT {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        Ok(Some(frame))
    }

    /// Bytes received but not yet returned as a frame.
    pub fn pending(&self) -> usize {
        self.buf.len() - self.start
    }
}

/// The first frame of a transfer: what follows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// `"text"` or `"file"`.
    pub kind: String,
    /// The file's name as the sender gave it (sanitize before use).
    pub name: Option<String>,
    /// Bytes of content that follow.
    pub size: u64,
}

impl Header {
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() > MAX_HEADER {
            return Err(Error::BadHeader);
        }
        let header: Header = serde_json::from_slice(bytes).map_err(|_| Error::BadHeader)?;
        if header.kind != "text" && header.kind != "file" {
            return Err(Error::BadHeader);
        }
        Ok(header)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];

    fn stream(chunks: &[&[u8]]) -> Vec<u8> {
        let mut sealer = Sealer::new(&KEY);
        let mut out = Vec::new();
        for (i, c) in chunks.iter().enumerate() {
            sealer
                .seal_into(c, i + 1 == chunks.len(), &mut out)
                .unwrap();
        }
        out
    }

    fn read_all(bytes: &[u8], step: usize) -> Result<Vec<Vec<u8>>, Error> {
        let mut reader = FrameReader::new();
        let mut opener = Opener::new(&KEY);
        let mut out = Vec::new();
        for chunk in bytes.chunks(step.max(1)) {
            reader.push(chunk);
            while let Some(mut frame) = reader.next_frame()? {
                opener.open_in_place(&mut frame)?;
                out.push(frame);
            }
        }
        opener.finish()?;
        Ok(out)
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn frames_round_trip_in_any_chunking() {
        let big = vec![0xabu8; MAX_FRAME_PLAINTEXT];
        let chunks: Vec<&[u8]> = vec![b"header", &big, b"", b"tail"];
        let bytes = stream(&chunks);
        for step in [1, 3, 4096, bytes.len()] {
            let got = read_all(&bytes, step).unwrap();
            assert_eq!(got, chunks.iter().map(|c| c.to_vec()).collect::<Vec<_>>());
        }
        let mut sealer = Sealer::new(&KEY);
        assert_eq!(
            sealer
                .seal(&vec![0; MAX_FRAME_PLAINTEXT + 1], false)
                .unwrap_err(),
            Error::FrameTooLarge
        );
        sealer.seal(b"end", true).unwrap();
        assert_eq!(sealer.seal(b"more", false).unwrap_err(), Error::AfterFinal);
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn tampering_replay_reorder_and_truncation_are_caught() {
        let mut sealer = Sealer::new(&KEY);
        let f0 = sealer.seal(b"zero", false).unwrap();
        let f1 = sealer.seal(b"one", false).unwrap();
        let f2 = sealer.seal(b"two", true).unwrap();
        let ok = [f0.clone(), f1.clone(), f2.clone()].concat();
        assert_eq!(read_all(&ok, 5).unwrap().len(), 3);
        let replay = [f0.clone(), f0.clone(), f1.clone(), f2.clone()].concat();
        assert_eq!(read_all(&replay, 7).unwrap_err(), Error::FrameForged);
        let reorder = [f1.clone(), f0.clone(), f2.clone()].concat();
        assert_eq!(read_all(&reorder, 7).unwrap_err(), Error::FrameForged);
        let truncated = [f0.clone(), f1.clone()].concat();
        assert_eq!(read_all(&truncated, 7).unwrap_err(), Error::Truncated);
        let after = [ok.clone(), f0.clone()].concat();
        assert_eq!(read_all(&after, 7).unwrap_err(), Error::AfterFinal);
        for i in [0usize, 4, 6, ok.len() - 1] {
            let mut flipped = ok.clone();
            flipped[i] ^= 1;
            assert!(read_all(&flipped, 9).is_err(), "flip at {i} went unnoticed");
        }
        let other_key = {
            let mut s = Sealer::new(&[8; 32]);
            s.seal(b"zero", true).unwrap()
        };
        assert_eq!(read_all(&other_key, 9).unwrap_err(), Error::FrameForged);
        // A huge length prefix is refused before any allocation.
        let mut reader = FrameReader::new();
        reader.push(&u32::MAX.to_be_bytes());
        assert_eq!(reader.next_frame().unwrap_err(), Error::FrameTooLarge);
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn headers_are_bounded_and_checked() {
        let h = Header {
            kind: "file".into(),
            name: Some("a.txt".into()),
            size: 5,
        };
        assert_eq!(Header::decode(&h.encode()).unwrap(), h);
        assert_eq!(
            Header::decode(br#"{"kind":"exe","name":null,"size":1}"#).unwrap_err(),
            Error::BadHeader
        );
        assert_eq!(
            Header::decode(br#"{"kind":"text","size":1,"x":2}"#).unwrap_err(),
            Error::BadHeader
        );
        assert_eq!(
            Header::decode(&vec![b' '; MAX_HEADER + 1]).unwrap_err(),
            Error::BadHeader
        );
    }
}

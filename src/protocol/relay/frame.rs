//! The encrypted stream of one direction: AES-256-GCM frames with counter nonces.
//!
//! Frame i (from 0) is a 4-byte big-endian *prefix* then ciphertext‖tag. The prefix's top bit
//! marks the final frame; its other bits are the length of ciphertext‖tag (16 to
//! [`MAX_FRAME_CIPHERTEXT`] bytes). Nonce = 4 zero bytes ‖ i as u64 BE; the associated data is the
//! prefix itself. Counters never repeat under one key, so a replayed or reordered frame fails to
//! open, a flipped final bit fails to open, and a stream without its final frame is
//! [`Error::Truncated`].
//!
//! [`Sequence`] holds those rules for every AEAD backend: [`Sealer`] / [`Opener`] here (RustCrypto,
//! AES-NI and CLMUL when the CPU has them) and the browser's WebCrypto twin
//! (`client::webcrypto`), which must produce the same bytes.

use super::Error;
use aes_gcm::{Aes256Gcm, KeyInit, Tag, aead::AeadInOut};

/// Largest plaintext in one frame.
pub const MAX_FRAME_PLAINTEXT: usize = 64 * 1024;
/// Tag bytes added to each frame.
pub const FRAME_OVERHEAD: usize = 16;
/// Largest ciphertext‖tag a reader accepts.
pub const MAX_FRAME_CIPHERTEXT: usize = MAX_FRAME_PLAINTEXT + FRAME_OVERHEAD;
/// Bytes of the prefix before each frame's ciphertext.
pub const PREFIX_LEN: usize = 4;

const FINAL_BIT: u32 = 1 << 31;

/// A frame's prefix: how long its ciphertext‖tag is and whether it is the final frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prefix {
    /// Bytes of ciphertext‖tag that follow.
    pub len: usize,
    pub last: bool,
}

impl Prefix {
    pub fn encode(self) -> [u8; PREFIX_LEN] {
        // `len` ≤ MAX_FRAME_CIPHERTEXT, far below the final bit.
        (self.len as u32 | if self.last { FINAL_BIT } else { 0 }).to_be_bytes()
    }

    /// A received prefix; a length out of range is an error before anything is allocated.
    pub fn decode(bytes: [u8; PREFIX_LEN]) -> Result<Self, Error> {
        let word = u32::from_be_bytes(bytes);
        let len = (word & !FINAL_BIT) as usize;
        if !(FRAME_OVERHEAD..=MAX_FRAME_CIPHERTEXT).contains(&len) {
            return Err(Error::FrameTooLarge);
        }
        Ok(Self {
            len,
            last: word & FINAL_BIT != 0,
        })
    }
}

/// One received frame: its prefix and ciphertext‖tag (plaintext once opened).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub prefix: Prefix,
    pub body: Vec<u8>,
}

/// The 12-byte nonce and associated data of one frame.
pub struct FrameParams {
    pub nonce: [u8; 12],
    pub prefix: [u8; PREFIX_LEN],
}

/// Frame order and end-of-stream rules of one direction, shared by every AEAD backend.
#[derive(Debug, Default)]
pub struct Sequence {
    counter: u64,
    finished: bool,
    failed: bool,
}

impl Sequence {
    pub fn new() -> Self {
        Self::default()
    }

    fn next(&mut self, prefix: Prefix) -> Result<FrameParams, Error> {
        if self.failed {
            return Err(Error::FrameForged);
        }
        if self.finished {
            return Err(Error::AfterFinal);
        }
        if self.counter == u64::MAX {
            return Err(Error::CounterExhausted);
        }
        let mut nonce = [0u8; 12];
        nonce[4..].copy_from_slice(&self.counter.to_be_bytes());
        self.counter += 1;
        self.finished = prefix.last;
        Ok(FrameParams {
            nonce,
            prefix: prefix.encode(),
        })
    }

    /// Nonce and prefix for sealing the next frame of `plaintext_len` bytes.
    pub fn seal_next(&mut self, plaintext_len: usize, last: bool) -> Result<FrameParams, Error> {
        if plaintext_len > MAX_FRAME_PLAINTEXT {
            return Err(Error::FrameTooLarge);
        }
        self.next(Prefix {
            len: plaintext_len + FRAME_OVERHEAD,
            last,
        })
    }

    /// Nonce and associated data for opening the next received frame.
    pub fn open_next(&mut self, prefix: Prefix) -> Result<FrameParams, Error> {
        self.next(prefix)
    }

    /// Call when a frame fails to open: the stream is dead from then on.
    pub fn fail(&mut self) -> Error {
        self.failed = true;
        Error::FrameForged
    }

    /// Call when the stream ends: an error unless the final frame came.
    pub fn finish(&self) -> Result<(), Error> {
        if self.finished && !self.failed {
            Ok(())
        } else {
            Err(Error::Truncated)
        }
    }
}

/// Encrypts one direction.
pub struct Sealer {
    cipher: Aes256Gcm,
    sequence: Sequence,
}

impl Sealer {
    pub fn new(key: &[u8; 32]) -> Self {
        Self {
            cipher: Aes256Gcm::new(key.into()),
            sequence: Sequence::new(),
        }
    }

    /// Appends the frame (prefix, ciphertext, tag) for `plaintext` (≤ [`MAX_FRAME_PLAINTEXT`])
    /// to `out`.
    pub fn seal_into(
        &mut self,
        plaintext: &[u8],
        last: bool,
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        if plaintext.len() > MAX_FRAME_PLAINTEXT {
            return Err(Error::FrameTooLarge);
        }
        let start = out.len();
        out.extend_from_slice(&[0; PREFIX_LEN]);
        out.extend_from_slice(plaintext);
        out.extend_from_slice(&[0; FRAME_OVERHEAD]);
        let (_, frame) = out.split_at_mut(start);
        let sealed = self.seal_in_place(frame, last);
        if sealed.is_err() {
            out.truncate(start);
        }
        sealed
    }

    /// Seals a frame laid out in place, with no copy: `frame` is [`PREFIX_LEN`] bytes to fill,
    /// the plaintext, then [`FRAME_OVERHEAD`] bytes to fill with the tag.
    pub fn seal_in_place(&mut self, frame: &mut [u8], last: bool) -> Result<(), Error> {
        let len = frame
            .len()
            .checked_sub(PREFIX_LEN + FRAME_OVERHEAD)
            .ok_or(Error::FrameTooLarge)?;
        let params = self.sequence.seal_next(len, last)?;
        let (prefix, rest) = frame.split_at_mut(PREFIX_LEN);
        let (body, tag_slot) = rest.split_at_mut(len);
        prefix.copy_from_slice(&params.prefix);
        let tag = self
            .cipher
            .encrypt_inout_detached(&params.nonce.into(), &params.prefix, body.into())
            .map_err(|_| Error::FrameTooLarge)?;
        tag_slot.copy_from_slice(&tag);
        Ok(())
    }

    /// The frame for `plaintext`, as a new buffer.
    pub fn seal(&mut self, plaintext: &[u8], last: bool) -> Result<Vec<u8>, Error> {
        let mut out = Vec::with_capacity(PREFIX_LEN + plaintext.len() + FRAME_OVERHEAD);
        self.seal_into(plaintext, last, &mut out)?;
        Ok(out)
    }
}

/// Decrypts one direction.
pub struct Opener {
    cipher: Aes256Gcm,
    sequence: Sequence,
}

impl Opener {
    pub fn new(key: &[u8; 32]) -> Self {
        Self {
            cipher: Aes256Gcm::new(key.into()),
            sequence: Sequence::new(),
        }
    }

    /// Opens `frame` in place; on success its body holds the plaintext and the result says
    /// whether it was the final frame.
    pub fn open_in_place(&mut self, frame: &mut Frame) -> Result<bool, Error> {
        let len = self.open_slice(frame.prefix, &mut frame.body)?.len();
        frame.body.truncate(len);
        Ok(frame.prefix.last)
    }

    /// Opens the ciphertext‖tag that followed `prefix`, in place; returns the plaintext.
    pub fn open_slice<'a>(
        &mut self,
        prefix: Prefix,
        body: &'a mut [u8],
    ) -> Result<&'a [u8], Error> {
        let params = self.sequence.open_next(prefix)?;
        let Some(len) = body.len().checked_sub(FRAME_OVERHEAD) else {
            return Err(self.sequence.fail());
        };
        let (body, tag) = body.split_at_mut(len);
        let tag = Tag::try_from(&*tag).map_err(|_| self.sequence.fail())?;
        self.cipher
            .decrypt_inout_detached(
                &params.nonce.into(),
                &params.prefix,
                (&mut *body).into(),
                &tag,
            )
            .map_err(|_| self.sequence.fail())?;
        Ok(body)
    }

    /// Call when the stream ends: an error unless the final frame came.
    pub fn finish(&self) -> Result<(), Error> {
        self.sequence.finish()
    }
}

/// Cuts a byte stream (pushed in chunks of any size) into frames, bounded.
#[derive(Default)]
pub struct FrameReader {
    /// Received bytes live in `buf[start..end]`; the rest is room, zeroed once when it grew.
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

#[allow(
    clippy::indexing_slicing,
    reason = "start <= end <= buf.len() between calls, and a frame is cut only once end covers it"
)]
impl FrameReader {
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes room for `more` bytes after `end`, moving what is left to the front first.
    fn room(&mut self, more: usize) -> &mut [u8] {
        if self.start == self.end {
            (self.start, self.end) = (0, 0);
        } else if self.start > MAX_FRAME_CIPHERTEXT {
            self.buf.copy_within(self.start..self.end, 0);
            (self.start, self.end) = (0, self.end - self.start);
        }
        if self.buf.len() < self.end + more {
            self.buf.resize(self.end + more, 0);
        }
        &mut self.buf[self.end..self.end + more]
    }

    /// Adds received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.room(bytes.len()).copy_from_slice(bytes);
        self.end += bytes.len();
    }

    /// Lets `read` write up to `max` received bytes straight into the buffer (no copy); `read`
    /// returns how many it wrote, as `std::io::Read::read` does.
    pub fn fill<E>(
        &mut self,
        max: usize,
        read: impl FnOnce(&mut [u8]) -> Result<usize, E>,
    ) -> Result<usize, E> {
        let got = read(self.room(max));
        if let Ok(n) = &got {
            self.end += (*n).min(max);
        }
        got
    }

    /// The next complete frame, if one has fully arrived. A length prefix out of range is an
    /// error before anything is allocated for it.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, Error> {
        Ok(self.next_in_place()?.map(|(prefix, body)| Frame {
            prefix,
            body: body.to_vec(),
        }))
    }

    /// Like [`FrameReader::next_frame`], but lends the ciphertext‖tag in place (to open it there
    /// with [`Opener::open_slice`]).
    pub fn next_in_place(&mut self) -> Result<Option<(Prefix, &mut [u8])>, Error> {
        let available = &self.buf[self.start..self.end];
        let Some(bytes) = available.first_chunk::<PREFIX_LEN>() else {
            return Ok(None);
        };
        let prefix = Prefix::decode(*bytes)?;
        if available.len() < PREFIX_LEN + prefix.len {
            return Ok(None);
        }
        let body = self.start + PREFIX_LEN..self.start + PREFIX_LEN + prefix.len;
        self.start = body.end;
        Ok(Some((prefix, &mut self.buf[body])))
    }

    /// Bytes received but not yet returned as a frame.
    pub fn pending(&self) -> usize {
        self.end - self.start
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
                out.push(frame.body);
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
        // The no-copy path: bytes read straight into the reader, frames opened where they lie.
        let want: Vec<Vec<u8>> = chunks.iter().map(|c| c.to_vec()).collect();
        for step in [1, 5000, bytes.len()] {
            let mut reader = FrameReader::new();
            let mut opener = Opener::new(&KEY);
            let mut got = Vec::new();
            for chunk in bytes.chunks(step) {
                let n = reader
                    .fill(step, |room| -> Result<usize, ()> {
                        room[..chunk.len()].copy_from_slice(chunk);
                        Ok(chunk.len())
                    })
                    .unwrap();
                assert_eq!(n, chunk.len());
                while let Some((prefix, body)) = reader.next_in_place().unwrap() {
                    got.push(opener.open_slice(prefix, body).unwrap().to_vec());
                }
            }
            opener.finish().unwrap();
            assert_eq!(got, want);
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
        // The final bit is authenticated: set early or cleared at the end, the frame fails.
        let mut early_end = ok.clone();
        early_end[0] ^= 0x80;
        assert_eq!(read_all(&early_end, 9).unwrap_err(), Error::FrameForged);
        let mut no_end = ok.clone();
        no_end[f0.len() + f1.len()] ^= 0x80;
        assert_eq!(read_all(&no_end, 9).unwrap_err(), Error::FrameForged);
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
}

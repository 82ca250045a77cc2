//! The Relay's AES-256-GCM frames in the browser.
//!
//! In a secure context (https, or loopback) frames are sealed and opened with WebCrypto: the
//! browser's own AES-GCM, with AES-NI where the CPU has it, running off the main thread, several
//! frames in flight at once. Elsewhere (plain http on a LAN address, where `crypto.subtle` does not
//! exist) the same RustCrypto code the CLI uses runs in WASM. Either way the bytes are those of
//! [`protocol::relay::Sealer`](crate::protocol::relay::Sealer) and the frame rules are
//! [`Sequence`]'s; the wasm32 tests check both backends against each other.
//!
//! Data stays in JavaScript `Uint8Array`s (file slices in, WebSocket messages out, received parts
//! into a `Blob`), so the content is not copied through WASM memory on the fast path.

use crate::protocol::relay::{
    Error, Frame, FrameParams, MAX_FRAME_PLAINTEXT, Opener, PREFIX_LEN, Sealer, Sequence,
};
use js_sys::{Array, Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue, closure::Closure};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AesGcmParams, CryptoKey, SubtleCrypto};

type Result<T> = std::result::Result<T, String>;

/// Which implementation to use; [`Backend::best`] picks for this page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    WebCrypto,
    Wasm,
}

impl Backend {
    /// WebCrypto where it exists (`crypto.subtle` is missing outside secure contexts), else the
    /// WASM build.
    pub fn best() -> Self {
        if subtle().is_some() {
            Backend::WebCrypto
        } else {
            Backend::Wasm
        }
    }
}

/// `globalThis.crypto.subtle`, if this context has it (pages and workers alike).
fn subtle() -> Option<SubtleCrypto> {
    let crypto = Reflect::get(&js_sys::global(), &JsValue::from_str("crypto")).ok()?;
    let subtle = Reflect::get(&crypto, &JsValue::from_str("subtle")).ok()?;
    (subtle.is_object()).then(|| subtle.unchecked_into())
}

struct Web {
    subtle: SubtleCrypto,
    key: CryptoKey,
    sequence: Sequence,
}

thread_local! {
    /// A handler that ignores a rejection; lives as long as the page.
    static IGNORE: Closure<dyn FnMut(JsValue)> = Closure::new(|_| {});
}

/// Marks `promise` handled: when a transfer stops early, frames still in flight may reject with
/// nobody left to await them (an "unhandled rejection" otherwise).
fn handled(promise: Promise) -> Promise {
    IGNORE.with(|ignore| {
        let _ = promise.catch(ignore);
    });
    promise
}

impl Web {
    async fn new(key: &[u8; 32], usage: &str) -> Result<Self> {
        let subtle = subtle().ok_or("this page has no WebCrypto (not a secure context)")?;
        let usages = Array::of1(&JsValue::from_str(usage));
        let promise = subtle
            .import_key_with_str(
                "raw",
                &Uint8Array::from(&key[..]),
                "AES-GCM",
                false,
                &usages,
            )
            .map_err(|_| "the browser refused the key")?;
        let key = JsFuture::from(promise)
            .await
            .map_err(|_| "the browser refused the key")?
            .into();
        Ok(Self {
            subtle,
            key,
            sequence: Sequence::new(),
        })
    }
}

fn params(p: &FrameParams) -> AesGcmParams {
    let params = AesGcmParams::new_with_u8_array("AES-GCM", &Uint8Array::from(&p.nonce[..]));
    params.set_additional_data_u8_array(&Uint8Array::from(&p.prefix[..]));
    params.set_tag_length(128);
    params
}

async fn resolve(promise: Promise) -> Result<Uint8Array> {
    let buffer = JsFuture::from(promise)
        .await
        .map_err(|_| Error::FrameForged.to_string())?;
    Ok(Uint8Array::new(&buffer))
}

/// Seals one direction.
pub struct FrameSealer(SealerImpl);

enum SealerImpl {
    Web(Web),
    Wasm(Box<Sealer>),
}

/// A frame being sealed; [`SealedFrame::bytes`] waits for it.
pub struct SealedFrame(SealedImpl);

enum SealedImpl {
    Ready(Uint8Array),
    Web {
        prefix: [u8; PREFIX_LEN],
        ciphertext: Promise,
    },
}

impl SealedFrame {
    /// The whole frame (prefix ‖ ciphertext ‖ tag), ready to send.
    pub async fn bytes(self) -> Result<Uint8Array> {
        match self.0 {
            SealedImpl::Ready(bytes) => Ok(bytes),
            SealedImpl::Web { prefix, ciphertext } => {
                let ciphertext = resolve(ciphertext).await?;
                let frame = Uint8Array::new_with_length(PREFIX_LEN as u32 + ciphertext.length());
                frame.set(&Uint8Array::from(&prefix[..]), 0);
                frame.set(&ciphertext, PREFIX_LEN as u32);
                Ok(frame)
            }
        }
    }
}

impl FrameSealer {
    pub async fn new(key: &[u8; 32], backend: Backend) -> Result<Self> {
        Ok(Self(match backend {
            Backend::WebCrypto => SealerImpl::Web(Web::new(key, "encrypt").await?),
            Backend::Wasm => SealerImpl::Wasm(Box::new(Sealer::new(key))),
        }))
    }

    /// Starts sealing `plaintext` (≤ [`MAX_FRAME_PLAINTEXT`] bytes). Frames go on the wire in the
    /// order of these calls, however many are in flight.
    pub fn seal(&mut self, plaintext: &Uint8Array, last: bool) -> Result<SealedFrame> {
        let len = plaintext.length() as usize;
        if len > MAX_FRAME_PLAINTEXT {
            return Err(Error::FrameTooLarge.to_string());
        }
        match &mut self.0 {
            SealerImpl::Web(web) => {
                let p = web
                    .sequence
                    .seal_next(len, last)
                    .map_err(|e| e.to_string())?;
                let ciphertext = handled(
                    web.subtle
                        .encrypt_with_object_and_js_u8_array(&params(&p), &web.key, plaintext)
                        .map_err(|_| "the browser could not encrypt")?,
                );
                Ok(SealedFrame(SealedImpl::Web {
                    prefix: p.prefix,
                    ciphertext,
                }))
            }
            SealerImpl::Wasm(sealer) => {
                let frame = sealer
                    .seal(&plaintext.to_vec(), last)
                    .map_err(|e| e.to_string())?;
                Ok(SealedFrame(SealedImpl::Ready(Uint8Array::from(&frame[..]))))
            }
        }
    }
}

/// Opens one direction.
pub struct FrameOpener(OpenerImpl);

enum OpenerImpl {
    Web(Web),
    Wasm(Box<Opener>),
}

/// A frame being opened; [`OpenedFrame::plaintext`] waits for it.
pub struct OpenedFrame {
    last: bool,
    inner: OpenedImpl,
}

enum OpenedImpl {
    Ready(Uint8Array),
    Web(Promise),
}

impl OpenedFrame {
    /// The plaintext and whether this was the final frame; an error if the frame was forged.
    pub async fn plaintext(self) -> Result<(Uint8Array, bool)> {
        let bytes = match self.inner {
            OpenedImpl::Ready(bytes) => bytes,
            OpenedImpl::Web(promise) => resolve(promise).await?,
        };
        Ok((bytes, self.last))
    }
}

impl FrameOpener {
    pub async fn new(key: &[u8; 32], backend: Backend) -> Result<Self> {
        Ok(Self(match backend {
            Backend::WebCrypto => OpenerImpl::Web(Web::new(key, "decrypt").await?),
            Backend::Wasm => OpenerImpl::Wasm(Box::new(Opener::new(key))),
        }))
    }

    /// Starts opening the next frame. Call in arrival order; a frame that does not open makes its
    /// [`OpenedFrame::plaintext`] fail, and the transfer must stop there.
    pub fn open(&mut self, mut frame: Frame) -> Result<OpenedFrame> {
        let last = frame.prefix.last;
        let inner = match &mut self.0 {
            OpenerImpl::Web(web) => {
                let p = web
                    .sequence
                    .open_next(frame.prefix)
                    .map_err(|e| e.to_string())?;
                OpenedImpl::Web(handled(
                    web.subtle
                        .decrypt_with_object_and_u8_array(&params(&p), &web.key, &frame.body)
                        .map_err(|_| "the browser could not decrypt")?,
                ))
            }
            OpenerImpl::Wasm(opener) => {
                opener
                    .open_in_place(&mut frame)
                    .map_err(|e| e.to_string())?;
                OpenedImpl::Ready(Uint8Array::from(&frame.body[..]))
            }
        };
        Ok(OpenedFrame { last, inner })
    }

    /// Call when the stream ends: an error unless the final frame was opened.
    pub fn finish(&self) -> Result<()> {
        match &self.0 {
            OpenerImpl::Web(web) => web.sequence.finish(),
            OpenerImpl::Wasm(opener) => opener.finish(),
        }
        .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::relay::FrameReader;
    use wasm_bindgen_test::wasm_bindgen_test;

    const KEY: [u8; 32] = [3; 32];

    async fn sealed(backend: Backend, chunks: &[&[u8]]) -> Vec<u8> {
        let mut sealer = FrameSealer::new(&KEY, backend).await.unwrap();
        // All in flight at once, then collected in order.
        let pending: Vec<SealedFrame> = chunks
            .iter()
            .enumerate()
            .map(|(i, c)| {
                sealer
                    .seal(&Uint8Array::from(*c), i + 1 == chunks.len())
                    .unwrap()
            })
            .collect();
        let mut out = Vec::new();
        for p in pending {
            out.extend(p.bytes().await.unwrap().to_vec());
        }
        out
    }

    async fn opened(backend: Backend, bytes: &[u8]) -> Result<Vec<Vec<u8>>> {
        let mut reader = FrameReader::new();
        reader.push(bytes);
        let mut opener = FrameOpener::new(&KEY, backend).await?;
        let mut pending = Vec::new();
        while let Some(frame) = reader.next_frame().map_err(|e| e.to_string())? {
            pending.push(opener.open(frame)?);
        }
        let mut out = Vec::new();
        for p in pending {
            out.push(p.plaintext().await?.0.to_vec());
        }
        opener.finish()?;
        Ok(out)
    }

    #[wasm_bindgen_test]
    async fn webcrypto_and_wasm_frames_are_the_same_bytes() {
        assert_eq!(Backend::best(), Backend::WebCrypto);
        let big = vec![0x5a; MAX_FRAME_PLAINTEXT];
        let chunks: Vec<&[u8]> = vec![b"{\"kind\":\"text\"}", &big, b"", b"tail"];
        let web = sealed(Backend::WebCrypto, &chunks).await;
        let wasm = sealed(Backend::Wasm, &chunks).await;
        assert_eq!(web, wasm);
        let mut native = Vec::new();
        let mut sealer = Sealer::new(&KEY);
        for (i, c) in chunks.iter().enumerate() {
            sealer
                .seal_into(c, i + 1 == chunks.len(), &mut native)
                .unwrap();
        }
        assert_eq!(web, native);
        let want: Vec<Vec<u8>> = chunks.iter().map(|c| c.to_vec()).collect();
        for backend in [Backend::WebCrypto, Backend::Wasm] {
            assert_eq!(opened(backend, &web).await.unwrap(), want);
        }
    }

    #[wasm_bindgen_test]
    async fn webcrypto_rejects_altered_reordered_and_truncated_frames() {
        let chunks: Vec<&[u8]> = vec![b"zero", b"one", b"two"];
        let ok = sealed(Backend::WebCrypto, &chunks).await;
        let frame_len = |i: usize| PREFIX_LEN + chunks[i].len() + 16;
        let (f0, f1) = (frame_len(0), frame_len(1));
        for backend in [Backend::WebCrypto, Backend::Wasm] {
            let mut altered = ok.clone();
            altered[f0 + 5] ^= 1;
            assert!(opened(backend, &altered).await.is_err());
            let reordered = [&ok[f0..f0 + f1], &ok[..f0], &ok[f0 + f1..]].concat();
            assert!(opened(backend, &reordered).await.is_err());
            let truncated = &ok[..f0 + f1];
            assert!(opened(backend, truncated).await.is_err());
            let mut early_end = ok.clone();
            early_end[0] ^= 0x80;
            assert!(opened(backend, &early_end).await.is_err());
        }
    }
}

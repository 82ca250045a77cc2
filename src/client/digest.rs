//! SHA-256 of what was sent or received, for the end state both pages show (the two people can
//! compare it, or check it against `sha256sum`). WebCrypto's digest where it exists; outside
//! secure contexts (no `crypto.subtle`) the `sha2` crate the relay's key schedule already links,
//! fed the blob slice by slice.

use js_sys::{Reflect, Uint8Array};
use sha2::{Digest, Sha256};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, SubtleCrypto};

/// Bytes hashed per slice by the fallback.
const SLICE: f64 = 4.0 * 1024.0 * 1024.0;

fn subtle() -> Option<SubtleCrypto> {
    let crypto = Reflect::get(&js_sys::global(), &JsValue::from_str("crypto")).ok()?;
    let subtle = Reflect::get(&crypto, &JsValue::from_str("subtle")).ok()?;
    subtle.is_object().then(|| subtle.unchecked_into())
}

async fn bytes(blob: &Blob) -> Result<JsValue, String> {
    JsFuture::from(blob.array_buffer())
        .await
        .map_err(|_| "cannot read the data to hash it".to_owned())
}

/// The SHA-256 of `blob`'s bytes, in lowercase hex.
pub async fn sha256_hex(blob: &Blob) -> Result<String, String> {
    if let Some(subtle) = subtle() {
        let buffer = bytes(blob).await?;
        let promise = subtle
            .digest_with_str_and_buffer_source("SHA-256", buffer.unchecked_ref())
            .map_err(|_| "the browser cannot hash")?;
        let digest = JsFuture::from(promise)
            .await
            .map_err(|_| "the browser cannot hash")?;
        return Ok(hex::encode(Uint8Array::new(&digest).to_vec()));
    }
    let mut hasher = Sha256::new();
    let size = blob.size();
    let mut start = 0.0;
    while start < size {
        let end = (start + SLICE).min(size);
        let slice = blob
            .slice_with_f64_and_f64(start, end)
            .map_err(|_| "cannot read the data to hash it")?;
        hasher.update(Uint8Array::new(&bytes(&slice).await?).to_vec());
        start = end;
    }
    Ok(hex::encode(hasher.finalize()))
}

/// The SHA-256 of a text's UTF-8 bytes.
pub fn sha256_text(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

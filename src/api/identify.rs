//! Identify: a Peggy draws a Blum modulus, builds her key in the browser and registers the public
//! half under a name; Victors list the registered Peggys and pick one.
//!
//! A registration returns, besides the public `peggy_id`, a `peggy_secret` that only the Peggy
//! holds: it opens her seat on the run socket. Drawing, registering and the run sockets are
//! rate-limited per client address.
//!
//! The checks here are pure (the browser can run them before sending); the server runs them again
//! on everything it receives, before it writes anything.

use super::{ApiError, ErrorCode};
use crate::protocol::ffs::{self, BoxedUint, MAX_K, PublicKey, wire};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Longest Peggy name, in characters (after trimming).
pub const MAX_NAME_CHARS: usize = 40;
/// Most Peggys one `list_peggys` reply holds.
pub const MAX_LISTED: u32 = 200;
/// Longest public key JSON the server reads.
pub const MAX_PUBLIC_KEY_BYTES: usize = 64 * 1024;

/// A modulus drawn from the server's pool for a new Peggy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawnModulus {
    /// Pass back to [`register_peggy`].
    pub modulus_id: i64,
    /// n in the canonical wire encoding (lowercase hex).
    pub n: String,
    /// |n| in bits.
    pub bits: u32,
}

impl DrawnModulus {
    /// Peggy's key on this modulus, asked for with `demo`: the book's key on the Handbook's n,
    /// else k fresh secrets. Refuses an n that is no usable modulus, or that is not 553913 when
    /// the Handbook's was asked for.
    pub fn make_key<R: ffs::rand_core::CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        demo: Option<DemoModulus>,
        k: usize,
    ) -> Result<ffs::SecretKey, String> {
        let unusable = |e: ffs::Error| format!("the server's modulus is unusable: {e}");
        let n = wire::decode(&self.n, ffs::MAX_BITS).map_err(unusable)?;
        let modulus = ffs::BlumModulus::from_stored(&n).map_err(unusable)?;
        let key = match demo {
            Some(DemoModulus::Handbook) => ffs::SecretKey::handbook_example(),
            _ => ffs::SecretKey::generate(rng, &modulus, k),
        }
        .map_err(|e| format!("cannot make keys: {e}"))?;
        if key.public_key().modulus().n() != modulus.n() {
            return Err("the server's Handbook modulus is not 553913".into());
        }
        Ok(key)
    }
}

/// A readable demo modulus, asked for instead of one from the pool: every number of a round
/// then fits on a screen in decimal — and the modulus is factored in a blink, so it identifies
/// no one. For teaching only; pages mark it as insecure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum DemoModulus {
    /// The Handbook of Applied Cryptography's Example 10.27: n = 553913 (its factors are printed
    /// in the book; the Peggy uses the book's key).
    Handbook,
    /// A fresh Blum integer of this many bits: even, [`ffs::DEMO_MIN_BITS`] to
    /// [`ffs::explain::MAX_EXPLAINED_BITS`].
    Bits(u32),
}

/// The demo sizes the pages offer after the Handbook's.
pub const DEMO_BITS: [u32; 3] = [32, 48, 64];

impl std::fmt::Display for DemoModulus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Handbook => f.write_str("hac"),
            Self::Bits(bits) => write!(f, "{bits}"),
        }
    }
}

impl std::str::FromStr for DemoModulus {
    type Err = ApiError;

    /// `hac`, or an even number of bits from 16 to 64.
    fn from_str(text: &str) -> Result<Self, ApiError> {
        let range = ffs::DEMO_MIN_BITS..=ffs::explain::MAX_EXPLAINED_BITS;
        match text {
            "hac" => Ok(Self::Handbook),
            bits => match bits.parse::<u32>() {
                Ok(bits) if range.contains(&bits) && bits % 2 == 0 => Ok(Self::Bits(bits)),
                _ => Err(ApiError::invalid(format!(
                    "a demo modulus is \"hac\" or an even number of bits from {} to {}",
                    range.start(),
                    range.end()
                ))),
            },
        }
    }
}

impl TryFrom<String> for DemoModulus {
    type Error = ApiError;

    fn try_from(text: String) -> Result<Self, ApiError> {
        text.parse()
    }
}

impl From<DemoModulus> for String {
    fn from(demo: DemoModulus) -> Self {
        demo.to_string()
    }
}

/// A registration accepted by the server.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registered {
    /// 32 hex digits; names this Peggy on the Identify sockets (public: Victors list it).
    pub peggy_id: String,
    /// 64 hex digits only this Peggy knows: her run socket opens with it. The server keeps its
    /// SHA-256 only. Never shown or logged ([`Debug`] leaves it out).
    pub peggy_secret: String,
    /// The name as stored (trimmed).
    pub name: String,
    pub bits: u32,
    pub k: u32,
}

impl std::fmt::Debug for Registered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registered")
            .field("peggy_id", &self.peggy_id)
            .field("peggy_secret", &"(not shown)")
            .field("name", &self.name)
            .field("bits", &self.bits)
            .field("k", &self.k)
            .finish()
    }
}

/// A registered Peggy as Victors see her in the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeggySummary {
    pub peggy_id: String,
    pub name: String,
    pub bits: u32,
    pub k: u32,
    /// A Victor is identifying her right now.
    pub busy: bool,
}

/// The address the current server function call came from.
#[cfg(feature = "ssr")]
async fn client_ip() -> Result<std::net::IpAddr, ApiError> {
    use axum::extract::ConnectInfo;
    let ConnectInfo(addr) = leptos_axum::extract::<ConnectInfo<std::net::SocketAddr>>()
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "no client address in the server function context");
            ApiError::internal()
        })?;
    Ok(addr.ip())
}

/// Takes a fresh modulus from the server's Blum pool (never one handed out before) or, with
/// `demo`, issues a readable demo modulus (see [`DemoModulus`]).
#[server(prefix = "/api", endpoint = "draw_modulus")]
pub async fn draw_modulus(demo: Option<DemoModulus>) -> Result<DrawnModulus, ApiError> {
    let state = crate::server::AppState::from_context()?;
    let ip = client_ip().await?;
    crate::server::identify::draw_modulus(&state, ip, demo).await
}

/// Registers a Peggy: `public_key` is the JSON of an [`ffs::PublicKey`] built on the modulus
/// drawn as `modulus_id`. Everything is checked before anything is written.
#[server(prefix = "/api", endpoint = "register_peggy")]
pub async fn register_peggy(
    name: String,
    modulus_id: i64,
    public_key: String,
) -> Result<Registered, ApiError> {
    let state = crate::server::AppState::from_context()?;
    let ip = client_ip().await?;
    crate::server::identify::register_peggy(&state, ip, &name, modulus_id, &public_key).await
}

/// The registered Peggys, oldest first: at most [`MAX_LISTED`] of them, and only those called
/// `name` when it is given.
#[server(prefix = "/api", endpoint = "list_peggys")]
pub async fn list_peggys(name: Option<String>) -> Result<Vec<PeggySummary>, ApiError> {
    let state = crate::server::AppState::from_context()?;
    crate::server::identify::list_peggys(&state, name.as_deref()).await
}

// ------------------------------------------------------------------ pure checks

/// Checks a Peggy name and returns it trimmed: 1 to 40 characters, no control or bidirectional
/// formatting characters.
pub fn check_name(name: &str) -> Result<String, ApiError> {
    // Bound the work before counting characters of an arbitrarily long string.
    if name.len() > 4 * MAX_NAME_CHARS + 1024 {
        return Err(ApiError::invalid(format!(
            "the name must be at most {MAX_NAME_CHARS} characters"
        )));
    }
    let name = name.trim();
    if name.is_empty() {
        return Err(ApiError::invalid("the name must not be empty"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::invalid(format!(
            "the name must be at most {MAX_NAME_CHARS} characters"
        )));
    }
    if name
        .chars()
        .any(|c| c.is_control() || crate::protocol::text::is_bidi_control(c))
    {
        return Err(ApiError::invalid(
            "the name must not contain control or text-direction characters",
        ));
    }
    Ok(name.to_owned())
}

/// A public key as read from the request, before the FFS core validates it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PublicKeyForm {
    n: String,
    k: i64,
    i: Vec<String>,
}

/// A checked public key: the validated key and its canonical parts.
#[derive(Debug, Clone)]
pub struct CheckedKey {
    pub key: PublicKey,
    /// n in the canonical wire encoding.
    pub n_hex: String,
    /// The key's canonical wire JSON.
    pub json: String,
}

/// Reads and validates a public key's JSON `{"n": hex, "k": k, "i": [hex; k]}`: at most 64 KiB,
/// no other fields (`bad_request`), k in 1..=64 and equal to the number of identifiers, every
/// number canonical, each I_j nonzero, below n and coprime to n (`invalid_value`, naming the
/// first bad I_j). The FFS core makes the final decision.
pub fn check_public_key(json: &str) -> Result<CheckedKey, ApiError> {
    if json.len() > MAX_PUBLIC_KEY_BYTES {
        return Err(ApiError::new(
            ErrorCode::TooLarge,
            format!(
                "the public key is {} bytes; at most {MAX_PUBLIC_KEY_BYTES} are accepted",
                json.len()
            ),
        ));
    }
    let form: PublicKeyForm = serde_json::from_str(json).map_err(|e| {
        ApiError::bad_request(format!(
            "the public key must be JSON {{\"n\": hex, \"k\": k, \"i\": [hex, …]}}: {e}"
        ))
    })?;
    let k = usize::try_from(form.k)
        .ok()
        .filter(|k| (1..=MAX_K).contains(k))
        .ok_or_else(|| {
            ApiError::invalid(format!(
                "the public key's k is {}; it must be between 1 and {MAX_K}",
                form.k
            ))
        })?;
    if form.i.len() != k {
        return Err(ApiError::invalid(format!(
            "the public key's k is {k} but it lists {} identifiers",
            form.i.len()
        )));
    }
    let n = wire::decode(&form.n, ffs::MAX_BITS)
        .and_then(|n| ffs::BlumModulus::from_stored(&n).map(|_| n))
        .map_err(|e| ApiError::invalid(format!("the public key's n: {e}")))?;
    let mut identifiers: Vec<BoxedUint> = Vec::with_capacity(k);
    for (j, text) in form.i.iter().enumerate() {
        let value = wire::decode(text, n.bits())
            .map_err(|e| ApiError::invalid(format!("identifier I_{}: {e}", j + 1)))?;
        identifiers.push(value);
    }
    let key = match PublicKey::from_parts(&n, &identifiers) {
        Ok(key) => key,
        Err(e) => return Err(key_error(&n, &identifiers, e)),
    };
    let json = serde_json::to_string(&key).map_err(|_| ApiError::internal())?;
    Ok(CheckedKey {
        key,
        n_hex: form.n,
        json,
    })
}

/// The error for a key the core refused, naming the first identifier at fault when there is one.
fn key_error(n: &BoxedUint, identifiers: &[BoxedUint], whole: ffs::Error) -> ApiError {
    match whole {
        ffs::Error::ModulusSize | ffs::Error::ModulusEven => {
            ApiError::invalid(format!("the public key's n: {whole}"))
        }
        _ => identifiers
            .iter()
            .enumerate()
            .find_map(|(j, v)| {
                PublicKey::from_parts(n, std::slice::from_ref(v))
                    .err()
                    .map(|e| ApiError::invalid(format!("identifier I_{}: {e}", j + 1)))
            })
            .unwrap_or_else(|| ApiError::invalid(format!("the public key: {whole}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_bounded_and_printable() {
        assert_eq!(check_name("  Peggy Q. ").unwrap(), "Peggy Q.");
        assert_eq!(check_name(&"é".repeat(40)).unwrap(), "é".repeat(40));
        for bad in [
            "",
            "   ",
            "\t\n",
            &"x".repeat(41),
            &"é".repeat(41),
            &"x".repeat(10_240),
            "a\u{0}b",
            "a\u{7}b",
            "a\nb",
            "evil\u{202e}gpj",
            "a\u{2066}b",
        ] {
            let err = check_name(bad).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidValue, "{bad:?}");
            assert!(err.message.contains("name"), "{bad:?}: {}", err.message);
        }
    }

    /// n = 683 · 811 (Handbook of Applied Cryptography, Example 10.27); 0x6bdf5 is a unit.
    const N: &str = "873b9";

    fn refused(json: &str) -> ApiError {
        check_public_key(json).unwrap_err()
    }

    #[test]
    fn good_keys_come_back_canonical() {
        let checked =
            check_public_key(&format!(r#"{{ "n": "{N}", "k": 2, "i": ["6bdf5", "1"] }}"#)).unwrap();
        assert_eq!(checked.n_hex, N);
        assert_eq!(checked.key.k(), 2);
        assert_eq!(
            checked.json,
            format!(r#"{{"n":"{N}","k":2,"i":["6bdf5","1"]}}"#)
        );
    }

    #[test]
    fn malformed_keys_are_bad_requests() {
        for json in [
            "",
            "not json",
            "[]",
            r#"{"n":"873b9","k":1}"#,
            r#"{"n":"873b9","k":1,"i":["1"],"extra":1}"#,
            r#"{"n":873,"k":1,"i":["1"]}"#,
            r#"{"n":"873b9","k":"1","i":["1"]}"#,
        ] {
            let err = refused(json);
            assert_eq!(err.code, ErrorCode::BadRequest, "{json}: {err:?}");
            assert!(err.message.contains("public key"), "{err:?}");
        }
        let huge = format!(
            r#"{{"n":"{N}","k":1,"i":["{}"]}}"#,
            "f".repeat(MAX_PUBLIC_KEY_BYTES)
        );
        assert_eq!(refused(&huge).code, ErrorCode::TooLarge);
    }

    #[test]
    fn bad_values_are_invalid_and_name_the_identifier() {
        let cases = [
            (format!(r#"{{"n":"{N}","k":0,"i":[]}}"#), "between 1 and 64"),
            (
                format!(r#"{{"n":"{N}","k":65,"i":["1"]}}"#),
                "between 1 and 64",
            ),
            (
                format!(r#"{{"n":"{N}","k":-1,"i":["1"]}}"#),
                "between 1 and 64",
            ),
            (
                format!(r#"{{"n":"{N}","k":2,"i":["1"]}}"#),
                "lists 1 identifiers",
            ),
            (format!(r#"{{"n":"{N}","k":1,"i":["1","1"]}}"#), "lists 2"),
            (
                format!(r#"{{"n":"{N}","k":2,"i":["1","0"]}}"#),
                "I_2: value must not be zero",
            ),
            (
                format!(r#"{{"n":"{N}","k":1,"i":["{N}"]}}"#),
                "I_1: value must be less than",
            ),
            (
                format!(r#"{{"n":"{N}","k":2,"i":["1","2ab"]}}"#),
                "I_2: value is not coprime",
            ),
            (
                format!(r#"{{"n":"{N}","k":1,"i":["1000000"]}}"#),
                "I_1: number has more bits",
            ),
            (
                format!(r#"{{"n":"{N}","k":1,"i":["0x1"]}}"#),
                "I_1: number is not in canonical",
            ),
            (
                format!(r#"{{"n":"{N}","k":1,"i":["6BDF5"]}}"#),
                "I_1: number is not in canonical",
            ),
            (
                r#"{"n":"873ba","k":1,"i":["1"]}"#.to_owned(),
                "n: modulus must be odd",
            ),
            (
                r#"{"n":"fff","k":1,"i":["1"]}"#.to_owned(),
                "n: modulus size",
            ),
            (
                format!(r#"{{"n":"{}","k":1,"i":["1"]}}"#, "f".repeat(1025)),
                "n: number has more bits",
            ),
        ];
        for (json, want) in cases {
            let err = refused(&json);
            assert_eq!(err.code, ErrorCode::InvalidValue, "{json}: {err:?}");
            assert!(err.message.contains(want), "{json}: {}", err.message);
        }
    }
}

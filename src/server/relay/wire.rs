//! The relay routes' edges: reading a request (body, query, role) and writing a reply in the
//! contract of [`crate::api::relay`].

use super::Side;
use crate::{
    api::{
        ApiError, ErrorCode,
        relay::{Failure, Reply as Ok200, Role, SeatQuery},
    },
    protocol::hex,
    server::channels::ChannelError,
};
use axum::{
    Json,
    body::Bytes,
    extract::{Query, rejection::BytesRejection},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Serialize;
use std::time::Duration;

use super::MAX_WAIT_SECS;

// ------------------------------------------------------------------ replies

/// A successful reply: the contract's `body` beside `success: true` and `message`.
pub(super) fn ok(message: &'static str, body: impl Serialize) -> Response {
    Json(Ok200::ok(message, body)).into_response()
}

/// The error reply: `{"success": false, "code", "message"}` with the code's status.
pub struct RelayError(pub ApiError);

impl From<ApiError> for RelayError {
    fn from(err: ApiError) -> Self {
        Self(err)
    }
}

impl From<ChannelError> for RelayError {
    fn from(err: ChannelError) -> Self {
        Self(err.into())
    }
}

impl IntoResponse for RelayError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(Failure::from(self.0))).into_response()
    }
}

pub(super) type Reply = Result<Response, RelayError>;

// ------------------------------------------------------------------ request parsing

/// Reads a JSON body into `T`; an empty body reads as `{}` when `empty_ok`.
pub(super) fn parse_body<T: serde::de::DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
    empty_ok: bool,
) -> Result<T, RelayError> {
    let bytes = body.map_err(|e| {
        let code = if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ErrorCode::TooLarge
        } else {
            ErrorCode::BadRequest
        };
        RelayError(ApiError::new(
            code,
            "the request body could not be read (too large?)",
        ))
    })?;
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) && empty_ok {
        b"{}"
    } else {
        &bytes
    };
    serde_json::from_slice(bytes)
        .map_err(|e| RelayError(ApiError::bad_request(format!("malformed JSON body: {e}"))))
}

pub(super) fn seat_query(
    query: Result<Query<SeatQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<SeatQuery, RelayError> {
    query.map(|Query(q)| q).map_err(|e| {
        RelayError(ApiError::bad_request(format!(
            "expected ?uuid=…[&wait=seconds]: {}",
            e.body_text()
        )))
    })
}

pub(super) fn wait_of(q: &SeatQuery) -> Duration {
    Duration::from_secs(q.wait.unwrap_or(0).min(MAX_WAIT_SECS))
}

pub(super) fn side_of(role: Role) -> Side {
    match role {
        Role::Sender => Side::A,
        Role::Recipient => Side::B,
    }
}

pub(super) fn role_side(role: &str) -> Result<Side, RelayError> {
    Role::from_path(role).map(side_of).ok_or_else(|| {
        RelayError(ApiError::new(
            ErrorCode::NotFound,
            "the role in the path must be sender or recipient",
        ))
    })
}

pub(super) fn require_side(side: Side, want: Side) -> Result<(), ApiError> {
    if side == want {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::Forbidden,
            match want {
                Side::A => "only the sender may do this",
                Side::B => "only the recipient may do this",
            },
        ))
    }
}

/// Checks a lowercase-hex value of exactly `len` characters, optionally with a fixed prefix.
pub(super) fn check_hex(name: &str, value: &str, len: usize, prefix: &str) -> Result<(), ApiError> {
    if value.len() == len && hex::is_lower(value) && value.starts_with(prefix) {
        Ok(())
    } else {
        let start = if prefix.is_empty() {
            String::new()
        } else {
            format!(", starting with {prefix}")
        };
        Err(ApiError::invalid(format!(
            "{name} must be {len} lowercase hex digits{start}"
        )))
    }
}

/// SPAKE2 messages: a side byte ('A' = 0x41, 'B' = 0x42) and a 32-byte Ed25519 element.
pub(super) const MESSAGE_HEX: usize = 66;
/// SHA-256 digests.
pub(super) const DIGEST_HEX: usize = 64;

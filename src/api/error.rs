//! The one error type that crosses the network.
//!
//! Every failure a client can see is an [`ApiError`]: a stable machine-readable [`ErrorCode`] and
//! a human sentence. It never carries database or panic text; server code logs those and sends
//! [`ErrorCode::Internal`]. The HTTP status of each code is decided here and nowhere else.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a request failed, as a client can act on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request could not be read: malformed body, missing or extra fields, bad encoding.
    BadRequest,
    /// The request was well-formed but a value is not acceptable (out of range, wrong length…).
    InvalidValue,
    /// The thing named does not exist (any more).
    NotFound,
    /// A long poll's value has not arrived within its wait; ask again. (404, so clients that
    /// predate this code still read it as "not there".)
    NotYet,
    /// The thing exists but is taken: a busy Peggy, an occupied seat.
    Conflict,
    /// The caller may not do this: a wrong uuid, a third IP on a channel.
    Forbidden,
    /// The body or a value is larger than the server accepts.
    TooLarge,
    /// The caller is asking too often.
    RateLimited,
    /// The server cannot serve this right now (e.g. no modulus ready yet); try again.
    Unavailable,
    /// Something failed inside the server; details are in its log, not here.
    Internal,
}

impl ErrorCode {
    /// The HTTP status that carries this code.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::BadRequest | ErrorCode::InvalidValue => 400,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound | ErrorCode::NotYet => 404,
            ErrorCode::Conflict => 409,
            ErrorCode::TooLarge => 413,
            ErrorCode::RateLimited => 429,
            ErrorCode::Unavailable => 503,
            ErrorCode::Internal => 500,
        }
    }
}

/// A failure as the client sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadRequest, message)
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidValue, message)
    }

    /// The error for a failure inside the server. The cause is for the log only.
    pub fn internal() -> Self {
        Self::new(ErrorCode::Internal, "internal server error")
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApiError {}

impl FromServerFnError for ApiError {
    type Encoder = JsonEncoding;

    /// Maps the framework's own failures. Argument and body problems are the client's fault (4xx);
    /// their text comes from the decoder, never from the database or a panic.
    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // axum's body limit surfaces as an argument error; it is a size problem, not syntax.
            ServerFnErrorErr::Args(msg) | ServerFnErrorErr::Deserialization(msg)
                if msg.contains("length limit exceeded") =>
            {
                Self::new(
                    ErrorCode::TooLarge,
                    "the request body is larger than the server accepts",
                )
            }
            ServerFnErrorErr::Args(msg) | ServerFnErrorErr::Deserialization(msg) => {
                Self::bad_request(format!("malformed request: {}", truncate(&msg, 200)))
            }
            ServerFnErrorErr::MissingArg(msg) => {
                Self::bad_request(format!("missing argument: {}", truncate(&msg, 200)))
            }
            ServerFnErrorErr::UnsupportedRequestMethod(msg) => {
                Self::bad_request(format!("unsupported method: {}", truncate(&msg, 80)))
            }
            ServerFnErrorErr::Request(msg) => Self::new(
                ErrorCode::Unavailable,
                format!("could not reach the server: {}", truncate(&msg, 200)),
            ),
            ServerFnErrorErr::Registration(_) => {
                Self::new(ErrorCode::NotFound, "no such server function")
            }
            _ => Self::internal(),
        }
    }
}

/// The first `max` characters of `text` (for echoing a client's value in a refusal).
pub(crate) fn truncate(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((i, _)) => &text[..i],
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_faults_are_4xx_and_server_faults_are_5xx() {
        let args = ApiError::from_server_fn_error(ServerFnErrorErr::Args("bad".into()));
        assert_eq!(args.code, ErrorCode::BadRequest);
        assert_eq!(args.code.http_status(), 400);
        let inner = ApiError::from_server_fn_error(ServerFnErrorErr::ServerError(
            "database is locked at /var/db".into(),
        ));
        assert_eq!(inner, ApiError::internal());
        assert!(!inner.message.contains("database"));
        let limit =
            ApiError::from_server_fn_error(ServerFnErrorErr::Args("length limit exceeded".into()));
        assert_eq!(limit.code.http_status(), 413);
    }

    #[test]
    fn round_trips_as_json() {
        let err = ApiError::new(ErrorCode::Conflict, "Peggy is busy");
        let bytes = err.ser();
        assert_eq!(ApiError::de(bytes), err);
    }
}

//! Turns failures into the right HTTP status, in one place.
//!
//! Server functions answer every error with status 500 and the encoded [`ApiError`] as body; this
//! layer reads that body back (bounded) and sets the status its [`ErrorCode`] calls for, so a
//! malformed request is a 400, not a 500. A panic in a handler becomes a plain internal error.

use crate::api::{ApiError, ErrorCode};
use axum::{
    body::Body,
    extract::Request,
    http::{StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use std::any::Any;

/// Largest error body this layer reads back.
const MAX_ERROR_BODY: usize = 16 * 1024;

/// Middleware for server function routes (`/api/…`).
pub async fn server_fn_status(req: Request, next: Next) -> Response {
    let is_api = req.uri().path().starts_with("/api/");
    let res = next.run(req).await;
    if !is_api || res.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ERROR_BODY).await else {
        return error_response(&ApiError::internal());
    };
    if let Ok(err) = serde_json::from_slice::<ApiError>(&bytes) {
        parts.status = status_of(err.code);
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// The response for `err`: its status and its JSON body.
pub fn error_response(err: &ApiError) -> Response {
    let body = serde_json::to_vec(err).unwrap_or_default();
    (
        status_of(err.code),
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

fn status_of(code: ErrorCode) -> StatusCode {
    StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// For `CatchPanicLayer`: logs the panic and answers with a plain internal error.
pub fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    tracing::error!(panic = %what, "handler panicked");
    error_response(&ApiError::internal())
}

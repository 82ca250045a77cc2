//! Checks every request passes before a route sees it.
//!
//! - **Origin.** A WebSocket upgrade or a state-changing request (anything but GET, HEAD and
//!   OPTIONS) that carries an `Origin` must come from the server's own origin — the Origin names
//!   the host the request was sent to — or from one listed in `[server] allowed_origins`.
//!   Browsers send `Origin` on every such request, so a page on another site can neither open
//!   our WebSockets nor post to our routes (a "simple" cross-site POST included). Requests
//!   without one (the CLI, scripts) pass, unless `Sec-Fetch-Site` says a browser sent them
//!   cross-site.
//! - **WebSockets per address.** An upgrade counts its connection as a WebSocket at the
//!   [`Gate`](super::gate::Gate); beyond `[server] max_websockets_per_ip` it is refused (429).

use super::{AppState, gate::ConnPermit};
use crate::api::{ApiError, ErrorCode};
use axum::{
    Json,
    extract::{Request, State},
    http::{HeaderMap, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use serde_json::json;
use std::sync::Arc;

pub async fn check(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let upgrade = is_websocket_upgrade(request.headers());
    let changes_state = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if (upgrade || changes_state)
        && let Err(err) = origin_allowed(request.headers(), &state.config.server.allowed_origins)
    {
        tracing::info!(path = %request.uri().path(), "refused a cross-site request");
        return refuse(&err);
    }
    if upgrade
        && let Some(permit) = request.extensions().get::<Arc<ConnPermit>>()
        && let Err(err) = permit.become_websocket()
    {
        return refuse(&err);
    }
    next.run(request).await
}

fn is_websocket_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// Whether a request with these headers may change state or open a WebSocket.
pub fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> Result<(), ApiError> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        let cross_site = headers
            .get("sec-fetch-site")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"cross-site"));
        return if cross_site {
            Err(cross_site_error("a cross-site request"))
        } else {
            Ok(())
        };
    };
    let origin = origin
        .to_str()
        .map_err(|_| cross_site_error("an unreadable Origin"))?
        .trim_end_matches('/')
        .to_ascii_lowercase();
    if allowed.contains(&origin) {
        return Ok(());
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_ascii_lowercase);
    let same_host = match (origin.split_once("://"), host) {
        (Some(("http" | "https", authority)), Some(host)) => authority == host,
        _ => false,
    };
    if same_host {
        Ok(())
    } else {
        let shown: String = origin.chars().take(80).collect();
        Err(cross_site_error(&format!("the origin {shown}")))
    }
}

fn cross_site_error(what: &str) -> ApiError {
    ApiError::new(
        ErrorCode::Forbidden,
        format!("{what} may not use this server (cross-site requests are refused)"),
    )
}

fn refuse(err: &ApiError) -> Response {
    let status =
        StatusCode::from_u16(err.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        Json(json!({ "success": false, "code": err.code, "message": err.message })),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn own_origin_listed_origins_and_no_origin_pass() {
        let none: Vec<String> = Vec::new();
        let own = headers(&[
            ("host", "127.0.0.1:3000"),
            ("origin", "http://127.0.0.1:3000"),
        ]);
        origin_allowed(&own, &none).unwrap();
        let upper = headers(&[
            ("host", "Relay.Example"),
            ("origin", "https://relay.example"),
        ]);
        origin_allowed(&upper, &none).unwrap();
        origin_allowed(&headers(&[("host", "127.0.0.1:3000")]), &none).unwrap();
        let listed = vec!["https://app.example".to_owned()];
        let other = headers(&[("host", "relay.example"), ("origin", "https://app.example")]);
        origin_allowed(&other, &listed).unwrap();
    }

    #[test]
    fn foreign_null_and_cross_site_requests_are_refused() {
        let none: Vec<String> = Vec::new();
        for refused in [
            headers(&[
                ("host", "127.0.0.1:3000"),
                ("origin", "https://evil.example"),
            ]),
            headers(&[
                ("host", "127.0.0.1:3000"),
                ("origin", "http://127.0.0.1:3001"),
            ]),
            headers(&[("host", "127.0.0.1:3000"), ("origin", "null")]),
            headers(&[
                ("host", "127.0.0.1:3000"),
                ("origin", "ftp://127.0.0.1:3000"),
            ]),
            headers(&[("origin", "http://127.0.0.1:3000")]),
            headers(&[("host", "127.0.0.1:3000"), ("sec-fetch-site", "cross-site")]),
        ] {
            let err = origin_allowed(&refused, &none).unwrap_err();
            assert_eq!(err.code, ErrorCode::Forbidden, "{refused:?}");
        }
    }
}

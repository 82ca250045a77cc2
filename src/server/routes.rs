//! The HTTP surface: pages (server-rendered), server functions, WebSockets and static files.

use super::{AppState, guards, http_errors, identify, ping_socket, relay};
use crate::app::{App, shell};
use axum::{Router, extract::DefaultBodyLimit, middleware, routing::get};
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::{catch_panic::CatchPanicLayer, trace::TraceLayer};

pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let max_body = state.config.server.max_body_bytes;
    let context = {
        let state = state.clone();
        move || provide_context(state.clone())
    };
    let render = {
        let options = state.leptos_options.clone();
        move || shell(options.clone())
    };
    Router::new()
        .route("/ws/ping", get(ping_socket::upgrade))
        .merge(relay::routes())
        .merge(identify::routes())
        .leptos_routes_with_context(&state, routes, context, render)
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn_with_state(state.clone(), identify::prefetch_list))
        .layer(middleware::from_fn(http_errors::server_fn_status))
        .layer(middleware::from_fn_with_state(state.clone(), guards::check))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(CatchPanicLayer::custom(http_errors::panic_response))
        // Spans name the path only: query strings carry seat uuids and Peggy secrets.
        .layer(TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<_>| {
            tracing::debug_span!("request", method = %request.method(), path = %request.uri().path())
        }))
        .with_state(state)
}

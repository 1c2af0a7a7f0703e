//! HTTP handlers and the router.
//!
//! | route | auth | body | answer |
//! |---|---|---|---|
//! | `GET /v1/health` | none | | `ok` |
//! | `POST /v1/login` | none | JSON `{user, password, device, actor}` | JSON `{token, user, role, territory}` |
//! | `POST /v1/logout` | Bearer | | 204 |
//! | `GET /v1/me` | Bearer | | JSON `{user, role, territory}` |
//! | `POST /v1/sync` | Bearer | zstd(postcard(`SyncRequest`)) | zstd(postcard(`SyncResponse`)) |
//! | `GET /v1/reports/rollup?node=&period=&date=&format=json\|csv\|xlsx` | Bearer | | a node's rollup (see [`crate::reports`]) |
//!
//! Errors are JSON `{"error": code, "message": text}` (see [`crate::error`]). Login and sync are
//! bounded by [`limits`]: 429 `rate_limited` and 503 `busy` carry `Retry-After` in seconds.

mod auth;
pub mod limits;
mod reports;
mod sync;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::routing::{get, post};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

use crate::AppState;
use crate::accounts::{self, Caller};
use crate::error::ServerError;
use crate::store;

/// The application's routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/health", get(|| async { "ok" }))
        .route("/v1/login", post(auth::login))
        .route("/v1/logout", post(auth::logout))
        .route("/v1/me", get(auth::me))
        .route("/v1/sync", post(sync::sync))
        .route("/v1/reports/rollup", get(reports::rollup_report))
        .layer(CatchPanicLayer::new())
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ServerError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or_else(|| ServerError::Unauthorized("missing bearer token".into()))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .ok_or_else(|| ServerError::Unauthorized("malformed authorization header".into()))?;
        let hash = accounts::token_hash(token);
        let lookup = hash.clone();
        let found = state
            .store
            .run(move |c| store::accounts::token(c, &lookup))
            .await?;
        let (user, device, actor) = found.ok_or_else(|| {
            ServerError::Unauthorized("unknown or revoked token; log in again".into())
        })?;
        Ok(Caller {
            user,
            device,
            actor,
            token_hash: hash,
        })
    }
}

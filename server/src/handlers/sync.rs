//! `POST /v1/sync`.

use axum::body::Body;
use axum::extract::State;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use shared::protocol::{self, MAX_REQUEST_BYTES};

use crate::AppState;
use crate::accounts::Caller;
use crate::error::ServerError;
use crate::sync;

/// Reads and discards a refused body (up to a bound), so that the client finishes sending and
/// reads the 413 instead of failing on a closed connection.
async fn drain(mut body: Body) {
    use http_body_util::BodyExt;
    let mut seen = 0usize;
    while seen <= 2 * MAX_REQUEST_BYTES {
        match body.frame().await {
            Some(Ok(frame)) => seen += frame.data_ref().map_or(0, |d| d.len()),
            _ => return,
        }
    }
}

/// One sync exchange.
pub async fn sync(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ServerError> {
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::trim)
        .unwrap_or_default();
    if !content_type.eq_ignore_ascii_case(protocol::CONTENT_TYPE) {
        return Err(ServerError::UnsupportedMediaType(format!(
            "the body must be {}",
            protocol::CONTENT_TYPE
        )));
    }
    let too_large =
        || ServerError::TooLarge(format!("the body is larger than {MAX_REQUEST_BYTES} bytes"));
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > MAX_REQUEST_BYTES as u64) {
        drain(body).await;
        return Err(too_large());
    }
    let body = axum::body::to_bytes(body, MAX_REQUEST_BYTES)
        .await
        .map_err(|_| too_large())?;
    let budget_max = state.config.pull_budget_max;
    let rules_enabled = state.config.rules_enabled;
    let store = state.store.clone();
    let bytes = tokio::task::spawn_blocking(move || {
        let request = sync::decode_body(&body)?;
        let response = sync::exchange(&store, &caller, request, budget_max, rules_enabled)?;
        sync::encode_body(&response)
    })
    .await??;
    Ok((
        [(
            CONTENT_TYPE,
            HeaderValue::from_static(protocol::CONTENT_TYPE),
        )],
        bytes,
    )
        .into_response())
}

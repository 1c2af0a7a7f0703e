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

/// What a sync holds besides its body, inflation and response (headers, the caller, the
/// exchange's own bookkeeping), reserved up front.
const BASE_BYTES: usize = 256 * 1024;

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
    // Room for the body is reserved before it is read; the rest as the request grows.
    let declared = declared.map_or(MAX_REQUEST_BYTES, |len| {
        usize::try_from(len).unwrap_or(MAX_REQUEST_BYTES)
    });
    let reservation = state
        .limits
        .syncs
        .admit(&caller.actor, BASE_BYTES + declared)
        .await?;
    let body = axum::body::to_bytes(body, MAX_REQUEST_BYTES)
        .await
        .map_err(|_| too_large())?;
    let (request, mut reservation) = state
        .limits
        .decoders
        .run(move || {
            let mut reservation = reservation;
            let held = BASE_BYTES + body.len();
            let request =
                sync::decode_body_within(&body, |inflated| reservation.ensure(held + inflated));
            request.map(|request| (request, reservation))
        })
        .await??;
    let budget_max = state.config.pull_budget_max;
    let rules_enabled = state.config.rules_enabled;
    let store = state.store.clone();
    let bytes = tokio::task::spawn_blocking(move || {
        // The response is built at most `pull_budget` large, then compressed: room for both.
        let pull = usize::try_from(request.pull_budget.min(budget_max)).unwrap_or(usize::MAX);
        reservation.ensure(reservation.bytes().saturating_add(pull.saturating_mul(2)))?;
        let response = sync::exchange(&store, &caller, request, budget_max, rules_enabled)?;
        let bytes = sync::encode_body(&response);
        drop(reservation);
        bytes
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

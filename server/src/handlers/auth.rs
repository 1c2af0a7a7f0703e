//! Login, logout, who am I.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::{Extensions, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::accounts::{self, Caller};
use crate::error::ServerError;
use crate::store;

/// The login request.
#[derive(Debug, Deserialize)]
pub struct LoginRequest {
    user: String,
    password: String,
    device: String,
    actor: String,
}

/// `POST /v1/login`.
///
/// The order keeps a flood cheap and harmless: malformed requests are refused first, then the
/// failed-login limits (429 before any work), then the user's hash is read (holding the database
/// lock only for that read), then the password is checked on the bounded pool outside the lock
/// (an unknown user against a dummy hash, so both cost and answer the same), and only then is the
/// device registered.
pub async fn login(
    State(state): State<AppState>,
    extensions: Extensions,
    body: Result<Json<LoginRequest>, JsonRejection>,
) -> Result<Json<Value>, ServerError> {
    let Json(request) = body.map_err(|e| ServerError::malformed(e.body_text()))?;
    let actor = accounts::parse_actor(&request.actor)?;
    if actor == crate::flags::system_actor_hex() {
        // The server's own actor signs flags; no laptop may take it.
        return Err(ServerError::Conflict(
            "this actor id is reserved for the server".into(),
        ));
    }
    let device = request.device.trim().to_string();
    if device.is_empty() || device.len() > 200 {
        return Err(ServerError::malformed("device must be 1 to 200 characters"));
    }
    let address = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_string(), |info| info.0.ip().to_string());
    let attempt = state.limits.logins.admit(&request.user, &address)?;
    let name = request.user.clone();
    let found = state
        .store
        .run(move |c| store::accounts::user_with_hash(c, &name))
        .await?;
    let (user, hash) = match found {
        Some((user, hash)) => (Some(user), Some(hash)),
        None => (None, None),
    };
    let matched = state
        .limits
        .passwords
        .verify(request.password, hash)
        .await?;
    let Some(user) = user.filter(|_| matched) else {
        return Err(ServerError::Unauthorized(
            "wrong user name or password".into(),
        ));
    };
    attempt.succeeded();
    let name = user.name.clone();
    let (token, grade) = state
        .store
        .run(move |c| register(c, &name, &device, &actor))
        .await?;
    Ok(Json(json!({
        "token": token,
        "user": user.name,
        "role": user.role.as_str(),
        "grade": grade,
        "territory": user.territory,
    })))
}

/// Registers the device and issues its token; returns the token and the user's grade.
fn register(
    c: &mut rusqlite::Connection,
    user: &str,
    device: &str,
    actor: &str,
) -> Result<(String, String), ServerError> {
    match store::accounts::device_user(c, actor)? {
        Some(owner) if owner != user => {
            return Err(ServerError::Conflict(
                "this device's actor id is registered to another user".into(),
            ));
        }
        _ => {}
    }
    let (token, token_hash) = accounts::new_token();
    let tx = c.transaction()?;
    store::accounts::register_device(&tx, actor, user, device)?;
    store::accounts::insert_token(&tx, &token_hash, user, device, actor)?;
    tx.commit()?;
    let grade = store::accounts::grade(c, user)?;
    tracing::info!(user = %user, device = %device, "login");
    Ok((token, grade))
}

/// `POST /v1/logout`: revokes the token used.
pub async fn logout(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<StatusCode, ServerError> {
    let hash = caller.token_hash.clone();
    state
        .store
        .run(move |c| store::accounts::revoke_token(c, &hash))
        .await?;
    tracing::info!(user = %caller.user.name, device = %caller.device, "logout");
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/me`.
pub async fn me(caller: Caller) -> Json<Value> {
    Json(json!({
        "user": caller.user.name,
        "role": caller.user.role.as_str(),
        "territory": caller.user.territory,
    }))
}

//! Login, logout, who am I.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
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
pub async fn login(
    State(state): State<AppState>,
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
    let (token, (answer, grade)) = state
        .store
        .run(move |c| {
            let denied = || ServerError::Unauthorized("wrong user name or password".into());
            let Some((user, hash)) = store::accounts::user_with_hash(c, &request.user)? else {
                return Err(denied());
            };
            if !accounts::verify_password(&request.password, &hash) {
                return Err(denied());
            }
            match store::accounts::device_user(c, &actor)? {
                Some(owner) if owner != user.name => {
                    return Err(ServerError::Conflict(
                        "this device's actor id is registered to another user".into(),
                    ));
                }
                _ => {}
            }
            let (token, token_hash) = accounts::new_token();
            let tx = c.transaction()?;
            store::accounts::register_device(&tx, &actor, &user.name, &device)?;
            store::accounts::insert_token(&tx, &token_hash, &user.name, &device, &actor)?;
            tx.commit()?;
            let grade = store::accounts::grade(c, &user.name)?;
            tracing::info!(user = %user.name, device = %device, "login");
            Ok((token, (user, grade)))
        })
        .await?;
    Ok(Json(json!({
        "token": token,
        "user": answer.name,
        "role": answer.role.as_str(),
        "grade": grade,
        "territory": answer.territory,
    })))
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

//! The one place where server errors become HTTP answers.
//!
//! Every handler returns [`ServerError`]; its [`IntoResponse`] maps it to a status and a JSON body
//! `{"error": code, "message": text}`. Internal failures are logged with their details and
//! answered with a generic message, so that nothing about the server's insides leaks out.

use axum::Json;
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Everything that can go wrong in the server.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// No token, or a wrong, revoked or unknown one; or wrong credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// The caller is known but may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The request is malformed; `code` is machine-readable.
    #[error("{message}")]
    BadRequest {
        /// Stable code, e.g. `malformed`, `unsupported_protocol`.
        code: &'static str,
        /// A sentence for people.
        message: String,
    },
    /// The body (or what it inflates to) is larger than allowed.
    #[error("{0}")]
    TooLarge(String),
    /// The body has the wrong content type.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The caller sent too much too fast (login attempts, concurrent syncs from one device): 429
    /// with `Retry-After` in seconds.
    #[error("{message}")]
    RateLimited {
        /// A sentence for people.
        message: String,
        /// Seconds to wait before trying again.
        retry_after: u64,
    },
    /// The server is at its bound for this kind of work (password checks, in-flight sync
    /// memory): 503 with `Retry-After` in seconds. Nothing is wrong with the request.
    #[error("{message}")]
    Busy {
        /// A sentence for people.
        message: String,
        /// Seconds to wait before trying again.
        retry_after: u64,
    },
    /// The request conflicts with existing state (e.g. an actor registered to another user).
    #[error("{0}")]
    Conflict(String),
    /// Something named does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The configuration is unusable (e.g. plain HTTP off loopback).
    #[error("configuration: {0}")]
    Config(String),
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] rusqlite::Error),
    /// An I/O failure (listening, reading files).
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// Any other internal failure.
    #[error("internal: {0}")]
    Internal(String),
}

impl ServerError {
    /// A 400 with code `malformed`.
    pub fn malformed(message: impl Into<String>) -> Self {
        Self::BadRequest {
            code: "malformed",
            message: message.into(),
        }
    }

    /// The HTTP status and stable code for this error.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Self::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            Self::BadRequest { code, .. } => (StatusCode::BAD_REQUEST, code),
            Self::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            Self::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            Self::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            Self::Busy { .. } => (StatusCode::SERVICE_UNAVAILABLE, "busy"),
            Self::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            Self::Config(_) | Self::Db(_) | Self::Io(_) | Self::Internal(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        }
    }
}

impl From<tokio::task::JoinError> for ServerError {
    fn from(error: tokio::task::JoinError) -> Self {
        Self::Internal(format!("background task failed: {error}"))
    }
}

impl IntoResponse for ServerError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let retry_after = match &self {
            Self::RateLimited { retry_after, .. } | Self::Busy { retry_after, .. } => {
                Some(*retry_after)
            }
            _ => None,
        };
        let message = if let Self::Busy { message, .. } = &self {
            // Busy is the one 5xx whose message is ours to show: it names no internals.
            message.clone()
        } else if status.is_server_error() {
            tracing::error!(error = %self, "internal error");
            "internal server error".to_string()
        } else {
            tracing::debug!(code, error = %self, "request refused");
            self.to_string()
        };
        let mut response =
            (status, Json(json!({ "error": code, "message": message }))).into_response();
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(seconds.max(1)));
        }
        response
    }
}

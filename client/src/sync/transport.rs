//! HTTP to the sync server: sign-in and the one sync request, with network failures kept apart
//! from the server's permanent refusals.

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use shared::protocol::{CONTENT_TYPE, MAX_DECOMPRESSED_BYTES};

use crate::error::ClientError;

/// A connection to one sync server.
#[derive(Debug, Clone)]
pub struct Http {
    client: reqwest::blocking::Client,
    base: String,
    busy: BusyNotice,
}

/// The longest one `Retry-After` is waited out; a server asking for more is waited this long.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// How many busy answers in a row one request sits out before it reports the server busy (and
/// the sync's own backoff takes over).
const MAX_BUSY_WAITS: u32 = 30;

/// What to tell the user while the server asks the laptop to wait.
#[derive(Clone)]
struct BusyNotice(Arc<dyn Fn(Duration) + Send + Sync>);

impl std::fmt::Debug for BusyNotice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BusyNotice")
    }
}

/// What the server says on sign-in.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginReply {
    /// The device token; stored on this laptop only.
    pub token: String,
    /// The user name.
    pub user: String,
    /// The role.
    pub role: String,
    /// The grade (probation, regular, supervisor), which with the role decides authority;
    /// absent from servers that predate grades.
    #[serde(default)]
    pub grade: Option<String>,
    /// The user's territory.
    pub territory: String,
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: String,
    message: String,
}

impl Http {
    /// A client for the server at `base` (e.g. `http://127.0.0.1:8440`).
    pub fn new(base: &str) -> Result<Http, ClientError> {
        let client = reqwest::blocking::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            // A stalled connection must not hang a sync forever; the retry picks it up again.
            .timeout(Duration::from_secs(120))
            .build()
            .map_err(|e| ClientError::Network(e.to_string()))?;
        Ok(Http {
            client,
            base: base.trim_end_matches('/').to_string(),
            busy: BusyNotice(Arc::new(|delay| {
                tracing::warn!("server busy, retrying in {delay:?}");
            })),
        })
    }

    /// Calls `notice` with the wait each time the server answers "busy" (429/503 with
    /// `Retry-After`) and the laptop waits before retrying, so the user sees why it pauses.
    pub fn on_busy(mut self, notice: impl Fn(Duration) + Send + Sync + 'static) -> Http {
        self.busy = BusyNotice(Arc::new(notice));
        self
    }

    /// Signs in and registers this device's actor id.
    pub fn login(
        &self,
        user: &str,
        password: &str,
        device: &str,
        actor: &str,
    ) -> Result<LoginReply, ClientError> {
        let body = serde_json::json!({"user": user, "password": password, "device": device, "actor": actor});
        let response = self
            .client
            .post(format!("{}/v1/login", self.base))
            .json(&body)
            .send()
            .map_err(network)?;
        let response = check(response)?;
        response
            .json()
            .map_err(|e| ClientError::Protocol(e.to_string()))
    }

    /// Sends one compressed sync body; returns the decompressed answer and its size on the wire.
    pub fn sync(&self, token: &str, body: Vec<u8>) -> Result<(Vec<u8>, u64), ClientError> {
        let request = self
            .client
            .post(format!("{}/v1/sync", self.base))
            .bearer_auth(token)
            .header(reqwest::header::CONTENT_TYPE, CONTENT_TYPE)
            .body(body);
        let response = self.send_waiting_when_busy(request)?;
        let compressed = response.bytes().map_err(network)?;
        Ok((decompress(&compressed)?, compressed.len() as u64))
    }
}

impl Http {
    /// Sends `request`; while the server answers 429 or 503 with `Retry-After`, waits that long
    /// (at most [`MAX_RETRY_AFTER`], at most [`MAX_BUSY_WAITS`] times) and sends it again. Our
    /// server sends these answers before it has done anything with the request, and a sync is
    /// idempotent anyway, so repeating it is safe; any other answer goes through [`check`].
    fn send_waiting_when_busy(
        &self,
        request: reqwest::blocking::RequestBuilder,
    ) -> Result<reqwest::blocking::Response, ClientError> {
        let mut waits = 0;
        loop {
            let attempt = request
                .try_clone()
                .ok_or_else(|| ClientError::Protocol("the request cannot be repeated".into()))?;
            let response = attempt.send().map_err(network)?;
            let status = response.status().as_u16();
            let delay = retry_after(&response).filter(|_| status == 429 || status == 503);
            match delay {
                Some(delay) if waits < MAX_BUSY_WAITS => {
                    waits += 1;
                    (self.busy.0)(delay);
                    std::thread::sleep(delay);
                }
                _ => return check(response),
            }
        }
    }
}

/// The wait a `Retry-After` header asks for (whole seconds; HTTP dates are not used by our
/// server and are ignored), bounded by [`MAX_RETRY_AFTER`].
fn retry_after(response: &reqwest::blocking::Response) -> Option<Duration> {
    let seconds: u64 = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER))
}

/// Inflates a zstd body, refusing anything that would grow past the protocol's cap (as
/// [`ClientError::AnswerTooLarge`], which the sync answers by asking for smaller pages).
pub fn decompress(compressed: &[u8]) -> Result<Vec<u8>, ClientError> {
    let decoder = zstd::stream::read::Decoder::new(compressed)
        .map_err(|e| ClientError::Protocol(e.to_string()))?;
    let mut out = Vec::new();
    decoder
        .take(MAX_DECOMPRESSED_BYTES as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| ClientError::Protocol(format!("cannot decompress: {e}")))?;
    if out.len() > MAX_DECOMPRESSED_BYTES {
        return Err(ClientError::AnswerTooLarge {
            limit: MAX_DECOMPRESSED_BYTES,
        });
    }
    Ok(out)
}

fn network(error: reqwest::Error) -> ClientError {
    ClientError::Network(error.to_string())
}

/// Turns an HTTP error status into the matching error: 5xx may pass, 4xx will not.
fn check(
    response: reqwest::blocking::Response,
) -> Result<reqwest::blocking::Response, ClientError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let text = response.text().unwrap_or_default();
    let body: Option<ErrorBody> = serde_json::from_str(&text).ok();
    let message = body
        .as_ref()
        .map_or_else(|| text.chars().take(200).collect(), |b| b.message.clone());
    if status.is_server_error() || status.as_u16() == 429 {
        return Err(ClientError::ServerBusy {
            status: status.as_u16(),
            message,
        });
    }
    Err(ClientError::Refused {
        status: status.as_u16(),
        code: body.map_or_else(|| status.as_str().to_string(), |b| b.error),
        message,
    })
}

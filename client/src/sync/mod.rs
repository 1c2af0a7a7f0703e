//! Sync: push this laptop's unacknowledged changes and pull what the server has for it, one
//! round trip at a time, until both sides are level.
//!
//! Each round trip is settled in one local transaction (see [`crate::store::Store::settle`]), so a
//! connection that drops at any point loses nothing: the next attempt re-sends what was not
//! acknowledged and pulls again from the last committed cursor. Failed round trips are retried
//! with exponential backoff and jitter; local work never waits on any of this.

mod transport;

pub use transport::{Http, LoginReply, decompress};

use std::time::Duration;

use backon::{BlockingRetryable, ExponentialBuilder};
use serde::Serialize;
use shared::protocol::{self, PROTOCOL_VERSION, PushChange, SyncRequest, SyncResponse};

use crate::error::ClientError;
use crate::store::Store;

/// How a sync runs.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// Most change bytes to push per round trip.
    pub push_budget: usize,
    /// Most change bytes to ask for per round trip.
    pub pull_budget: u64,
    /// Attempts per round trip before giving up (with backoff between them).
    pub attempts: usize,
    /// First backoff delay.
    pub first_delay: Duration,
    /// Give up after this many round trips (a guard against a server that never says "done").
    pub max_round_trips: u64,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            push_budget: 2 * 1024 * 1024,
            pull_budget: protocol::DEFAULT_PULL_BUDGET,
            attempts: 5,
            first_delay: Duration::from_millis(500),
            max_round_trips: 10_000,
        }
    }
}

/// What a sync did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SyncReport {
    /// Changes sent.
    pub pushed: u64,
    /// Changes the server acknowledged.
    pub acknowledged: u64,
    /// Changes the server holds until what they build on reaches it; they stay in the outbox
    /// and are pushed again by the next sync.
    pub held: u64,
    /// Changes the server refused (see `fieldsync rejected list`).
    pub rejected: u64,
    /// New changes received.
    pub pulled: u64,
    /// Pulled changes that could not be applied and were set aside (see `fieldsync inbox`).
    pub quarantined: u64,
    /// Changes set aside by earlier syncs that applied this time.
    pub recovered: u64,
    /// Documents removed because they left this user's view.
    pub purged: u64,
    /// Compressed bytes sent.
    pub bytes_up: u64,
    /// Compressed bytes received.
    pub bytes_down: u64,
    /// Successful round trips.
    pub round_trips: u64,
    /// Attempts that failed and were retried.
    pub retries: u64,
}

/// Signs this laptop in: registers its actor id with the server and keeps the device token, the
/// server and the user's role and territory in the store.
pub fn sign_in(
    store: &mut Store,
    http: &Http,
    server: &str,
    user: &str,
    password: &str,
) -> Result<LoginReply, ClientError> {
    let device = store.device().clone();
    let reply = http.login(user, password, &device.name, &device.actor.to_hex_string())?;
    store.set_identity(&reply.user, &device.name, device.time_zone)?;
    store.set_meta("server", server.trim_end_matches('/'))?;
    store.set_meta("token", &reply.token)?;
    store.set_meta("role", &reply.role)?;
    store.set_meta("grade", reply.grade.as_deref().unwrap_or("regular"))?;
    store.set_meta("territory", &reply.territory)?;
    Ok(reply)
}

/// Syncs until nothing is left to push or pull. `progress` is called after every round trip.
pub fn sync(
    store: &mut Store,
    http: &Http,
    options: &SyncOptions,
    mut progress: impl FnMut(&SyncReport),
) -> Result<SyncReport, ClientError> {
    let token = store.meta("token")?.ok_or(ClientError::NotSignedIn)?;
    // Changes set aside earlier are tried first: their cause may have gone away since.
    let mut report = SyncReport {
        recovered: store.retry_quarantined()?.applied,
        ..SyncReport::default()
    };
    let mut pull_budget = options.pull_budget;
    // A change the server holds is pushed once per run: the server applies it by itself when
    // what it waits for arrives (in a later batch of this run or from another laptop), and the
    // next run learns its verdict.
    let mut held = std::collections::HashSet::new();
    loop {
        let batch = store.outbox_batch_except(options.push_budget, &held)?;
        let request = SyncRequest {
            protocol: PROTOCOL_VERSION,
            cursor: store.cursor()?,
            push: batch
                .iter()
                .map(|o| PushChange {
                    doc_id: o.doc_id,
                    bytes: o.bytes.clone(),
                })
                .collect(),
            pull_budget,
        };
        let body = zstd::encode_all(protocol::encode(&request).as_slice(), 3)?;
        let answer = match round_trip(http, &token, &body, options, &mut report) {
            Err(ClientError::AnswerTooLarge { .. }) if pull_budget > 1 => {
                // The same request would bring the same page: ask for a smaller one. Nothing
                // was settled, so the same push goes again (the server ignores what it has).
                pull_budget = smaller_page(pull_budget);
                report.retries += 1;
                continue;
            }
            answer => answer?,
        };
        let response: SyncResponse =
            protocol::decode(&answer).map_err(|e| ClientError::Protocol(e.to_string()))?;
        report.bytes_up += body.len() as u64;
        report.round_trips += 1;
        report.pushed += batch.len() as u64;
        let pushed: Vec<String> = batch.iter().map(|o| o.hash.clone()).collect();
        let settled = store.settle(&pushed, &response)?;
        report.acknowledged += settled.acked;
        report.held += settled.held.len() as u64;
        held.extend(settled.held);
        report.rejected += settled.rejected;
        report.pulled += settled.pulled;
        report.quarantined += settled.quarantined;
        report.purged += settled.purged;
        progress(&report);
        let outbox_left = !store.outbox_batch_except(1, &held)?.is_empty();
        if (!response.more && !outbox_left) || report.round_trips >= options.max_round_trips {
            return Ok(report);
        }
    }
}

/// The page budget to ask for after a page came back larger than the laptop accepts: at most
/// the default (known to fit), and halving from there.
fn smaller_page(budget: u64) -> u64 {
    (budget / 2).clamp(1, protocol::DEFAULT_PULL_BUDGET)
}

/// One request, retried with exponential backoff and jitter while the failure is temporary.
fn round_trip(
    http: &Http,
    token: &str,
    body: &[u8],
    options: &SyncOptions,
    report: &mut SyncReport,
) -> Result<Vec<u8>, ClientError> {
    let backoff = ExponentialBuilder::default()
        .with_min_delay(options.first_delay)
        .with_max_delay(Duration::from_secs(30))
        .with_max_times(options.attempts.saturating_sub(1))
        .with_jitter();
    let mut retries = 0;
    let result = (|| http.sync(token, body.to_vec()))
        .retry(backoff)
        .when(ClientError::is_retryable)
        .notify(|error, delay| {
            retries += 1;
            tracing::warn!("sync attempt failed ({error}); retrying in {delay:?}");
        })
        .call();
    report.retries += retries;
    let (answer, wire_bytes) = result?;
    report.bytes_down += wire_bytes;
    Ok(answer)
}

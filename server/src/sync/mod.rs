//! The sync exchange: decode the body, push each change, pull what the user may read.
//!
//! The HTTP edge ([`decode_body`], [`encode_body`]) bounds every size before anything is
//! parsed: the compressed body by the router's limit, its zstd inflation by
//! [`MAX_DECOMPRESSED_BYTES`], each change by [`shared::protocol::MAX_CHANGE_BYTES`] (see
//! [`chunk`]). [`exchange`] then runs on a blocking thread.

pub mod apply;
pub mod chunk;
pub mod fields;
pub mod pending;
pub mod pull;
pub mod revoked;

use std::collections::{BTreeSet, HashSet};
use std::io::Read;

use shared::protocol::{
    self, ActorInfo, MAX_DECOMPRESSED_BYTES, PROTOCOL_VERSION, SyncRequest, SyncResponse,
};

use crate::accounts::Caller;
use crate::error::ServerError;
use crate::store::{Store, accounts};
use crate::territory::Tree;
use apply::Outcome;

/// Inflates and decodes a request body, refusing bombs and garbage with 4xx errors.
pub fn decode_body(body: &[u8]) -> Result<SyncRequest, ServerError> {
    decode_body_within(body, |_| Ok(()))
}

/// Like [`decode_body`], calling `reserve(bytes)` before the memory it holds for the request
/// grows to `bytes` (the inflation buffer, then the decoded request beside it), so that a caller
/// keeping a memory budget can refuse before the memory is taken.
pub fn decode_body_within(
    body: &[u8],
    mut reserve: impl FnMut(usize) -> Result<(), ServerError>,
) -> Result<SyncRequest, ServerError> {
    let mut decoder = zstd::stream::read::Decoder::new(body)
        .map_err(|_| ServerError::malformed("the body is not zstd-compressed"))?;
    // The decoder's window is memory too, chosen by the sender: cap it.
    decoder
        .window_log_max(ZSTD_WINDOW_LOG_MAX)
        .map_err(|e| ServerError::Internal(format!("zstd window: {e}")))?;
    reserve(ZSTD_WINDOW_BYTES)?;
    let mut reserve_beside_window = |bytes: usize| reserve(ZSTD_WINDOW_BYTES + bytes);
    let inflated = inflate(decoder, &mut reserve_beside_window)?;
    // The decoded request holds about as much again as the inflated bytes.
    reserve_beside_window(2 * inflated.capacity())?;
    decode_inflated(&inflated)
}

/// The largest zstd window a request may use (2^23 = 8 MiB; the laptop's level 3 uses 2 MiB,
/// even level 19 uses 8 MiB). A body asking for more is refused as invalid zstd.
const ZSTD_WINDOW_LOG_MAX: u32 = 23;

/// The memory a decoder's window takes at most.
pub const ZSTD_WINDOW_BYTES: usize = 1 << ZSTD_WINDOW_LOG_MAX;

/// Reads `decoder` to the end (at most one byte past the cap), growing the buffer only after
/// `reserve` agreed to its new capacity.
fn inflate(
    decoder: impl Read,
    reserve: &mut impl FnMut(usize) -> Result<(), ServerError>,
) -> Result<Vec<u8>, ServerError> {
    const STEP: usize = 64 * 1024;
    let mut limited = decoder.take(MAX_DECOMPRESSED_BYTES as u64 + 1);
    let mut inflated = Vec::new();
    let mut chunk = vec![0u8; STEP];
    loop {
        let read = limited
            .read(&mut chunk)
            .map_err(|_| ServerError::malformed("the body is not valid zstd"))?;
        if read == 0 {
            return Ok(inflated);
        }
        let needed = inflated.len() + read;
        if needed > inflated.capacity() {
            // `take` stops reading one byte past the cap, so `needed` never exceeds it.
            let grown = (inflated.capacity() * 2)
                .max(needed)
                .clamp(STEP, MAX_DECOMPRESSED_BYTES + 1);
            reserve(grown)?;
            inflated.reserve_exact(grown - inflated.len());
        }
        inflated.extend_from_slice(&chunk[..read]);
    }
}

/// Decodes inflated bytes, refusing anything over the cap or of another protocol version.
fn decode_inflated(inflated: &[u8]) -> Result<SyncRequest, ServerError> {
    if inflated.len() > MAX_DECOMPRESSED_BYTES {
        return Err(ServerError::TooLarge(format!(
            "the body inflates beyond {MAX_DECOMPRESSED_BYTES} bytes"
        )));
    }
    let request: SyncRequest =
        protocol::decode(inflated).map_err(|e| ServerError::malformed(e.to_string()))?;
    if request.protocol != PROTOCOL_VERSION {
        return Err(ServerError::BadRequest {
            code: "unsupported_protocol",
            message: format!(
                "protocol version {} is not supported; this server speaks {PROTOCOL_VERSION}",
                request.protocol
            ),
        });
    }
    Ok(request)
}

/// Encodes and compresses a response.
pub fn encode_body(response: &SyncResponse) -> Result<Vec<u8>, ServerError> {
    zstd::stream::encode_all(&protocol::encode(response)[..], 3)
        .map_err(|e| ServerError::Internal(format!("compressing response: {e}")))
}

/// Runs one exchange (blocking): pushes in order, then pulls. `rules_enabled` is
/// [`crate::Config::rules_enabled`]: whether accepted changes run the flag rules.
pub fn exchange(
    store: &Store,
    caller: &Caller,
    request: SyncRequest,
    budget_max: u64,
    rules_enabled: bool,
) -> Result<SyncResponse, ServerError> {
    let tree = store.blocking(|c| Ok(Tree::new(accounts::territories(c)?)))?;
    let revoked = store.blocking(|c| revoked::check(c, caller, &request))?;
    let mut acked = Vec::new();
    let mut held = Vec::new();
    let mut rejected = Vec::new();
    for (index, push) in (0u32..).zip(&request.push) {
        let outcome = match revoked {
            Some(_) => revoked::refuse(index, push),
            None => {
                store.blocking(|c| apply::push_one(c, &tree, caller, index, push, rules_enabled))?
            }
        };
        match outcome {
            Outcome::Acked(hash) => acked.push(hash),
            Outcome::Held => held.push(index),
            Outcome::Rejected(rejection) => {
                tracing::info!(
                    user = %caller.user.name,
                    doc = %rejection.doc_id,
                    code = %rejection.code,
                    reason = %rejection.reason,
                    "change rejected"
                );
                rejected.push(rejection);
            }
        }
    }
    let skip: HashSet<Vec<u8>> = acked.iter().filter_map(|h| hex::decode(h).ok()).collect();
    let budget = request.pull_budget.min(budget_max).max(1);
    let pulled = store.blocking(|c| {
        let (user, actor) = (&caller.user, &caller.actor);
        pull::pull(c, &tree, user, actor, request.cursor, budget, &skip)
    })?;
    tracing::info!(
        user = %caller.user.name,
        device = %caller.device,
        pushed = request.push.len(),
        acked = acked.len(),
        held = held.len(),
        rejected = rejected.len(),
        pulled = pulled.changes.len(),
        purged = pulled.purge.len(),
        cursor = request.cursor,
        next_cursor = pulled.next_cursor,
        "sync"
    );
    let docs: BTreeSet<String> = pulled
        .changes
        .iter()
        .map(|c| c.doc_id.to_string())
        .collect();
    let docs: Vec<String> = docs.into_iter().collect();
    let actors = store
        .blocking(|c| crate::store::log::actors_of(c, &docs))?
        .into_iter()
        .map(|(actor, user, device)| ActorInfo {
            actor,
            user,
            device,
        })
        .collect();
    Ok(SyncResponse {
        acked: u32::try_from(acked.len()).unwrap_or(u32::MAX),
        held,
        rejected,
        changes: pulled.changes,
        purge: pulled.purge,
        next_cursor: pulled.next_cursor,
        more: pulled.more,
        actors,
    })
}

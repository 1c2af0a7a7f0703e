//! The sync wire protocol, version 2: one request carries both directions.
//!
//! The client sends the changes the server has not yet acknowledged plus its cursor (the highest
//! log sequence it has applied); the server answers with acknowledgements, rejections with
//! reasons, and the changes after the cursor that this user may read, in log order, up to a byte
//! budget, with the next cursor and whether more remains. No request depends on state from an
//! earlier one: pushing again is idempotent (changes are stored once by hash) and pulling again
//! from an old cursor only repeats changes the client will recognise.
//!
//! Bodies are postcard-encoded (compact, binary; change bytes are already binary) and then
//! compressed with zstd by the transport at the edges; this module does no I/O and no
//! compression.

use serde::{Deserialize, Serialize};

use crate::RecordId;

/// The protocol version this build speaks; a request with another version is refused with a
/// reason rather than misread. Version 2 names refusals by position and reports held changes.
pub const PROTOCOL_VERSION: u32 = 2;

/// Content type of encoded, compressed sync bodies.
pub const CONTENT_TYPE: &str = "application/vnd.fieldsync.sync.v1+zstd";

/// The most a compressed request body may be.
pub const MAX_REQUEST_BYTES: usize = 8 * 1024 * 1024;

/// The most a request may inflate to; larger is refused as a possible decompression bomb.
pub const MAX_DECOMPRESSED_BYTES: usize = 32 * 1024 * 1024;

/// The most one change may be, raw or inflated. The laptop refuses an edit whose change is
/// larger before storing it, so the server's refusal is never the first the author hears.
pub const MAX_CHANGE_BYTES: usize = 4 * 1024 * 1024;

/// The default byte budget of changes in one response.
pub const DEFAULT_PULL_BUDGET: u64 = 2 * 1024 * 1024;

/// One change the client pushes: the raw bytes of an Automerge change to one document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushChange {
    /// The document (record) the change belongs to.
    pub doc_id: RecordId,
    /// The change's bytes, as Automerge encodes a single change.
    #[serde(with = "serde_bytes")]
    pub bytes: Vec<u8>,
}

/// A sync request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRequest {
    /// Must be [`PROTOCOL_VERSION`].
    pub protocol: u32,
    /// The highest log sequence the client has applied (0 when it has nothing).
    pub cursor: u64,
    /// Changes not yet acknowledged, in the order they were made (causal order per document).
    pub push: Vec<PushChange>,
    /// The most change bytes the client wants in this response (the server may cap it lower).
    pub pull_budget: u64,
}

/// Why the server refused a change. The client keeps the refused edit visible with this reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    /// The refused change's position in the request's `push` list (0-based). A refusal names
    /// its change by position, not by hash, because a change too broken to parse has no hash
    /// the server could give, and the laptop must still know which edit was refused.
    pub index: u32,
    /// The document it was for.
    pub doc_id: RecordId,
    /// A stable machine-readable code, e.g. `out_of_scope`, `invalid_record`, `malformed`.
    pub code: String,
    /// A sentence for the person who made the edit.
    pub reason: String,
}

/// One change the server sends down, with its place in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullChange {
    /// Log sequence of this change (changes sent as part of a whole history carry the sequence
    /// of the event that brought the document into scope).
    pub seq: u64,
    /// The document.
    pub doc_id: RecordId,
    /// The change's bytes.
    #[serde(with = "serde_bytes")]
    pub bytes: Vec<u8>,
}

/// Who an Automerge actor is, so a laptop can show `user@device` in history and conflicts for
/// changes made elsewhere.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActorInfo {
    /// The actor id, in hex.
    pub actor: String,
    /// The user the device belongs to.
    pub user: String,
    /// The device's name.
    pub device: String,
}

/// A sync response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncResponse {
    /// How many of the pushed changes the server has applied (now or before): every pushed
    /// change not listed in `held` or `rejected`. The server answers every pushed change, so
    /// `acked + held.len() + rejected.len()` is the number pushed; anything else is a malformed
    /// answer. A count rather than the hashes, which the client already knows: the hashes were
    /// 15 % of a week's sync on the wire (see docs/benchmarks.md).
    pub acked: u32,
    /// Positions (in the request's `push` list) of changes the server stored but holds pending
    /// because what they build on has not reached it yet (earlier changes to the document, or
    /// the customer a visit or deal is for). The server applies them when that arrives, from
    /// any laptop; until then the laptop keeps them and pushes them again, and learns their
    /// fate like any other change's.
    pub held: Vec<u32>,
    /// Pushed changes the server refused, with reasons.
    pub rejected: Vec<Rejection>,
    /// Changes for the client, in log order.
    pub changes: Vec<PullChange>,
    /// Documents the user may no longer read: the client drops its copy once its own pending
    /// edits to them have been acknowledged or rejected.
    pub purge: Vec<RecordId>,
    /// The cursor to send next time, once everything above has been applied.
    pub next_cursor: u64,
    /// Whether more changes remain after `next_cursor`.
    pub more: bool,
    /// Who wrote the documents in `changes`.
    pub actors: Vec<ActorInfo>,
}

/// An error decoding a body.
#[derive(Debug, thiserror::Error)]
#[error("malformed sync body: {0}")]
pub struct DecodeError(String);

/// Encodes a message for the wire (before compression).
pub fn encode<T: Serialize>(message: &T) -> Vec<u8> {
    // Encoding our own plain structs into a Vec cannot fail: postcard only fails on a full
    // buffer or on types it cannot represent, and these hold only integers, strings and bytes.
    postcard::to_stdvec(message).unwrap_or_default()
}

/// Decodes a message from the wire (after decompression).
pub fn decode<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, DecodeError> {
    postcard::from_bytes(bytes).map_err(|e| DecodeError(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_round_trips_and_garbage_is_an_error() {
        let request = SyncRequest {
            protocol: PROTOCOL_VERSION,
            cursor: 42,
            push: vec![PushChange {
                doc_id: RecordId::new(),
                bytes: vec![1, 2, 3],
            }],
            pull_budget: DEFAULT_PULL_BUDGET,
        };
        let bytes = encode(&request);
        assert_eq!(decode::<SyncRequest>(&bytes).unwrap(), request);
        assert!(decode::<SyncRequest>(&bytes[..bytes.len() - 2]).is_err());
        assert!(decode::<SyncRequest>(&[0xff; 3]).is_err());
    }
}

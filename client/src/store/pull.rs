//! Applying pulled changes to the local documents, document by document, inside the
//! transaction that settles a sync response.
//!
//! Nothing a page holds can stop the cursor: a change that cannot be applied (bytes that do not
//! parse, a clash with the document's history, a document this laptop cannot read, a new
//! document whose kind cannot be told) is set aside in quarantine with its reason and bytes
//! (see [`super::quarantine`]), and the rest of the page applies. Only a failure of the local
//! database aborts a page, and then the whole response is tried again on the next sync.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use automerge::{ActorId, AutoCommit, Change};
use rusqlite::Connection;
use shared::protocol::PullChange;
use shared::{RecordId, doc};

use super::documents;
use super::quarantine::{self, HoldReason};
use crate::error::ClientError;

/// What applying pulled changes did.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Applied {
    /// Changes this laptop did not have and now holds.
    pub applied: u64,
    /// Changes newly set aside in quarantine.
    pub held: u64,
}

/// One change to try: pulled just now, or set aside earlier (`row`).
struct Candidate<'a> {
    row: Option<i64>,
    seq: u64,
    bytes: &'a [u8],
}

/// Applies pulled changes, document by document, skipping those already held. Changes set
/// aside earlier for the same documents are tried again with them.
pub(super) fn apply_pulled(
    conn: &Connection,
    actor: &ActorId,
    changes: &[PullChange],
) -> Result<Applied, ClientError> {
    let mut by_doc: BTreeMap<RecordId, Vec<&PullChange>> = BTreeMap::new();
    for change in changes {
        by_doc.entry(change.doc_id).or_default().push(change);
    }
    let mut total = Applied::default();
    for (id, changes) in by_doc {
        let done = apply_to_document(conn, actor, id, &changes)?;
        total.applied += done.applied;
        total.held += done.held;
    }
    Ok(total)
}

/// Applies to one document the changes set aside for it earlier and then `pulled`. Whatever
/// cannot be applied is set aside with its reason; only database errors are returned.
pub(super) fn apply_to_document(
    conn: &Connection,
    actor: &ActorId,
    id: RecordId,
    pulled: &[&PullChange],
) -> Result<Applied, ClientError> {
    let held = quarantine::held_for(conn, id)?;
    let candidates: Vec<Candidate> = held
        .iter()
        .map(|h| Candidate {
            row: Some(h.row),
            seq: h.seq,
            bytes: &h.bytes,
        })
        .chain(pulled.iter().map(|p| Candidate {
            row: None,
            seq: p.seq,
            bytes: &p.bytes,
        }))
        .collect();
    let mut outcome = Applied::default();
    if candidates.is_empty() {
        return Ok(outcome);
    }
    let existed = documents::exists(conn, id)?;
    let mut document = match base(conn, actor, id, existed)? {
        Ok(document) => document,
        Err(detail) => {
            for candidate in &candidates {
                let hash = doc::parse_change(candidate.bytes)
                    .ok()
                    .map(|c| c.hash().to_string());
                set_aside(
                    conn,
                    id,
                    candidate,
                    hash,
                    HoldReason::RecordUnreadable,
                    &detail,
                )?;
                outcome.held += u64::from(candidate.row.is_none());
            }
            return Ok(outcome);
        }
    };
    let mut fresh: Vec<(&Candidate, Change)> = Vec::new();
    for candidate in &candidates {
        let change = match doc::parse_change(candidate.bytes) {
            Ok(change) => change,
            Err(error) => {
                let detail = error.to_string();
                set_aside(
                    conn,
                    id,
                    candidate,
                    None,
                    HoldReason::UnreadableChange,
                    &detail,
                )?;
                outcome.held += u64::from(candidate.row.is_none());
                continue;
            }
        };
        let hash = change.hash();
        let known = document.get_change_by_hash(&hash).is_some()
            || fresh.iter().any(|(_, c)| c.hash() == hash);
        if known {
            if let Some(row) = candidate.row {
                quarantine::release(conn, row)?;
            }
        } else {
            fresh.push((candidate, change));
        }
    }
    if fresh.is_empty() {
        return Ok(outcome);
    }
    let applied = apply_all(conn, actor, id, existed, &mut document, fresh, &mut outcome)?;
    if applied.is_empty() {
        return Ok(outcome);
    }
    if !existed {
        // A document the server sends whole names its kind in its first change. When that
        // change is missing, the kind is never guessed: the document waits in quarantine until
        // the change arrives.
        match doc::kind_of(&document) {
            Ok(kind) => documents::insert(conn, id, kind, &mut document)?,
            Err(error) => {
                let detail = error.to_string();
                for (candidate, change) in &applied {
                    let hash = Some(change.hash().to_string());
                    set_aside(conn, id, candidate, hash, HoldReason::UnknownKind, &detail)?;
                    outcome.held += u64::from(candidate.row.is_none());
                }
                return Ok(outcome);
            }
        }
    }
    for (candidate, change) in &applied {
        documents::append_change(conn, id, &mut document, change.hash(), change.raw_bytes())?;
        if let Some(row) = candidate.row {
            quarantine::release(conn, row)?;
        }
    }
    outcome.applied += applied.len() as u64;
    if let Ok(record) = doc::read(&document) {
        documents::refresh_derived(conn, id, &record, &document)?;
    }
    Ok(outcome)
}

/// The document to apply to: this laptop's copy, or a new one. `Err` carries why this laptop's
/// copy cannot be read (it is quarantined).
fn base(
    conn: &Connection,
    actor: &ActorId,
    id: RecordId,
    existed: bool,
) -> Result<Result<AutoCommit, String>, ClientError> {
    if !existed {
        return Ok(Ok(AutoCommit::new().with_actor(actor.clone())));
    }
    match documents::load(conn, actor, id) {
        Ok(document) => Ok(Ok(document)),
        Err(ClientError::Quarantined { reason, .. }) => Ok(Err(reason)),
        Err(other) => Err(other),
    }
}

/// Applies the fresh changes; returns those applied. All at once first (the usual case); if
/// Automerge refuses the batch, the document is rebuilt and each change tried on its own, so
/// that only the ones it refuses are set aside.
fn apply_all<'a>(
    conn: &Connection,
    actor: &ActorId,
    id: RecordId,
    existed: bool,
    document: &mut AutoCommit,
    fresh: Vec<(&'a Candidate<'a>, Change)>,
    outcome: &mut Applied,
) -> Result<Vec<(&'a Candidate<'a>, Change)>, ClientError> {
    if try_apply(document, fresh.iter().map(|(_, c)| c.clone())).is_ok() {
        return Ok(fresh);
    }
    // A refused batch may have left the document half-changed: start again from the stored one.
    let mut applied = Vec::new();
    *document = match base(conn, actor, id, existed)? {
        Ok(document) => document,
        Err(detail) => {
            for (candidate, change) in &fresh {
                let hash = Some(change.hash().to_string());
                set_aside(
                    conn,
                    id,
                    candidate,
                    hash,
                    HoldReason::RecordUnreadable,
                    &detail,
                )?;
                outcome.held += u64::from(candidate.row.is_none());
            }
            return Ok(applied);
        }
    };
    for (candidate, change) in fresh {
        let mut trial = document.clone();
        match try_apply(&mut trial, [change.clone()]) {
            Ok(()) => {
                *document = trial;
                applied.push((candidate, change));
            }
            Err(detail) => {
                let hash = Some(change.hash().to_string());
                set_aside(
                    conn,
                    id,
                    candidate,
                    hash,
                    HoldReason::ConflictingChange,
                    &detail,
                )?;
                outcome.held += u64::from(candidate.row.is_none());
            }
        }
    }
    Ok(applied)
}

/// Applies changes, turning Automerge's refusals and panics (it can panic on bytes it parsed
/// but cannot place) into a reason.
fn try_apply(
    document: &mut AutoCommit,
    changes: impl IntoIterator<Item = Change> + Clone,
) -> Result<(), String> {
    match catch_unwind(AssertUnwindSafe(|| document.apply_changes(changes))) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(error.to_string()),
        Err(_) => Err("automerge gave up on this change".into()),
    }
}

fn set_aside(
    conn: &Connection,
    id: RecordId,
    candidate: &Candidate,
    hash: Option<String>,
    reason: HoldReason,
    detail: &str,
) -> rusqlite::Result<()> {
    let change = (candidate.seq, candidate.bytes, hash);
    quarantine::hold(conn, candidate.row, id, change, reason, detail)
}

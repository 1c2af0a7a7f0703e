//! Applying pulled changes to the local documents, document by document, inside the
//! transaction that settles a sync response.

use std::collections::BTreeMap;

use automerge::{ActorId, AutoCommit};
use rusqlite::Connection;
use shared::protocol::PullChange;
use shared::{RecordId, RecordKind, doc};

use super::documents;
use crate::error::ClientError;

/// Applies pulled changes, document by document, skipping those already held.
pub(super) fn apply_pulled(
    conn: &Connection,
    actor: &ActorId,
    changes: &[PullChange],
) -> Result<u64, ClientError> {
    let mut by_doc: BTreeMap<RecordId, Vec<&PullChange>> = BTreeMap::new();
    for change in changes {
        by_doc.entry(change.doc_id).or_default().push(change);
    }
    let mut applied = 0;
    for (id, changes) in by_doc {
        applied += apply_to_document(conn, actor, id, &changes)?;
    }
    Ok(applied)
}

fn apply_to_document(
    conn: &Connection,
    actor: &ActorId,
    id: RecordId,
    changes: &[&PullChange],
) -> Result<u64, ClientError> {
    let existed = documents::exists(conn, id)?;
    let mut document = if existed {
        documents::load(conn, actor, id)?
    } else {
        AutoCommit::new().with_actor(actor.clone())
    };
    let mut fresh = Vec::new();
    for pulled in changes {
        let change = doc::parse_change(&pulled.bytes)?;
        let hash = change.hash();
        if document.get_change_by_hash(&hash).is_none()
            && !fresh.iter().any(|c: &automerge::Change| c.hash() == hash)
        {
            fresh.push(change);
        }
    }
    if fresh.is_empty() {
        return Ok(0);
    }
    document
        .apply_changes(fresh.iter().cloned())
        .map_err(doc::DocError::from)?;
    if !existed {
        // A document the server sends whole; its first change names its kind.
        let kind = doc::kind_of(&document).unwrap_or(RecordKind::Customer);
        documents::insert(conn, id, kind, &mut document)?;
    }
    for change in &fresh {
        documents::append_change(conn, id, &mut document, change.hash(), change.raw_bytes())?;
    }
    if let Ok(record) = doc::read(&document) {
        documents::refresh_derived(conn, id, &record, &document)?;
    }
    Ok(fresh.len() as u64)
}

//! The outbox side of sync: what to push, and settling what the server said about it.
//! A refused change rolls its document back to the server's state and is kept, with the reason,
//! in the `rejected` table; nothing disappears silently.

use std::collections::{BTreeMap, HashSet};

use automerge::{ActorId, ChangeHash};
use chrono::Utc;
use rusqlite::{Connection, params};
use serde::Serialize;
use shared::RecordId;
use shared::doc;
use shared::protocol::Rejection;

use super::{Store, documents};
use crate::error::ClientError;

/// A local change waiting for the server.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// Its hash (hex).
    pub hash: String,
    /// Its document.
    pub doc_id: RecordId,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// An edit the server refused, as shown to its author.
#[derive(Debug, Clone, Serialize)]
pub struct RejectedEdit {
    /// The change's hash.
    pub hash: String,
    /// The record it was for.
    pub id: String,
    /// The server's code.
    pub code: String,
    /// Why.
    pub reason: String,
    /// When the refusal arrived.
    pub at: String,
}

impl Store {
    /// The oldest waiting changes, up to about `max_bytes` (always at least one if any wait).
    pub fn outbox_batch(&self, max_bytes: usize) -> Result<Vec<Outgoing>, ClientError> {
        self.outbox_batch_except(max_bytes, &HashSet::new())
    }

    /// [`Store::outbox_batch`] without the changes whose hashes are in `skip`.
    pub fn outbox_batch_except(
        &self,
        max_bytes: usize,
        skip: &HashSet<String>,
    ) -> Result<Vec<Outgoing>, ClientError> {
        let mut statement = self
            .conn
            .prepare("SELECT hash, doc_id, bytes FROM outbox ORDER BY id")?;
        let mut rows = statement.query([])?;
        let (mut batch, mut total) = (Vec::new(), 0usize);
        while let Some(row) = rows.next()? {
            let hash: String = row.get(0)?;
            if skip.contains(&hash) {
                continue;
            }
            let bytes: Vec<u8> = row.get(2)?;
            if !batch.is_empty() && total + bytes.len() > max_bytes {
                break;
            }
            total += bytes.len();
            let doc_id: String = row.get(1)?;
            if let Ok(doc_id) = doc_id.parse() {
                batch.push(Outgoing {
                    hash,
                    doc_id,
                    bytes,
                });
            }
        }
        Ok(batch)
    }

    /// Edits the server refused, newest first.
    pub fn rejected(&self) -> Result<Vec<RejectedEdit>, ClientError> {
        let mut statement = self.conn.prepare(
            "SELECT hash, doc_id, code, reason, at FROM rejected ORDER BY at DESC, hash",
        )?;
        let rows = statement.query_map([], |row| {
            Ok(RejectedEdit {
                hash: row.get(0)?,
                id: row.get(1)?,
                code: row.get(2)?,
                reason: row.get(3)?,
                at: row.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// Removes acknowledged changes from the outbox.
pub(super) fn acknowledge(conn: &Connection, acked: &[String]) -> rusqlite::Result<()> {
    let mut statement = conn.prepare_cached("DELETE FROM outbox WHERE hash = ?1")?;
    for hash in acked {
        statement.execute([hash])?;
    }
    Ok(())
}

/// A refusal and the hash of the change it names (the laptop's own, found by position).
pub(super) type Refused<'a> = (&'a str, &'a Rejection);

/// Rolls each refused change's document back to the server's state and files the refused
/// changes (and local changes built on them) under `rejected`. Returns how many were filed.
pub(super) fn reject(
    conn: &Connection,
    actor: &ActorId,
    rejections: &[Refused<'_>],
) -> Result<usize, ClientError> {
    let mut by_doc: BTreeMap<RecordId, Vec<Refused<'_>>> = BTreeMap::new();
    for &(hash, rejection) in rejections {
        by_doc
            .entry(rejection.doc_id)
            .or_default()
            .push((hash, rejection));
    }
    let mut filed = 0;
    for (id, refused) in by_doc {
        let refused_hashes: HashSet<ChangeHash> =
            refused.iter().filter_map(|(h, _)| h.parse().ok()).collect();
        let removed = roll_back(conn, actor, id, &refused_hashes)?;
        let first_reason = refused
            .first()
            .map(|(_, r)| r.reason.clone())
            .unwrap_or_default();
        for hash in removed
            .iter()
            .map(ToString::to_string)
            .chain(refused.iter().map(|(h, _)| h.to_string()))
        {
            let (code, reason) = match refused.iter().find(|(h, _)| *h == hash) {
                Some((_, r)) => (r.code.clone(), r.reason.clone()),
                None => (
                    "depends_on_rejected".to_string(),
                    format!("builds on a refused edit: {first_reason}"),
                ),
            };
            filed += file_rejected(conn, &hash, &code, &reason)?;
        }
    }
    Ok(filed)
}

/// Moves one change from the outbox to `rejected` (once), keeping its bytes.
fn file_rejected(
    conn: &Connection,
    hash: &str,
    code: &str,
    reason: &str,
) -> rusqlite::Result<usize> {
    let moved = conn.execute(
        "INSERT OR IGNORE INTO rejected (hash, doc_id, code, reason, bytes, at)
         SELECT hash, doc_id, ?2, ?3, bytes, ?4 FROM outbox WHERE hash = ?1",
        params![hash, code, reason, Utc::now().to_rfc3339()],
    )?;
    conn.execute("DELETE FROM outbox WHERE hash = ?1", [hash])?;
    Ok(moved)
}

/// Rebuilds a document without the refused changes and everything built on them. A document
/// left with no change at all (its creation was refused) is removed from the store; its bytes
/// stay in `rejected`. Returns the hashes removed.
fn roll_back(
    conn: &Connection,
    actor: &ActorId,
    id: RecordId,
    refused: &HashSet<ChangeHash>,
) -> Result<Vec<ChangeHash>, ClientError> {
    let mut document = match documents::load(conn, actor, id) {
        Ok(document) => document,
        Err(ClientError::NotFound { .. }) => return Ok(Vec::new()),
        Err(other) => return Err(other),
    };
    let changes = document.get_changes(&[]);
    let mut removed: HashSet<ChangeHash> = HashSet::new();
    for change in &changes {
        if refused.contains(&change.hash()) || change.deps().iter().any(|d| removed.contains(d)) {
            removed.insert(change.hash());
        }
    }
    if removed.is_empty() {
        return Ok(Vec::new());
    }
    let kept: Vec<_> = changes
        .iter()
        .filter(|c| !removed.contains(&c.hash()))
        .collect();
    if kept.is_empty() {
        documents::remove(conn, id)?;
        return Ok(removed.into_iter().collect());
    }
    let depended_on: HashSet<ChangeHash> =
        kept.iter().flat_map(|c| c.deps().iter().copied()).collect();
    let heads: Vec<ChangeHash> = kept
        .iter()
        .map(|c| c.hash())
        .filter(|h| !depended_on.contains(h))
        .collect();
    let mut rolled = document.fork_at(&heads).map_err(doc::DocError::from)?;
    rolled.set_actor(actor.clone());
    documents::replace(conn, id, &mut rolled)?;
    let record = doc::read(&rolled)?;
    documents::refresh_derived(conn, id, &record, &rolled)?;
    Ok(removed.into_iter().collect())
}

//! The server's own writes to documents (flags, credit holds): read the document, change it,
//! and append the change, all on the connection of the caller's write transaction.
//!
//! The server writes every such change with one fixed actor ([`system_actor`]), so the
//! sequence number of its next change in a document is one past the last of its changes the
//! document holds. A snapshot missing one of them (written by a process that read the document
//! before the server's change committed) would make the server reuse a sequence number with
//! different content, which no laptop can apply. So [`load`] brings the snapshot up to date
//! with every change the log holds for the document before anything is written on it, and the
//! callers run inside one `BEGIN IMMEDIATE` transaction, so nobody writes between the read and
//! the write.

use automerge::{AutoCommit, ChangeHash};
use rusqlite::Connection;
use shared::RecordId;
use shared::doc::{self, CommitMeta, DocError};
use shared::record::{Record, RecordType};

use super::write::{SYSTEM_DEVICE, SYSTEM_USER, ensure_system, system_actor, system_actor_hex};
use crate::error::ServerError;
use crate::store::log::{self, Author, DocRow};

fn internal(error: DocError) -> ServerError {
    ServerError::Internal(format!("a server write: {error}"))
}

/// A document as the server is about to change it: its stored row and the document, holding
/// every logged change, with the server's actor.
pub struct Loaded {
    /// The stored row (kind, territory, customer).
    pub row: DocRow,
    /// The document.
    pub doc: AutoCommit,
}

/// Loads document `id` for a server write, with every change the log holds for it applied
/// (see the module doc); `None` when the server holds no such document.
pub fn load(conn: &Connection, id: &str) -> Result<Option<Loaded>, ServerError> {
    let Some(row) = log::document(conn, id)? else {
        return Ok(None);
    };
    let mut doc = doc::load(&row.snapshot, &system_actor()).map_err(internal)?;
    let missing: Vec<i64> = {
        let mut stmt = conn.prepare_cached(
            "SELECT seq, hash FROM changes WHERE doc_id = ?1 AND hash IS NOT NULL ORDER BY seq",
        )?;
        let rows = stmt.query_map([id], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))?;
        let mut missing = Vec::new();
        for row in rows {
            let (seq, hash) = row?;
            let known = ChangeHash::try_from(hash.as_slice())
                .is_ok_and(|h| doc.get_change_by_hash(&h).is_some());
            if !known {
                missing.push(seq);
            }
        }
        missing
    };
    if !missing.is_empty() {
        tracing::warn!(
            doc = id,
            count = missing.len(),
            "snapshot behind the log; caught up"
        );
        for seq in missing {
            let bytes = log::change_bytes(conn, seq as u64)?;
            doc::apply_incremental(&mut doc, &bytes).map_err(internal)?;
        }
    }
    Ok(Some(Loaded { row, doc }))
}

/// Where a server write files the document.
pub struct Filing<'a> {
    /// The document's kind, as stored.
    pub kind: &'a str,
    /// Its territory (a set for a flag, [`crate::territory::territory_set`]).
    pub territory: &'a str,
    /// The customer it hangs from.
    pub customer_id: Option<&'a str>,
}

/// Writes `record` into `document` (new or loaded) as the server, with `message`, and stores
/// the change, the document and its projection. Returns whether a change was written (none
/// when the record already says the same).
pub fn commit<T: RecordType>(
    conn: &Connection,
    id: RecordId,
    document: &mut AutoCommit,
    record: &T,
    message: &str,
    filing: Filing<'_>,
) -> Result<bool, ServerError> {
    let meta = CommitMeta::now(message);
    if doc::update(document, record, &meta)
        .map_err(internal)?
        .is_none()
    {
        return Ok(false);
    }
    store_last(conn, id, document, record.clone().into_record(), filing)
}

/// Stores the document's last local change (the server's), the document and its projection.
pub fn store_last(
    conn: &Connection,
    id: RecordId,
    document: &mut AutoCommit,
    record: Record,
    filing: Filing<'_>,
) -> Result<bool, ServerError> {
    let Some(change) = document.get_last_local_change() else {
        return Ok(false);
    };
    let (hash, bytes) = (change.hash(), change.raw_bytes().to_vec());
    ensure_system(conn)?;
    let actor_hex = system_actor_hex();
    let author = Author {
        actor: &actor_hex,
        user: SYSTEM_USER,
        device: SYSTEM_DEVICE,
    };
    let id_text = id.to_string();
    log::append_change(conn, &hash.0, &id_text, filing.territory, author, &bytes)?;
    log::save_document(
        conn,
        &id_text,
        filing.kind,
        filing.territory,
        filing.customer_id,
        &document.save(),
    )?;
    log::reproject(conn, id, &record)?;
    Ok(true)
}

/// Moves a document to another territory before the server's change to it, so that readers
/// entering the new territory receive its whole history (as a pushed change's move does).
pub fn move_to(conn: &Connection, id: &str, from: &str, to: &str) -> Result<(), ServerError> {
    if from != to {
        log::append_move(conn, id, from, to)?;
    }
    Ok(())
}

/// Runs `f` in one `BEGIN IMMEDIATE` transaction: the write lock is taken before anything is
/// read, so a second process (an admin command on the live database) and the server never both
/// read a document and then both write it.
pub fn immediate<T>(
    conn: &mut Connection,
    f: impl FnOnce(&Connection) -> Result<T, ServerError>,
) -> Result<T, ServerError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let out = f(&tx)?;
    tx.commit()?;
    Ok(out)
}

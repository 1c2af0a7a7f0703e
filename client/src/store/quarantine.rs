//! Pulled changes this laptop could not apply, set aside with their reason and their bytes.
//!
//! A pulled change that cannot be applied (its bytes do not parse, it clashes with the
//! document's history, its document cannot be read here, or its document's kind cannot be
//! determined) must not stop the laptop syncing: it is kept here instead, the rest of the page
//! applies and the cursor moves. Nothing here is ever dropped except by a purge (the server
//! keeps its own copy). Every sync tries the set-aside changes again first, and every page tries
//! those of the documents it touches, so a change whose cause has gone away (its missing first
//! change arrived, its document was repaired) applies then.

use chrono::Utc;
use rusqlite::{Connection, params};
use serde::Serialize;
use shared::RecordId;

use super::records::write_tx;
use super::{Store, pull};
use crate::error::ClientError;

shared::word_enum! {
    /// Why a pulled change was set aside.
    pub enum HoldReason {
        /// This laptop's copy of the document cannot be read (it is quarantined itself).
        RecordUnreadable = (
            "record_unreadable",
            "this laptop's copy of the record cannot be read",
            "本机的该记录副本无法读取"
        ),
        /// The document is new here and what kind of record it holds cannot be told (its first
        /// change has not arrived); it is never guessed.
        UnknownKind = (
            "unknown_kind",
            "the record's kind cannot be determined (its first change has not arrived)",
            "无法确定记录类型（其首个变更尚未收到）"
        ),
        /// The change's bytes cannot be parsed.
        UnreadableChange = (
            "unreadable_change",
            "the change's bytes cannot be read",
            "变更数据无法读取"
        ),
        /// The change does not fit the document's history, e.g. another change already has
        /// its author and sequence number.
        ConflictingChange = (
            "conflicting_change",
            "the change does not fit the record's history (another change has the same author and sequence number)",
            "该变更与记录的历史不符（另一变更的作者与序号与之相同）"
        ),
    }
}

/// A pulled change set aside, as `fieldsync inbox` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct QuarantinedChange {
    /// The document it belongs to.
    pub doc_id: String,
    /// The server log position it arrived with.
    pub seq: u64,
    /// Its hash, when its bytes parse.
    pub hash: Option<String>,
    /// Why it was set aside.
    pub reason: HoldReason,
    /// The underlying error, as the document library words it.
    pub detail: String,
    /// When it was (last) set aside.
    pub at: String,
}

/// What retrying the set-aside changes did.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Retried {
    /// Changes that applied this time.
    pub applied: u64,
    /// Changes still set aside.
    pub held: u64,
}

/// A change set aside earlier: its row and bytes.
pub(super) struct HeldRow {
    /// The row id.
    pub row: i64,
    /// The server log position it arrived with.
    pub seq: u64,
    /// The change's bytes.
    pub bytes: Vec<u8>,
}

impl Store {
    /// Pulled changes set aside because they could not be applied, oldest first.
    pub fn quarantined_changes(&self) -> Result<Vec<QuarantinedChange>, ClientError> {
        let mut statement = self.conn.prepare(
            "SELECT doc_id, seq, hash, code, detail, at FROM quarantined_changes ORDER BY id",
        )?;
        let rows = statement.query_map([], |row| {
            let code: String = row.get(3)?;
            Ok(QuarantinedChange {
                doc_id: row.get(0)?,
                seq: row.get(1)?,
                hash: row.get(2)?,
                // Codes are written only by this module; an unknown one (from a newer build)
                // reads as the most general reason rather than failing the list.
                reason: code.parse().unwrap_or(HoldReason::ConflictingChange),
                detail: row.get(4)?,
                at: row.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Tries every set-aside pulled change again, in one transaction: those whose cause has
    /// gone away apply; the rest stay with their (possibly new) reason.
    pub fn retry_quarantined(&mut self) -> Result<Retried, ClientError> {
        let actor = self.device.actor.clone();
        let tx = write_tx(&mut self.conn)?;
        let mut retried = Retried::default();
        for id in documents_with_held(&tx)? {
            let applied = pull::apply_to_document(&tx, &actor, id, &[])?;
            retried.applied += applied.applied;
        }
        retried.held = tx.query_row("SELECT COUNT(*) FROM quarantined_changes", [], |row| {
            row.get(0)
        })?;
        tx.commit()?;
        Ok(retried)
    }
}

/// The documents that have changes set aside.
fn documents_with_held(conn: &Connection) -> Result<Vec<RecordId>, ClientError> {
    let mut statement = conn.prepare("SELECT DISTINCT doc_id FROM quarantined_changes")?;
    let keys: Vec<String> = statement
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(keys.iter().filter_map(|key| key.parse().ok()).collect())
}

/// The changes set aside for one document, in the order they arrived.
pub(super) fn held_for(conn: &Connection, id: RecordId) -> rusqlite::Result<Vec<HeldRow>> {
    let mut statement = conn.prepare_cached(
        "SELECT id, seq, bytes FROM quarantined_changes WHERE doc_id = ?1 ORDER BY id",
    )?;
    statement
        .query_map([id.to_string()], |row| {
            Ok(HeldRow {
                row: row.get(0)?,
                seq: row.get(1)?,
                bytes: row.get(2)?,
            })
        })?
        .collect()
}

/// Sets a change aside, or updates the reason of one already set aside (`row`). The same bytes
/// for the same document are kept once, however often the server sends them.
pub(super) fn hold(
    conn: &Connection,
    row: Option<i64>,
    id: RecordId,
    change: (u64, &[u8], Option<String>),
    reason: HoldReason,
    detail: &str,
) -> rusqlite::Result<()> {
    let (seq, bytes, hash) = change;
    let at = Utc::now().to_rfc3339();
    if let Some(row) = row {
        conn.execute(
            "UPDATE quarantined_changes SET code = ?2, detail = ?3, at = ?4 WHERE id = ?1",
            params![row, reason.as_str(), detail, at],
        )?;
        return Ok(());
    }
    conn.execute(
        "INSERT INTO quarantined_changes (doc_id, seq, hash, code, detail, bytes, at)
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7
         WHERE NOT EXISTS (SELECT 1 FROM quarantined_changes WHERE doc_id = ?1 AND bytes = ?6)",
        params![
            id.to_string(),
            seq,
            hash,
            reason.as_str(),
            detail,
            bytes,
            at
        ],
    )?;
    Ok(())
}

/// Forgets a set-aside change that has now been applied (or was already held).
pub(super) fn release(conn: &Connection, row: i64) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM quarantined_changes WHERE id = ?1", [row])?;
    Ok(())
}

//! Documents on disk: a compacted snapshot plus the changes made since, and the rows derived
//! from them. Every function here runs inside the caller's transaction.

use automerge::{ActorId, AutoCommit, ChangeHash};
use chrono::Utc;
use rusqlite::{Connection, OptionalExtension, params};
use shared::doc;
use shared::projection::{self, Cell};
use shared::{Record, RecordId, RecordKind};

use crate::error::ClientError;

/// After this many incremental changes a document is compacted into a new snapshot.
const COMPACT_AFTER: i64 = 64;

/// Loads a document. One that cannot be read is recorded in quarantine (its bytes stay where
/// they are) and reported; it is never dropped.
pub(super) fn load(
    conn: &Connection,
    actor: &ActorId,
    id: RecordId,
) -> Result<AutoCommit, ClientError> {
    let key = id.to_string();
    if let Some(reason) = quarantine_reason(conn, &key)? {
        return Err(ClientError::Quarantined { id: key, reason });
    }
    let snapshot: Option<Vec<u8>> = conn
        .query_row(
            "SELECT snapshot FROM documents WHERE doc_id = ?1",
            [&key],
            |row| row.get(0),
        )
        .optional()?;
    let snapshot = snapshot.ok_or_else(|| ClientError::NotFound {
        kind: "record".into(),
        id: key.clone(),
    })?;
    let mut statement =
        conn.prepare_cached("SELECT bytes FROM doc_changes WHERE doc_id = ?1 ORDER BY id")?;
    let changes: Vec<Vec<u8>> = statement
        .query_map([&key], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    let loaded = doc::load(&snapshot, actor).and_then(|mut document| {
        for change in &changes {
            doc::apply_incremental(&mut document, change)?;
        }
        doc::read(&document)?;
        Ok(document)
    });
    loaded.or_else(|error| {
        let reason = error.to_string();
        conn.execute(
            "INSERT OR IGNORE INTO quarantine (doc_id, reason, at) VALUES (?1, ?2, ?3)",
            params![key, reason, Utc::now().to_rfc3339()],
        )?;
        Err(ClientError::Quarantined { id: key, reason })
    })
}

fn quarantine_reason(conn: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    conn.query_row(
        "SELECT reason FROM quarantine WHERE doc_id = ?1",
        [key],
        |row| row.get(0),
    )
    .optional()
}

/// Whether a document exists in the store.
pub(super) fn exists(conn: &Connection, id: RecordId) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT 1 FROM documents WHERE doc_id = ?1",
        [id.to_string()],
        |_| Ok(()),
    )
    .optional()
    .map(|found| found.is_some())
}

/// Stores a new document as its first snapshot.
pub(super) fn insert(
    conn: &Connection,
    id: RecordId,
    kind: RecordKind,
    document: &mut AutoCommit,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO documents (doc_id, kind, snapshot, pending_changes, updated_at) VALUES (?1, ?2, ?3, 0, ?4)",
        params![id.to_string(), kind.as_str(), document.save(), Utc::now().to_rfc3339()],
    )
    .map(|_| ())
}

/// Records one more change of a document; compacts when enough have piled up.
pub(super) fn append_change(
    conn: &Connection,
    id: RecordId,
    document: &mut AutoCommit,
    hash: ChangeHash,
    bytes: &[u8],
) -> rusqlite::Result<()> {
    let key = id.to_string();
    conn.execute(
        "INSERT OR IGNORE INTO doc_changes (doc_id, hash, bytes) VALUES (?1, ?2, ?3)",
        params![key, hash.to_string(), bytes],
    )?;
    let pending: i64 = conn.query_row(
        "UPDATE documents SET pending_changes = pending_changes + 1, updated_at = ?2
         WHERE doc_id = ?1 RETURNING pending_changes",
        params![key, Utc::now().to_rfc3339()],
        |row| row.get(0),
    )?;
    if pending >= COMPACT_AFTER {
        compact(conn, id, document)?;
    }
    Ok(())
}

/// Replaces a document's snapshot with a fresh one and drops the incremental changes it now
/// contains. Changes Automerge is still holding back (their dependencies have not arrived) are
/// not in the snapshot, so they stay.
pub(super) fn compact(
    conn: &Connection,
    id: RecordId,
    document: &mut AutoCommit,
) -> rusqlite::Result<()> {
    let key = id.to_string();
    conn.execute(
        "UPDATE documents SET snapshot = ?2, pending_changes = 0 WHERE doc_id = ?1",
        params![key, document.save()],
    )?;
    let mut statement = conn.prepare_cached("SELECT hash FROM doc_changes WHERE doc_id = ?1")?;
    let hashes: Vec<String> = statement
        .query_map([&key], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    for hash in hashes {
        let contained = hash
            .parse::<ChangeHash>()
            .is_ok_and(|h| document.get_change_by_hash(&h).is_some());
        if contained {
            conn.execute(
                "DELETE FROM doc_changes WHERE doc_id = ?1 AND hash = ?2",
                params![key, hash],
            )?;
        }
    }
    Ok(())
}

/// Replaces a document's stored state with `document` (after a rollback).
pub(super) fn replace(
    conn: &Connection,
    id: RecordId,
    document: &mut AutoCommit,
) -> rusqlite::Result<()> {
    let key = id.to_string();
    conn.execute("DELETE FROM doc_changes WHERE doc_id = ?1", [&key])?;
    conn.execute(
        "UPDATE documents SET snapshot = ?2, pending_changes = 0, updated_at = ?3 WHERE doc_id = ?1",
        params![key, document.save(), Utc::now().to_rfc3339()],
    )?;
    Ok(())
}

/// Removes a document and everything derived from it from this laptop: after a purge (the user
/// may no longer see it; the server keeps it, pulled changes set aside included) or when its
/// creation was refused (its bytes are kept in `rejected`).
pub(super) fn remove(conn: &Connection, id: RecordId) -> rusqlite::Result<()> {
    let key = id.to_string();
    for table in projection::TABLES {
        conn.execute(
            &format!("DELETE FROM {} WHERE doc_id = ?1", table.name),
            [&key],
        )?;
    }
    for table in [
        "conflicts",
        "doc_changes",
        "quarantine",
        "quarantined_changes",
        "documents",
    ] {
        conn.execute(&format!("DELETE FROM {table} WHERE doc_id = ?1"), [&key])?;
    }
    Ok(())
}

/// Rewrites everything derived from a document: its projection rows and its conflict list.
pub(super) fn refresh_derived(
    conn: &Connection,
    id: RecordId,
    record: &Record,
    document: &AutoCommit,
) -> rusqlite::Result<()> {
    let key = id.to_string();
    for table in projection::tables_for(record.kind()) {
        conn.execute(
            &format!("DELETE FROM {} WHERE doc_id = ?1", table.name),
            [&key],
        )?;
    }
    for (table, cells) in projection::project(record) {
        let columns: Vec<&str> = table.columns.iter().map(|(name, _)| *name).collect();
        let placeholders: Vec<String> = (1..=columns.len() + 1).map(|i| format!("?{i}")).collect();
        let sql = format!(
            "INSERT INTO {} (doc_id, {}) VALUES ({})",
            table.name,
            columns.join(", "),
            placeholders.join(", ")
        );
        let mut values: Vec<rusqlite::types::Value> = vec![key.clone().into()];
        values.extend(cells.into_iter().map(cell_value));
        conn.prepare_cached(&sql)?
            .execute(rusqlite::params_from_iter(values))?;
    }
    conn.execute("DELETE FROM conflicts WHERE doc_id = ?1", [&key])?;
    for conflict in doc::conflicts(document) {
        let values = serde_json::to_string(&conflict.values).unwrap_or_default();
        conn.execute(
            "INSERT INTO conflicts (doc_id, kind, path, value_json) VALUES (?1, ?2, ?3, ?4)",
            params![key, record.kind().as_str(), conflict.path, values],
        )?;
    }
    Ok(())
}

fn cell_value(cell: Cell) -> rusqlite::types::Value {
    match cell {
        Cell::Null => rusqlite::types::Value::Null,
        Cell::Int(n) => rusqlite::types::Value::Integer(n),
        Cell::Text(text) => rusqlite::types::Value::Text(text),
    }
}

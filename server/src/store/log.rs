//! The change log, document snapshots, territory moves and projections.

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params};
use shared::RecordId;
use shared::projection::{Cell, project, tables_for};
use shared::record::Record;

use crate::error::ServerError;
use crate::store::now_text;

/// A stored document.
#[derive(Debug, Clone)]
pub struct DocRow {
    /// Its kind, as stored (`customer`, ...).
    pub kind: String,
    /// Its derived territory.
    pub territory: String,
    /// The customer it hangs from (visits, quotations, orders).
    pub customer_id: Option<String>,
    /// The saved document.
    pub snapshot: Vec<u8>,
}

/// Who pushed a change.
#[derive(Debug, Clone, Copy)]
pub struct Author<'a> {
    /// Actor id (hex).
    pub actor: &'a str,
    /// User name.
    pub user: &'a str,
    /// Device name.
    pub device: &'a str,
}

/// One entry of the log after a cursor, without the change bytes.
#[derive(Debug, Clone)]
pub enum LogEntry {
    /// A change.
    Change {
        /// Sequence.
        seq: u64,
        /// Document.
        doc_id: String,
        /// The document's territory after this change.
        territory: String,
        /// The document's owner after this change (see [`crate::store::realign`]).
        owner: Option<String>,
        /// The document's kind (`None` if unknown).
        kind: Option<shared::RecordKind>,
        /// The change hash.
        hash: Vec<u8>,
        /// Size of the change bytes.
        len: u64,
    },
    /// A user's scope changed (details in `scope_changes`).
    Scope {
        /// Sequence.
        seq: u64,
        /// The user whose scope changed.
        user: String,
        /// Their territory before.
        from: String,
        /// Their territory after.
        to: String,
        /// Their role before, when the change altered it.
        from_role: Option<String>,
        /// Their role after, when the change altered it.
        to_role: Option<String>,
        /// The one device the change concerns (a revoked device: it reads nothing after).
        actor: Option<String>,
    },
    /// A territory node moved to another parent (details in `tree_moves`).
    TreeMove {
        /// Sequence.
        seq: u64,
        /// The node.
        code: String,
        /// Its parent before.
        from: Option<String>,
        /// Its parent after.
        to: String,
    },
    /// A document moved between territories.
    Move {
        /// Sequence.
        seq: u64,
        /// Document.
        doc_id: String,
        /// Territory before.
        from: String,
        /// Territory after.
        to: String,
        /// Owner before.
        from_owner: Option<String>,
        /// Owner after.
        to_owner: Option<String>,
        /// The document's kind (`None` if unknown).
        kind: Option<shared::RecordKind>,
    },
}

/// Whether the log holds a change.
pub fn has_change(conn: &Connection, hash: &[u8]) -> Result<bool, ServerError> {
    Ok(conn
        .query_row("SELECT 1 FROM changes WHERE hash = ?1", [hash], |_| Ok(()))
        .optional()?
        .is_some())
}

/// A stored document.
pub fn document(conn: &Connection, doc_id: &str) -> Result<Option<DocRow>, ServerError> {
    Ok(conn
        .query_row(
            "SELECT kind, territory, customer_id, snapshot FROM documents WHERE doc_id = ?1",
            [doc_id],
            |r| {
                Ok(DocRow {
                    kind: r.get(0)?,
                    territory: r.get(1)?,
                    customer_id: r.get(2)?,
                    snapshot: r.get(3)?,
                })
            },
        )
        .optional()?)
}

/// A document's kind and territory.
pub fn kind_and_territory(
    conn: &Connection,
    doc_id: &str,
) -> Result<Option<(String, String)>, ServerError> {
    Ok(conn
        .query_row(
            "SELECT kind, territory FROM documents WHERE doc_id = ?1",
            [doc_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// Documents hanging from a customer, with their territories.
pub fn dependents(
    conn: &Connection,
    customer_id: &str,
) -> Result<Vec<(String, String)>, ServerError> {
    let mut stmt =
        conn.prepare_cached("SELECT doc_id, territory FROM documents WHERE customer_id = ?1")?;
    let rows = stmt.query_map([customer_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Appends a change; returns its sequence.
pub fn append_change(
    conn: &Connection,
    hash: &[u8],
    doc_id: &str,
    territory: &str,
    author: Author<'_>,
    bytes: &[u8],
) -> Result<u64, ServerError> {
    // The document keeps its owner; a new one's is filed by the caller (realign::file_owner).
    conn.execute(
        "INSERT INTO changes (hash, doc_id, territory, actor, user, device, bytes, received_at,
                              owner)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,
                 (SELECT owner FROM documents WHERE doc_id = ?2))",
        params![
            hash,
            doc_id,
            territory,
            author.actor,
            author.user,
            author.device,
            bytes,
            now_text()
        ],
    )?;
    Ok(conn.last_insert_rowid() as u64)
}

/// Records a document's move between territories and updates the document; returns the seq.
pub fn append_move(
    conn: &Connection,
    doc_id: &str,
    from: &str,
    to: &str,
) -> Result<u64, ServerError> {
    // The document keeps its owner (a change of owner is realign::append_owner_move).
    conn.execute(
        "INSERT INTO changes (hash, doc_id, territory, received_at, owner)
         VALUES (NULL, ?1, ?2, ?3, (SELECT owner FROM documents WHERE doc_id = ?1))",
        params![doc_id, to, now_text()],
    )?;
    let seq = conn.last_insert_rowid();
    conn.execute(
        "INSERT INTO doc_moves (seq, doc_id, from_territory, to_territory, from_owner, to_owner)
         VALUES (?1, ?2, ?3, ?4, (SELECT owner FROM documents WHERE doc_id = ?2),
                 (SELECT owner FROM documents WHERE doc_id = ?2))",
        params![seq, doc_id, from, to],
    )?;
    conn.execute(
        "UPDATE documents SET territory = ?2 WHERE doc_id = ?1",
        params![doc_id, to],
    )?;
    Ok(seq as u64)
}

/// Inserts or replaces a document's snapshot and derived facts. A new document also gets its
/// origin (territory now, and the author of its first change, appended just before) and the
/// time the server received that change (`received_at`, what laptops' clocks are judged by:
/// [`crate::clock`]), which later saves never change. `updated_at` is when the server last
/// received a change to it.
pub fn save_document(
    conn: &Connection,
    doc_id: &str,
    kind: &str,
    territory: &str,
    customer_id: Option<&str>,
    snapshot: &[u8],
) -> Result<(), ServerError> {
    conn.execute(
        "INSERT INTO documents (doc_id, kind, territory, customer_id, snapshot, updated_at,
                                origin_territory, origin_user, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?3,
                 (SELECT user FROM changes WHERE doc_id = ?1 AND hash IS NOT NULL
                  ORDER BY seq LIMIT 1),
                 COALESCE((SELECT received_at FROM changes WHERE doc_id = ?1
                           AND hash IS NOT NULL ORDER BY seq LIMIT 1), ?6))
         ON CONFLICT (doc_id) DO UPDATE SET kind = excluded.kind, territory = excluded.territory,
             customer_id = excluded.customer_id, snapshot = excluded.snapshot,
             updated_at = excluded.updated_at,
             received_at = COALESCE(documents.received_at, excluded.received_at)",
        params![doc_id, kind, territory, customer_id, snapshot, now_text()],
    )?;
    Ok(())
}

/// Replaces a record's projection rows.
pub fn reproject(conn: &Connection, doc_id: RecordId, record: &Record) -> Result<(), ServerError> {
    let id = doc_id.to_string();
    for table in tables_for(record.kind()) {
        conn.execute(
            &format!("DELETE FROM {} WHERE doc_id = ?1", table.name),
            [&id],
        )?;
    }
    for (table, cells) in project(record) {
        let columns: Vec<&str> = table.columns.iter().map(|(name, _)| *name).collect();
        let marks: Vec<String> = (1..=cells.len() + 1).map(|i| format!("?{i}")).collect();
        let sql = format!(
            "INSERT INTO {} (doc_id, {}) VALUES ({})",
            table.name,
            columns.join(", "),
            marks.join(", ")
        );
        let mut values = vec![Value::Text(id.clone())];
        values.extend(cells.into_iter().map(|cell| match cell {
            Cell::Null => Value::Null,
            Cell::Int(i) => Value::Integer(i),
            Cell::Text(t) => Value::Text(t),
        }));
        conn.prepare_cached(&sql)?
            .execute(rusqlite::params_from_iter(values))?;
    }
    Ok(())
}

/// The log after `cursor`, in order, without change bytes.
pub fn entries_after(conn: &Connection, cursor: u64) -> Result<Vec<LogEntry>, ServerError> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.seq, c.doc_id, c.territory, c.hash, length(c.bytes), m.from_territory,
                m.to_territory, s.user, s.from_territory, s.to_territory, t.code,
                t.from_parent, t.to_parent, c.owner, d.kind, m.from_owner, m.to_owner,
                s.from_role, s.to_role, s.actor
         FROM changes c LEFT JOIN doc_moves m ON m.seq = c.seq
              LEFT JOIN scope_changes s ON s.seq = c.seq
              LEFT JOIN tree_moves t ON t.seq = c.seq
              LEFT JOIN documents d ON d.doc_id = c.doc_id
         WHERE c.seq > ?1 ORDER BY c.seq",
    )?;
    let rows = stmt.query_map([cursor as i64], |r| {
        let seq = r.get::<_, i64>(0)? as u64;
        let doc_id: String = r.get(1)?;
        let territory: String = r.get(2)?;
        let hash: Option<Vec<u8>> = r.get(3)?;
        let kind = r
            .get::<_, Option<String>>(14)?
            .and_then(|k| k.parse::<shared::RecordKind>().ok());
        if hash.is_none()
            && let Some(user) = r.get::<_, Option<String>>(7)?
        {
            return Ok(LogEntry::Scope {
                seq,
                user,
                from: r.get::<_, Option<String>>(8)?.unwrap_or_default(),
                to: r.get::<_, Option<String>>(9)?.unwrap_or(territory),
                from_role: r.get(17)?,
                to_role: r.get(18)?,
                actor: r.get(19)?,
            });
        }
        if hash.is_none()
            && let Some(code) = r.get::<_, Option<String>>(10)?
        {
            return Ok(LogEntry::TreeMove {
                seq,
                code,
                from: r.get(11)?,
                to: r.get::<_, Option<String>>(12)?.unwrap_or_default(),
            });
        }
        Ok(match hash {
            Some(hash) => LogEntry::Change {
                seq,
                doc_id,
                territory,
                owner: r.get(13)?,
                kind,
                hash,
                len: r.get::<_, Option<i64>>(4)?.unwrap_or(0) as u64,
            },
            None => LogEntry::Move {
                seq,
                doc_id,
                from: r.get::<_, Option<String>>(5)?.unwrap_or_default(),
                to: r.get::<_, Option<String>>(6)?.unwrap_or(territory),
                from_owner: r.get(15)?,
                to_owner: r.get(16)?,
                kind,
            },
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The bytes of one change.
pub fn change_bytes(conn: &Connection, seq: u64) -> Result<Vec<u8>, ServerError> {
    Ok(conn
        .prepare_cached("SELECT bytes FROM changes WHERE seq = ?1")?
        .query_row([seq as i64], |r| r.get(0))?)
}

/// A change's hash and bytes.
pub type HashAndBytes = (Vec<u8>, Vec<u8>);

/// A document's changes before `seq`, in log order: `(hash, bytes)`.
pub fn history_before(
    conn: &Connection,
    doc_id: &str,
    seq: u64,
) -> Result<Vec<HashAndBytes>, ServerError> {
    let mut stmt = conn.prepare_cached(
        "SELECT hash, bytes FROM changes
         WHERE doc_id = ?1 AND seq < ?2 AND hash IS NOT NULL ORDER BY seq",
    )?;
    let rows = stmt.query_map(params![doc_id, seq as i64], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// How many changes the log holds (moves not counted).
pub fn change_count(conn: &Connection) -> Result<u64, ServerError> {
    Ok(conn.query_row(
        "SELECT count(*) FROM changes WHERE hash IS NOT NULL",
        [],
        |r| r.get::<_, i64>(0),
    )? as u64)
}

/// The registered devices (actor, user, device) that wrote changes to any of these documents.
pub fn actors_of(
    conn: &Connection,
    doc_ids: &[String],
) -> Result<Vec<(String, String, String)>, ServerError> {
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT d.actor, d.user, d.device FROM changes c
         JOIN devices d ON d.actor = c.actor WHERE c.doc_id = ?1",
    )?;
    let mut found = std::collections::BTreeSet::new();
    for doc_id in doc_ids {
        let rows = stmt.query_map([doc_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        for row in rows {
            found.insert(row?);
        }
    }
    Ok(found.into_iter().collect())
}

//! Pushed changes the server holds until what they build on arrives (see
//! [`crate::sync::pending`]).

use rusqlite::{Connection, params};

use crate::error::ServerError;
use crate::store::now_text;

/// A held change, with who pushed it.
#[derive(Debug, Clone)]
pub struct Held {
    /// Its row, in the order changes were held.
    pub seq: i64,
    /// The change's hash.
    pub hash: Vec<u8>,
    /// Its document.
    pub doc_id: String,
    /// The pusher's actor id (hex).
    pub actor: String,
    /// The pusher's user name.
    pub user: String,
    /// The pusher's device name.
    pub device: String,
    /// The change's bytes.
    pub bytes: Vec<u8>,
}

/// Holds a change until `waits_for` arrives; holding it again only updates what it waits for.
pub fn hold(conn: &Connection, held: &Held, waits_for: &str) -> Result<(), ServerError> {
    conn.execute(
        "INSERT INTO pending_changes (hash, doc_id, waits_for, actor, user, device, bytes,
                                      received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (hash) DO UPDATE SET waits_for = excluded.waits_for",
        params![
            held.hash,
            held.doc_id,
            waits_for,
            held.actor,
            held.user,
            held.device,
            held.bytes,
            now_text()
        ],
    )?;
    Ok(())
}

/// The changes waiting for document `doc_id`, oldest first.
pub fn waiting_for(conn: &Connection, doc_id: &str) -> Result<Vec<Held>, ServerError> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, hash, doc_id, actor, user, device, bytes FROM pending_changes
         WHERE waits_for = ?1 ORDER BY seq",
    )?;
    let rows = stmt.query_map([doc_id], |r| {
        Ok(Held {
            seq: r.get(0)?,
            hash: r.get(1)?,
            doc_id: r.get(2)?,
            actor: r.get(3)?,
            user: r.get(4)?,
            device: r.get(5)?,
            bytes: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Points a held change at another document to wait for.
pub fn rewait(conn: &Connection, seq: i64, waits_for: &str) -> Result<(), ServerError> {
    conn.execute(
        "UPDATE pending_changes SET waits_for = ?2 WHERE seq = ?1",
        params![seq, waits_for],
    )?;
    Ok(())
}

/// Removes a held change (applied, or refused for good).
pub fn remove(conn: &Connection, seq: i64) -> Result<(), ServerError> {
    conn.execute("DELETE FROM pending_changes WHERE seq = ?1", [seq])?;
    Ok(())
}

/// How many changes are held.
pub fn count(conn: &Connection) -> Result<u64, ServerError> {
    Ok(
        conn.query_row("SELECT count(*) FROM pending_changes", [], |r| {
            r.get::<_, i64>(0)
        })? as u64,
    )
}

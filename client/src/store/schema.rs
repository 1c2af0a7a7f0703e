//! The local database's schema and its forward-only migrations.
//!
//! The version lives in SQLite's `user_version`. Each migration runs in the same transaction as
//! the version bump, so a crash mid-migration leaves the old schema intact.

use rusqlite::Connection;

/// The migrations, in order; migration `i` takes the store from version `i` to `i + 1`.
fn migrations() -> Vec<String> {
    vec![format!(
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
         -- One row per record: its latest compacted snapshot, plus changes since in doc_changes.
         CREATE TABLE documents (
             doc_id TEXT PRIMARY KEY,
             kind TEXT NOT NULL,
             snapshot BLOB NOT NULL,
             pending_changes INTEGER NOT NULL DEFAULT 0,
             updated_at TEXT NOT NULL
         );
         CREATE TABLE doc_changes (
             id INTEGER PRIMARY KEY AUTOINCREMENT,
             doc_id TEXT NOT NULL,
             hash TEXT NOT NULL,
             bytes BLOB NOT NULL,
             UNIQUE (doc_id, hash)
         );
         -- Changes made on this laptop that the server has not acknowledged yet.
         CREATE TABLE outbox (
             id INTEGER PRIMARY KEY AUTOINCREMENT,
             hash TEXT NOT NULL UNIQUE,
             doc_id TEXT NOT NULL,
             bytes BLOB NOT NULL,
             created_at TEXT NOT NULL
         );
         -- Who each Automerge actor is: the audit trail's (user, device).
         CREATE TABLE actors (actor TEXT PRIMARY KEY, user_name TEXT NOT NULL, device TEXT NOT NULL);
         -- Documents that could not be read, kept aside with the reason; never deleted.
         CREATE TABLE quarantine (doc_id TEXT PRIMARY KEY, reason TEXT NOT NULL, at TEXT NOT NULL);
         -- Fields edited concurrently, derived from the documents like the projections.
         CREATE TABLE conflicts (
             doc_id TEXT NOT NULL,
             kind TEXT NOT NULL,
             path TEXT NOT NULL,
             value_json TEXT NOT NULL,
             PRIMARY KEY (doc_id, path)
         );
         {}",
        shared::projection::ddl()
    ),
    // Version 2: sync. Edits the server refused (kept with the reason and their bytes, never
    // dropped) and purges waiting for this laptop's own edits to a document to be settled.
    "CREATE TABLE rejected (
         hash TEXT PRIMARY KEY,
         doc_id TEXT NOT NULL,
         code TEXT NOT NULL,
         reason TEXT NOT NULL,
         bytes BLOB NOT NULL,
         at TEXT NOT NULL
     );
     CREATE TABLE pending_purges (doc_id TEXT PRIMARY KEY, at TEXT NOT NULL);"
        .to_string()]
}

/// The schema version this build writes.
pub fn latest_version() -> i64 {
    migrations().len() as i64
}

/// Brings the database up to the latest version. Returns the version found, so the caller can
/// refuse a store from a newer build before touching it.
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<i64> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    for (index, sql) in migrations().iter().enumerate().skip(found.max(0) as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
        tx.commit()?;
    }
    // Projection tables are created idempotently so that tables added in `shared` later (flags)
    // appear in stores made before them.
    conn.execute_batch(&shared::projection::ddl())?;
    Ok(found)
}

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
        .to_string(),
    // Version 3: pulled changes this laptop could not apply, set aside with the reason and their
    // bytes (never dropped) and tried again on every sync, so that one bad change never stops
    // the cursor. `hash` is NULL when the bytes do not parse.
    "CREATE TABLE quarantined_changes (
         id INTEGER PRIMARY KEY AUTOINCREMENT,
         doc_id TEXT NOT NULL,
         seq INTEGER NOT NULL,
         hash TEXT,
         code TEXT NOT NULL,
         detail TEXT NOT NULL,
         bytes BLOB NOT NULL,
         at TEXT NOT NULL
     );
     CREATE INDEX quarantined_changes_doc ON quarantined_changes (doc_id);"
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
    add_projection_columns(conn)?;
    Ok(found)
}

/// Adds the columns `shared` gave a projection table after this store created it (orders'
/// `credit_hold`), then re-projects every document of the kinds that table holds, so the new
/// column is filled from the documents rather than left NULL: projections are derived data, and
/// a document pulled by an older build may already carry the field. One transaction, so a crash
/// leaves the column missing and the next open simply does it again. A fresh store has every
/// column from the DDL and does nothing here.
fn add_projection_columns(conn: &mut Connection) -> rusqlite::Result<()> {
    use shared::projection::{TABLES, add_column_sql, kinds_in};
    let tx = conn.transaction()?;
    let mut stale = Vec::new();
    for table in TABLES {
        let existing: Vec<String> = tx
            .prepare(&format!("PRAGMA table_info({})", table.name))?
            .query_map([], |row| row.get(1))?
            .collect::<Result<_, _>>()?;
        let alters = add_column_sql(table, &existing);
        if alters.is_empty() {
            continue;
        }
        for sql in alters {
            tx.execute_batch(&sql)?;
        }
        stale.extend(kinds_in(table));
    }
    stale.sort_by_key(|kind| kind.as_str());
    stale.dedup();
    // Any actor reads a document; nothing is written to one here.
    let actor = automerge::ActorId::random();
    for kind in stale {
        let ids: Vec<String> = tx
            .prepare("SELECT doc_id FROM documents WHERE kind = ?1")?
            .query_map([kind.as_str()], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        for id in ids
            .iter()
            .filter_map(|id| id.parse::<shared::RecordId>().ok())
        {
            // An unreadable document is quarantined by `load` and keeps its old rows.
            let document = match super::documents::load(&tx, &actor, id) {
                Ok(document) => document,
                Err(crate::error::ClientError::Sqlite(e)) => return Err(e),
                Err(_) => continue,
            };
            if let Ok(record) = shared::doc::read(&document) {
                super::documents::refresh_derived(&tx, id, &record, &document)?;
            }
        }
    }
    tx.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_made_before_credit_holds_gains_the_orders_column() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        // A store as an older build left it: the orders table without `credit_hold`.
        conn.execute_batch("ALTER TABLE orders DROP COLUMN credit_hold")
            .unwrap();
        migrate(&mut conn).unwrap();
        let columns: Vec<String> = conn
            .prepare("PRAGMA table_info(orders)")
            .unwrap()
            .query_map([], |row| row.get(1))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(columns.last().map(String::as_str), Some("credit_hold"));
    }
}

//! Forward-only schema migrations, versioned in `user_version`.

use rusqlite::Connection;

use crate::error::ServerError;

/// Migration `i` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE territories (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    parent TEXT REFERENCES territories(code)
);
CREATE TABLE users (
    name TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    territory TEXT NOT NULL REFERENCES territories(code),
    created_at TEXT NOT NULL
);
CREATE TABLE devices (
    actor TEXT PRIMARY KEY,
    user TEXT NOT NULL REFERENCES users(name),
    device TEXT NOT NULL,
    registered_at TEXT NOT NULL
);
CREATE TABLE tokens (
    hash BLOB PRIMARY KEY,
    user TEXT NOT NULL REFERENCES users(name),
    device TEXT NOT NULL,
    actor TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
-- The log. A row with a hash is a change; a row without one is a marker for a document moving
-- between territories (details in doc_moves, same seq), so that changes and moves share one
-- sequence and a cursor orders both. `territory` is the document's territory just after the
-- change was accepted.
CREATE TABLE changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    hash BLOB UNIQUE,
    doc_id TEXT NOT NULL,
    territory TEXT NOT NULL,
    actor TEXT,
    user TEXT,
    device TEXT,
    bytes BLOB,
    received_at TEXT NOT NULL
);
CREATE INDEX changes_doc ON changes (doc_id, seq);
CREATE TABLE doc_moves (
    seq INTEGER PRIMARY KEY REFERENCES changes(seq),
    doc_id TEXT NOT NULL,
    from_territory TEXT NOT NULL,
    to_territory TEXT NOT NULL
);
CREATE TABLE documents (
    doc_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    territory TEXT NOT NULL,
    customer_id TEXT,
    snapshot BLOB NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX documents_customer ON documents (customer_id);
"#,
    r#"
-- A person's grade (probation | regular | supervisor) sets their authority with their role.
ALTER TABLE users ADD COLUMN grade TEXT NOT NULL DEFAULT 'regular';
-- The normalised identifying keys of each customer, so the duplicate rule (撞单) fetches only
-- the customers sharing one instead of scanning all of them.
CREATE TABLE customer_keys (
    doc_id TEXT PRIMARY KEY,
    tax_id TEXT,
    phone TEXT,
    name TEXT
);
CREATE INDEX customer_keys_tax_id ON customer_keys (tax_id);
CREATE INDEX customer_keys_phone ON customer_keys (phone);
CREATE INDEX customer_keys_name ON customer_keys (name);
"#,
    r#"
-- A salesperson's scope changing is a marker row in the log (hash NULL, doc_id ''), with its
-- details here under the same seq, so that pull replays each user's scope as it was at every
-- point of the log.
CREATE TABLE scope_changes (
    seq INTEGER PRIMARY KEY REFERENCES changes(seq),
    user TEXT NOT NULL,
    from_territory TEXT NOT NULL,
    to_territory TEXT NOT NULL,
    effective_at TEXT NOT NULL
);
CREATE INDEX scope_changes_user ON scope_changes (user, seq);
-- Every assignment of a user to a territory, effective-dated. `applied_seq` is the scope
-- change marker that put it in force; NULL while it waits for its date.
CREATE TABLE assignments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user TEXT NOT NULL REFERENCES users(name),
    territory TEXT NOT NULL REFERENCES territories(code),
    effective_at TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    applied_seq INTEGER
);
CREATE INDEX assignments_pending ON assignments (applied_seq, effective_at);
-- Where and by whom a document was made: set when it is first accepted, never changed, so
-- history and reports stay true after realignments. Existing documents take their first
-- change's territory and author.
ALTER TABLE documents ADD COLUMN origin_territory TEXT;
ALTER TABLE documents ADD COLUMN origin_user TEXT;
UPDATE documents SET
    origin_territory = (SELECT c.territory FROM changes c WHERE c.doc_id = documents.doc_id
                        AND c.hash IS NOT NULL ORDER BY c.seq LIMIT 1),
    origin_user = (SELECT c.user FROM changes c WHERE c.doc_id = documents.doc_id
                   AND c.hash IS NOT NULL ORDER BY c.seq LIMIT 1);
-- Merged duplicate customers (撞单): the old id and the customer that survived it. The
-- server treats the old customer's visits, quotations and orders as the survivor's.
CREATE TABLE customer_alias (
    old TEXT PRIMARY KEY,
    survivor TEXT NOT NULL,
    merged_at TEXT NOT NULL
);
CREATE INDEX customer_alias_survivor ON customer_alias (survivor);
"#,
    r#"
-- A territory node moving to another parent: a marker row in the log (hash NULL, doc_id ''),
-- details here, so that pull replays who gains and who loses the node's documents.
CREATE TABLE tree_moves (
    seq INTEGER PRIMARY KEY REFERENCES changes(seq),
    code TEXT NOT NULL,
    from_parent TEXT,
    to_parent TEXT NOT NULL
);
"#,
    r#"
-- Organisation-wide settings, e.g. the authority limits (JSON), set by `admin limits set`.
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"#,
    r#"
-- Pushed changes held until what they build on arrives: `waits_for` is the document whose
-- arrival may let them apply (earlier changes to their own document, or the customer a visit
-- or deal is for). Who pushed them is kept, so they are applied as that user when it does.
CREATE TABLE pending_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    hash BLOB NOT NULL UNIQUE,
    doc_id TEXT NOT NULL,
    waits_for TEXT NOT NULL,
    actor TEXT NOT NULL,
    user TEXT NOT NULL,
    device TEXT NOT NULL,
    bytes BLOB NOT NULL,
    received_at TEXT NOT NULL
);
CREATE INDEX pending_changes_waits ON pending_changes (waits_for, seq);
"#,
    r#"
-- Rule 2: a customer is assigned to a salesperson (客户归属), and its visits, quotations and
-- orders follow it. `owner` is the document's owner just after each log row (a change or a
-- move), as `territory` is its territory, so pull replays ownership like territory. A flag's
-- owner is the space-separated set of the owners of the customers it involves.
ALTER TABLE changes ADD COLUMN owner TEXT;
ALTER TABLE documents ADD COLUMN owner TEXT;
ALTER TABLE doc_moves ADD COLUMN from_owner TEXT;
ALTER TABLE doc_moves ADD COLUMN to_owner TEXT;
-- A scope change may change a user's role (with or without their territory), or close one
-- device's scope altogether (`actor` set: the device was revoked and reads nothing after it).
ALTER TABLE scope_changes ADD COLUMN from_role TEXT;
ALTER TABLE scope_changes ADD COLUMN to_role TEXT;
ALTER TABLE scope_changes ADD COLUMN actor TEXT;
ALTER TABLE devices ADD COLUMN revoked_at TEXT;
-- Existing customers go to the salesperson who made them, when that salesperson still works
-- the customer's territory; their dependents follow. Earlier log rows carry the owner too, so
-- a laptop pulling from the start sees the same history.
UPDATE documents SET owner = origin_user
 WHERE kind = 'customer' AND origin_user IN
       (SELECT name FROM users WHERE role = 'salesperson' AND territory = documents.territory);
UPDATE documents SET owner = (SELECT c.owner FROM documents c WHERE c.doc_id = documents.customer_id)
 WHERE kind IN ('visit', 'quotation', 'order');
UPDATE changes SET owner = (SELECT d.owner FROM documents d WHERE d.doc_id = changes.doc_id)
 WHERE doc_id <> '';
UPDATE doc_moves SET from_owner = (SELECT d.owner FROM documents d WHERE d.doc_id = doc_moves.doc_id),
                     to_owner = (SELECT d.owner FROM documents d WHERE d.doc_id = doc_moves.doc_id);
"#,
    r#"
-- When the server first received each document: the receive time of its first accepted change
-- (for a record the server made itself, such as a flag, its own time), set once and never
-- changed. Rules and reports judge a laptop's clock by it (shared::clock): the laptop's time is
-- believed only within the offline window before it. Every logged change has carried its
-- receive time since the first schema, so existing documents take their first change's; one
-- without a logged change (none should exist) takes the time of this migration.
ALTER TABLE documents ADD COLUMN received_at TEXT;
UPDATE documents SET received_at = COALESCE(
    (SELECT c.received_at FROM changes c WHERE c.doc_id = documents.doc_id
     AND c.hash IS NOT NULL ORDER BY c.seq LIMIT 1),
    strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
"#,
];

/// Brings the schema up to date, each step in its own transaction.
pub fn migrate(conn: &mut Connection) -> Result<(), ServerError> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let known = MIGRATIONS.len() as i64;
    if version > known {
        return Err(ServerError::Config(format!(
            "database schema version {version} is newer than this server ({known})"
        )));
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        if index == 0 {
            tx.execute_batch(&shared::projection::ddl())?;
        }
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
        tx.commit()?;
    }
    // Projection tables are created idempotently so that new tables in `shared` appear.
    conn.execute_batch(&shared::projection::ddl())?;
    add_projection_columns(conn)?;
    Ok(())
}

/// Adds the columns `shared` gave a projection table after this database created it (orders'
/// `credit_hold`), then re-projects every document of the kinds that table holds from its
/// snapshot: projections are derived data, so rebuilding the rows is always right, and the rules
/// and reports read them. One transaction, so a crash leaves the column missing and the next
/// start does it again. This is forward-only, and a fresh database (whose tables come from the
/// DDL with every column) does nothing here, which is why it is not a numbered migration: an
/// `ALTER TABLE ... ADD COLUMN` there would fail on a database created with the column.
fn add_projection_columns(conn: &mut Connection) -> Result<(), ServerError> {
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
    let actor = crate::flags::system_actor();
    for kind in stale {
        let rows: Vec<(String, Vec<u8>)> = tx
            .prepare("SELECT doc_id, snapshot FROM documents WHERE kind = ?1")?
            .query_map([kind.as_str()], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<Result<_, _>>()?;
        for (doc_id, snapshot) in rows {
            let record = shared::doc::load(&snapshot, &actor).and_then(|d| shared::doc::read(&d));
            match (doc_id.parse(), record) {
                (Ok(id), Ok(record)) => super::log::reproject(&tx, id, &record)?,
                // An unreadable document keeps its old rows, as a re-check leaves it alone.
                _ => tracing::warn!(doc = %doc_id, "re-projection skipped a document"),
            }
        }
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_made_before_credit_holds_gains_the_orders_column() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        // A database as an older build left it: the orders table without `credit_hold`.
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

    /// A database file as the schema before `received_at` left it (the migrations up to it,
    /// run as that build ran them), holding a document with two logged changes, a flag the
    /// server wrote, and a document whose log rows are gone.
    fn database_before_received_at(path: &std::path::Path) {
        let mut conn = Connection::open(path).unwrap();
        let previous = MIGRATIONS.len() - 1;
        for (index, sql) in MIGRATIONS.iter().enumerate().take(previous) {
            let tx = conn.transaction().unwrap();
            tx.execute_batch(sql).unwrap();
            if index == 0 {
                tx.execute_batch(&shared::projection::ddl()).unwrap();
            }
            tx.pragma_update(None, "user_version", index as i64 + 1)
                .unwrap();
            tx.commit().unwrap();
        }
        conn.execute_batch(
            "INSERT INTO changes (hash, doc_id, territory, user, bytes, received_at)
             VALUES (x'01', 'customer-a', 'EAST-SH', 'zhang.wei', x'00', '2026-10-01T02:00:00+00:00'),
                    (x'02', 'flag-f', 'EAST-SH', '$server', x'00', '2026-10-03T05:00:00+00:00'),
                    (x'03', 'customer-a', 'EAST-SH', 'zhang.wei', x'00', '2026-11-20T02:00:00+00:00');
             INSERT INTO documents (doc_id, kind, territory, snapshot, updated_at)
             VALUES ('customer-a', 'customer', 'EAST-SH', x'00', '2026-11-20T02:00:00+00:00'),
                    ('flag-f', 'flag', 'EAST-SH', x'00', '2026-10-03T05:00:00+00:00'),
                    ('orphan-o', 'order', 'EAST-SH', x'00', '2026-09-01T00:00:00+00:00');",
        )
        .unwrap();
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap();
        assert_eq!(version, previous as i64);
    }

    #[test]
    fn a_database_made_before_receive_times_takes_them_from_its_log() {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join("server.db");
        database_before_received_at(&path);
        let before = chrono::Utc::now();
        let store = crate::store::Store::open(&path).unwrap();
        let received = |doc: &str| -> String {
            store
                .blocking(|c| {
                    Ok(c.query_row(
                        "SELECT received_at FROM documents WHERE doc_id = ?1",
                        [doc],
                        |r| r.get(0),
                    )?)
                })
                .unwrap()
        };
        // The first change's receive time, not the latest one's.
        assert_eq!(received("customer-a"), "2026-10-01T02:00:00+00:00");
        assert_eq!(received("flag-f"), "2026-10-03T05:00:00+00:00");
        // No logged change: the migration's own time.
        let orphan = crate::clock::instant(&received("orphan-o")).unwrap();
        assert!(orphan >= before - chrono::Duration::seconds(1), "{orphan}");
        // A later save keeps the receive time.
        store
            .blocking(|c| {
                crate::store::log::save_document(c, "customer-a", "customer", "EAST-SH", None, b"")
            })
            .unwrap();
        assert_eq!(received("customer-a"), "2026-10-01T02:00:00+00:00");
    }
}

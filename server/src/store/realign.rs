//! Realignment in storage: users' scope changes (markers in the log), effective-dated
//! assignments, documents' territories at a point of the log, and merged customers' aliases.
//!
//! A scope change is a log row without a hash and with an empty `doc_id`, its details in
//! `scope_changes` under the same seq, exactly as a document move is a row with details in
//! `doc_moves`. Pull replays a user's scope from these markers, so paging and retrying from an
//! old cursor give the same answer however many times the user moved since.

use chrono::NaiveDate;
use rusqlite::{Connection, OptionalExtension, params};

use crate::error::ServerError;
use crate::store::now_text;

/// One effective-dated assignment of a user to a territory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// The user.
    pub user: String,
    /// The territory they are assigned to.
    pub territory: String,
    /// The day it takes effect (`YYYY-MM-DD`).
    pub effective_at: String,
    /// When it was recorded.
    pub recorded_at: String,
    /// The log seq of the scope change that put it in force; `None` while it waits for its
    /// date, `Some(0)` when it changed nothing (the user was already there).
    pub applied_seq: Option<u64>,
}

/// Appends a scope-change marker for `user` (from → to, effective on `effective_at`) and sets
/// their territory; returns the marker's seq.
pub fn append_scope_change(
    conn: &Connection,
    user: &str,
    from: &str,
    to: &str,
    effective_at: &str,
) -> Result<u64, ServerError> {
    conn.execute(
        "INSERT INTO changes (hash, doc_id, territory, received_at) VALUES (NULL, '', ?1, ?2)",
        params![to, now_text()],
    )?;
    let seq = conn.last_insert_rowid();
    conn.execute(
        "INSERT INTO scope_changes (seq, user, from_territory, to_territory, effective_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![seq, user, from, to, effective_at],
    )?;
    conn.execute(
        "UPDATE users SET territory = ?2 WHERE name = ?1",
        params![user, to],
    )?;
    Ok(seq as u64)
}

/// Moves territory node `code` under `to` (from `from`), with a marker in the log; returns the
/// marker's seq. The caller checks that the move makes no cycle.
pub fn append_tree_move(
    conn: &Connection,
    code: &str,
    from: Option<&str>,
    to: &str,
) -> Result<u64, ServerError> {
    conn.execute(
        "INSERT INTO changes (hash, doc_id, territory, received_at) VALUES (NULL, '', ?1, ?2)",
        params![code, now_text()],
    )?;
    let seq = conn.last_insert_rowid();
    conn.execute(
        "INSERT INTO tree_moves (seq, code, from_parent, to_parent) VALUES (?1, ?2, ?3, ?4)",
        params![seq, code, from, to],
    )?;
    conn.execute(
        "UPDATE territories SET parent = ?2 WHERE code = ?1",
        params![code, to],
    )?;
    Ok(seq as u64)
}

/// Records an assignment of `user` to `territory` from `effective_at`. It is put in force by
/// [`apply_due`] once its day has come (at once when it already has).
pub fn record_assignment(
    conn: &Connection,
    user: &str,
    territory: &str,
    effective_at: NaiveDate,
) -> Result<(), ServerError> {
    conn.execute(
        "INSERT INTO assignments (user, territory, effective_at, recorded_at)
         VALUES (?1, ?2, ?3, ?4)",
        params![user, territory, effective_at.to_string(), now_text()],
    )?;
    Ok(())
}

/// Puts in force every assignment whose day is `today` or earlier, oldest first, each with a
/// scope-change marker when it changes the user's territory. Returns how many it applied.
/// Cheap when nothing waits (one indexed query), so it can run before every authentication;
/// it works in a savepoint so that it is atomic inside or outside a transaction.
pub fn apply_due(conn: &Connection, today: NaiveDate) -> Result<usize, ServerError> {
    let due: Vec<(i64, String, String, String)> = conn
        .prepare_cached(
            "SELECT id, user, territory, effective_at FROM assignments
             WHERE applied_seq IS NULL AND effective_at <= ?1 ORDER BY effective_at, id",
        )?
        .query_map([today.to_string()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<Result<_, _>>()?;
    if due.is_empty() {
        return Ok(0);
    }
    conn.execute_batch("SAVEPOINT apply_due")?;
    let applied = (|| -> Result<usize, ServerError> {
        for (id, user, to, effective_at) in &due {
            let seq = set_territory(conn, user, to, effective_at)?.unwrap_or(0);
            conn.execute(
                "UPDATE assignments SET applied_seq = ?2 WHERE id = ?1",
                params![id, seq as i64],
            )?;
        }
        Ok(due.len())
    })();
    match applied {
        Ok(n) => {
            conn.execute_batch("RELEASE apply_due")?;
            Ok(n)
        }
        Err(e) => {
            conn.execute_batch("ROLLBACK TO apply_due; RELEASE apply_due")?;
            Err(e)
        }
    }
}

/// Moves an existing user to `to`, logging a scope change when it differs from where they
/// are; returns the marker's seq, or `None` when nothing changed or the user is new.
pub fn set_territory(
    conn: &Connection,
    user: &str,
    to: &str,
    effective_at: &str,
) -> Result<Option<u64>, ServerError> {
    let from: Option<String> = conn
        .query_row("SELECT territory FROM users WHERE name = ?1", [user], |r| {
            r.get(0)
        })
        .optional()?;
    match from {
        Some(from) if from != to => Ok(Some(append_scope_change(
            conn,
            user,
            &from,
            to,
            effective_at,
        )?)),
        _ => Ok(None),
    }
}

/// A user's assignments, oldest first.
pub fn assignments(conn: &Connection, user: &str) -> Result<Vec<Assignment>, ServerError> {
    let mut stmt = conn.prepare_cached(
        "SELECT user, territory, effective_at, recorded_at, applied_seq FROM assignments
         WHERE user = ?1 ORDER BY effective_at, id",
    )?;
    let rows = stmt.query_map([user], |r| {
        Ok(Assignment {
            user: r.get(0)?,
            territory: r.get(1)?,
            effective_at: r.get(2)?,
            recorded_at: r.get(3)?,
            applied_seq: r.get::<_, Option<i64>>(4)?.map(|s| s as u64),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The territory `user` held just after log position `seq`: the target of their last scope
/// change at or before it, else the origin of their first one after it, else `current`.
pub fn territory_at(
    conn: &Connection,
    user: &str,
    seq: u64,
    current: &str,
) -> Result<String, ServerError> {
    let before: Option<String> = conn
        .prepare_cached(
            "SELECT to_territory FROM scope_changes WHERE user = ?1 AND seq <= ?2
             ORDER BY seq DESC LIMIT 1",
        )?
        .query_row(params![user, seq as i64], |r| r.get(0))
        .optional()?;
    if let Some(territory) = before {
        return Ok(territory);
    }
    let after: Option<String> = conn
        .prepare_cached(
            "SELECT from_territory FROM scope_changes WHERE user = ?1 AND seq > ?2
             ORDER BY seq LIMIT 1",
        )?
        .query_row(params![user, seq as i64], |r| r.get(0))
        .optional()?;
    Ok(after.unwrap_or_else(|| current.to_string()))
}

/// Every document and its territory just before log position `seq` (the territory its last
/// change or move before `seq` left it in). Scans the log's document index once: scope
/// changes are rare, and this runs once per marker a pull crosses.
pub fn territories_before(
    conn: &Connection,
    seq: u64,
) -> Result<Vec<(String, String)>, ServerError> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.doc_id, c.territory FROM changes c
         JOIN (SELECT doc_id, MAX(seq) AS last FROM changes
               WHERE seq < ?1 AND doc_id <> '' GROUP BY doc_id) l ON l.last = c.seq
         ORDER BY c.seq",
    )?;
    let rows = stmt.query_map([seq as i64], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Where a document was made and by whom, fixed at its first acceptance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The territory the document had when first accepted.
    pub territory: Option<String>,
    /// The user who pushed its first change.
    pub user: Option<String>,
}

/// A document's [`Origin`]. History and reports use it to keep figures where they were earned
/// after the customer or the salesperson moved.
pub fn origin(conn: &Connection, doc_id: &str) -> Result<Option<Origin>, ServerError> {
    Ok(conn
        .query_row(
            "SELECT origin_territory, origin_user FROM documents WHERE doc_id = ?1",
            [doc_id],
            |r| {
                Ok(Origin {
                    territory: r.get(0)?,
                    user: r.get(1)?,
                })
            },
        )
        .optional()?)
}

/// The customer a (possibly merged) customer id stands for: the survivor of its merge, or
/// itself. Aliases are kept one hop deep by [`add_alias`], so one lookup suffices.
pub fn resolve_customer(conn: &Connection, id: &str) -> Result<String, ServerError> {
    Ok(conn
        .prepare_cached("SELECT survivor FROM customer_alias WHERE old = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?
        .unwrap_or_else(|| id.to_string()))
}

/// Records that `old` was merged into `survivor`, repointing earlier aliases of `old` so that
/// every alias names a live survivor directly, and hangs `old`'s dependents (visits,
/// quotations, orders) from the survivor. Returns those dependents with their territories.
pub fn add_alias(
    conn: &Connection,
    old: &str,
    survivor: &str,
) -> Result<Vec<(String, String)>, ServerError> {
    conn.execute(
        "INSERT INTO customer_alias (old, survivor, merged_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (old) DO UPDATE SET survivor = excluded.survivor",
        params![old, survivor, now_text()],
    )?;
    conn.execute(
        "UPDATE customer_alias SET survivor = ?2 WHERE survivor = ?1",
        params![old, survivor],
    )?;
    let dependents = crate::store::log::dependents(conn, old)?;
    conn.execute(
        "UPDATE documents SET customer_id = ?2 WHERE customer_id = ?1",
        params![old, survivor],
    )?;
    Ok(dependents)
}

//! Realignment in storage: users' scope changes (markers in the log), effective-dated
//! assignments, documents' territories at a point of the log, and merged customers' aliases.
//!
//! A scope change is a log row without a hash and with an empty `doc_id`, its details in
//! `scope_changes` under the same seq, exactly as a document move is a row with details in
//! `doc_moves`. Pull replays a user's scope from these markers, so paging and retrying from an
//! old cursor give the same answer however many times the user moved since.

use chrono::NaiveDate;
use rusqlite::{Connection, OptionalExtension, params};

use crate::accounts::{Role, UserInfo};
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

/// One scope change of a user (or of one of their devices), as a log marker records it.
#[derive(Debug, Clone, Copy)]
pub struct ScopeMarker<'a> {
    /// The user.
    pub user: &'a str,
    /// Their territory before and after.
    pub territory: (&'a str, &'a str),
    /// Their role before and after.
    pub role: (&'a str, &'a str),
    /// The one device concerned, when a device was revoked (it reads nothing after).
    pub actor: Option<&'a str>,
    /// The day it took effect (`YYYY-MM-DD`).
    pub effective_at: &'a str,
}

/// Appends a scope-change marker and puts its territory and role in force; returns the
/// marker's seq.
pub fn append_marker(conn: &Connection, marker: ScopeMarker<'_>) -> Result<u64, ServerError> {
    let (from, to) = marker.territory;
    conn.execute(
        "INSERT INTO changes (hash, doc_id, territory, received_at) VALUES (NULL, '', ?1, ?2)",
        params![to, now_text()],
    )?;
    let seq = conn.last_insert_rowid();
    conn.execute(
        "INSERT INTO scope_changes (seq, user, from_territory, to_territory, effective_at,
                                    from_role, to_role, actor)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            seq,
            marker.user,
            from,
            to,
            marker.effective_at,
            marker.role.0,
            marker.role.1,
            marker.actor
        ],
    )?;
    conn.execute(
        "UPDATE users SET territory = ?2, role = ?3 WHERE name = ?1",
        params![marker.user, to, marker.role.1],
    )?;
    Ok(seq as u64)
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
    let role: String = conn.query_row("SELECT role FROM users WHERE name = ?1", [user], |r| {
        r.get(0)
    })?;
    append_marker(
        conn,
        ScopeMarker {
            user,
            territory: (from, to),
            role: (&role, &role),
            actor: None,
            effective_at,
        },
    )
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

/// Revokes device `actor` of `user`: a scope change for that device alone, which closes its
/// scope (its next sync purges everything it holds), and the device marked revoked. Returns
/// the marker's seq, or `None` when it was already revoked.
pub fn revoke_device(
    conn: &Connection,
    user: &str,
    actor: &str,
) -> Result<Option<u64>, ServerError> {
    if revoked_at(conn, actor)?.is_some() {
        return Ok(None);
    }
    let (territory, role): (String, String) = conn.query_row(
        "SELECT territory, role FROM users WHERE name = ?1",
        [user],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let marker = ScopeMarker {
        user,
        territory: (&territory, &territory),
        role: (&role, &role),
        actor: Some(actor),
        effective_at: &crate::store::today().to_string(),
    };
    let seq = append_marker(conn, marker)?;
    conn.execute(
        "UPDATE devices SET revoked_at = ?2 WHERE actor = ?1",
        params![actor, now_text()],
    )?;
    Ok(Some(seq))
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
    set_scope(conn, user, to, None, effective_at)
}

/// Gives an existing user territory `to` and role `role` (`None`: theirs), logging one scope
/// change when either differs, so that their laptops act on it like on any realignment;
/// returns the marker's seq, or `None` when nothing changed or the user is new.
pub fn set_scope(
    conn: &Connection,
    user: &str,
    to: &str,
    role: Option<Role>,
    effective_at: &str,
) -> Result<Option<u64>, ServerError> {
    let now: Option<(String, String)> = conn
        .query_row(
            "SELECT territory, role FROM users WHERE name = ?1",
            [user],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((from, from_role)) = now else {
        return Ok(None);
    };
    let to_role = match role {
        Some(role) => role.as_str(),
        None => from_role.as_str(),
    };
    if from == to && from_role == to_role {
        return Ok(None);
    }
    let marker = ScopeMarker {
        user,
        territory: (&from, to),
        role: (&from_role, to_role),
        actor: None,
        effective_at,
    };
    Ok(Some(append_marker(conn, marker)?))
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

/// The territory and role `user` held just after log position `seq`: those their last scope
/// change at or before it left, else those their first one after it started from, else
/// `current`. Older markers recorded no role; they say nothing about it.
pub fn scope_at(conn: &Connection, seq: u64, current: &UserInfo) -> Result<UserInfo, ServerError> {
    let at = |column: &str, order: &str, cmp: &str| -> Result<Option<String>, ServerError> {
        let sql = format!(
            "SELECT {column} FROM scope_changes WHERE user = ?1 AND actor IS NULL
             AND seq {cmp} ?2 AND {column} IS NOT NULL ORDER BY seq {order} LIMIT 1"
        );
        Ok(conn
            .prepare_cached(&sql)?
            .query_row(params![current.name, seq as i64], |r| r.get(0))
            .optional()?)
    };
    let territory = match at("to_territory", "DESC", "<=")? {
        Some(t) => t,
        None => at("from_territory", "ASC", ">")?.unwrap_or_else(|| current.territory.clone()),
    };
    let role = match at("to_role", "DESC", "<=")? {
        Some(r) => r,
        None => at("from_role", "ASC", ">")?.unwrap_or_else(|| current.role.as_str().into()),
    };
    Ok(UserInfo {
        name: current.name.clone(),
        role: role.parse().unwrap_or(current.role),
        territory,
    })
}

/// The seq of the marker that revoked device `actor`, if it was revoked.
pub fn revoked_at(conn: &Connection, actor: &str) -> Result<Option<u64>, ServerError> {
    Ok(conn
        .prepare_cached("SELECT MIN(seq) FROM scope_changes WHERE actor = ?1")?
        .query_row([actor], |r| r.get::<_, Option<i64>>(0))?
        .map(|s| s as u64))
}

/// Where a document was filed just before a log position.
#[derive(Debug, Clone)]
pub struct Filed {
    /// The document.
    pub doc_id: String,
    /// Its territory.
    pub territory: String,
    /// Its owner.
    pub owner: Option<String>,
    /// Its kind (`None` if unknown).
    pub kind: Option<shared::RecordKind>,
}

/// Every document and where it was filed just before log position `seq` (where its last change
/// or move before `seq` left it), in a fixed order (by that row's seq), so that a pull can stop
/// part-way through a marker and resume at a position in this list. Scans the log's document
/// index once: scope changes are rare, and this runs once per marker a pull page crosses.
pub fn territories_before(conn: &Connection, seq: u64) -> Result<Vec<Filed>, ServerError> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.doc_id, c.territory, c.owner, d.kind FROM changes c
         JOIN (SELECT doc_id, MAX(seq) AS last FROM changes
               WHERE seq < ?1 AND doc_id <> '' GROUP BY doc_id) l ON l.last = c.seq
         LEFT JOIN documents d ON d.doc_id = c.doc_id
         ORDER BY c.seq",
    )?;
    let rows = stmt.query_map([seq as i64], |r| {
        Ok(Filed {
            doc_id: r.get(0)?,
            territory: r.get(1)?,
            owner: r.get(2)?,
            kind: r.get::<_, Option<String>>(3)?.and_then(|k| k.parse().ok()),
        })
    })?;
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

//! Customer assignment (客户归属, rule 2): which salesperson owns a document.
//!
//! A customer belongs to the salesperson it is assigned to; its visits, quotations and orders
//! follow it. The owner is kept beside the territory: on the document (its owner now) and on
//! every log row (its owner just after that row), so pull replays ownership exactly as it
//! replays territory. Reassigning a customer is a document move with a marker in the log for
//! the customer and each dependent: the new owner's laptop receives them whole, the old owner's
//! drains its pending edits and then purges them.

use rusqlite::{Connection, OptionalExtension, params};
use shared::RecordKind;

use crate::accounts::{Role, UserInfo};
use crate::error::ServerError;
use crate::store::{log, now_text};

/// A document's owner now (`None`: unassigned, or not a document that has one).
pub fn owner(conn: &Connection, doc_id: &str) -> Result<Option<String>, ServerError> {
    Ok(conn
        .prepare_cached("SELECT owner FROM documents WHERE doc_id = ?1")?
        .query_row([doc_id], |r| r.get::<_, Option<String>>(0))
        .optional()?
        .flatten())
}

/// The owner the server gives a record pushed by `author`, never the laptop's word: an
/// existing customer keeps its owner; a new one is assigned to the salesperson who made it, or,
/// made by a manager, to the salesperson it names (`named`: only a manager may name another,
/// see `shared::permissions`), else unassigned; a visit, quotation or order takes its
/// customer's owner; a flag keeps its own; dealers and products have none.
pub fn derive(
    conn: &Connection,
    author: &UserInfo,
    kind: RecordKind,
    customer_id: Option<&str>,
    existing: Option<Option<String>>,
    named: Option<&str>,
) -> Result<Option<String>, ServerError> {
    Ok(match kind {
        RecordKind::Customer => match existing {
            Some(owner) => owner,
            None if author.role == Role::Salesperson => Some(author.name.clone()),
            None => match named {
                Some(name) if is_salesperson(conn, name)? => Some(name.to_string()),
                _ => None,
            },
        },
        RecordKind::Visit | RecordKind::Quotation | RecordKind::Order => match customer_id {
            Some(customer) => owner(conn, customer)?,
            None => None,
        },
        RecordKind::Flag => existing.flatten(),
        RecordKind::Dealer | RecordKind::Product => None,
    })
}

fn is_salesperson(conn: &Connection, name: &str) -> Result<bool, ServerError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM users WHERE name = ?1 AND role = 'salesperson'")?
        .query_row([name], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Files `owner` on a document and on its latest log row (the change just appended for it).
pub fn file(conn: &Connection, doc_id: &str, owner: Option<&str>) -> Result<(), ServerError> {
    conn.execute(
        "UPDATE documents SET owner = ?2 WHERE doc_id = ?1",
        params![doc_id, owner],
    )?;
    conn.execute(
        "UPDATE changes SET owner = ?2
         WHERE seq = (SELECT MAX(seq) FROM changes WHERE doc_id = ?1)",
        params![doc_id, owner],
    )?;
    Ok(())
}

/// Where a document is filed: its territory and owner.
pub type Place<'a> = (&'a str, Option<&'a str>);

/// Moves a document to another territory and/or owner, with a marker in the log; returns the
/// marker's seq.
pub fn append_move(
    conn: &Connection,
    doc_id: &str,
    from: Place<'_>,
    to: Place<'_>,
) -> Result<u64, ServerError> {
    conn.execute(
        "INSERT INTO changes (hash, doc_id, territory, received_at, owner)
         VALUES (NULL, ?1, ?2, ?3, ?4)",
        params![doc_id, to.0, now_text(), to.1],
    )?;
    let seq = conn.last_insert_rowid();
    conn.execute(
        "INSERT INTO doc_moves (seq, doc_id, from_territory, to_territory, from_owner, to_owner)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![seq, doc_id, from.0, to.0, from.1, to.1],
    )?;
    conn.execute(
        "UPDATE documents SET territory = ?2, owner = ?3 WHERE doc_id = ?1",
        params![doc_id, to.0, to.1],
    )?;
    Ok(seq as u64)
}

/// Moves a customer's dependents (visits, quotations, orders) to the customer's place, each
/// with a marker; returns how many moved.
pub fn move_dependents(
    conn: &Connection,
    customer_id: &str,
    to: Place<'_>,
) -> Result<usize, ServerError> {
    let mut moved = 0;
    for (dependent, territory) in log::dependents(conn, customer_id)? {
        let current = owner(conn, &dependent)?;
        if territory != to.0 || current.as_deref() != to.1 {
            append_move(conn, &dependent, (&territory, current.as_deref()), to)?;
            moved += 1;
        }
    }
    Ok(moved)
}

/// Assigns customer `customer_id` (and its dependents) to `to` (`None`: unassigned). The
/// caller checks who may do it. Returns how many documents moved (0: already theirs).
pub fn reassign(
    conn: &Connection,
    customer_id: &str,
    to: Option<&str>,
) -> Result<usize, ServerError> {
    let Some((kind, territory)) = log::kind_and_territory(conn, customer_id)? else {
        return Err(ServerError::NotFound(format!("no customer {customer_id}")));
    };
    if kind != RecordKind::Customer.as_str() {
        return Err(ServerError::malformed(format!(
            "{customer_id} is a {kind}, not a customer"
        )));
    }
    let current = owner(conn, customer_id)?;
    let mut moved = 0;
    if current.as_deref() != to {
        append_move(
            conn,
            customer_id,
            (&territory, current.as_deref()),
            (&territory, to),
        )?;
        moved += 1;
    }
    Ok(moved + move_dependents(conn, customer_id, (&territory, to))?)
}

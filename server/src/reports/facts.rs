//! SQL from the projection tables to [`Facts`], and the territory tree from accounts.

use std::collections::BTreeMap;

use rusqlite::Connection;
use shared::clock::ClockPolicy;
use shared::report::raw::{RawCustomer, RawDeal, RawFlag, RawVisit, merge_flags};
use shared::report::{Facts, TerritoryNode, TerritoryTree};

use crate::accounts::Role;
use crate::clock;
use crate::error::ServerError;
use crate::store::accounts::{territories, users};

/// The territory tree for reports: every territory, and each salesperson attached to the
/// territory they are assigned to (managers are not attached: they appear in a rollup only
/// through facts of their own).
pub fn tree(conn: &Connection) -> Result<TerritoryTree, ServerError> {
    let nodes = territories(conn)?
        .into_iter()
        .map(|row| TerritoryNode {
            code: row.code,
            name: row.name,
            parent: row.parent,
        })
        .collect();
    let salespeople: BTreeMap<String, String> = users(conn)?
        .into_iter()
        .filter(|user| user.role == Role::Salesperson)
        .map(|user| (user.name, user.territory))
        .collect();
    // The stored tree is checked when it is written, so a failure here is an internal fault.
    TerritoryTree::new(nodes, salespeople)
        .map_err(|e| ServerError::Internal(format!("territory tree: {e}")))
}

/// Every fact the server holds. The region of each row is its document's territory; reading
/// the rows is [`shared::report::raw`], the same as on a laptop. Customers and deals are dated
/// by their trusted times ([`trusted_created`]), never by a laptop's clock beyond the offline
/// window; visits by their own local date.
pub fn facts(conn: &Connection) -> Result<Facts, ServerError> {
    let policy = clock::policy(conn)?;
    let mut facts = Facts::default();
    let mut skipped = 0usize;
    let mut stmt = conn.prepare(
        "SELECT c.created_at, c.salesperson, d.territory, d.received_at
         FROM customers c LEFT JOIN documents d ON d.doc_id = c.doc_id
         WHERE c.voided = 0",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(RawCustomer {
            created_at: trusted_created(policy, r.get(0)?, r.get(3)?),
            salesperson: r.get(1)?,
            region: r.get(2)?,
        })
    })?;
    for row in rows {
        push_or_count(&mut facts.customers, row?.into_row(), &mut skipped);
    }
    let mut stmt = conn.prepare(
        "SELECT v.local_date, v.salesperson, d.territory
         FROM visits v LEFT JOIN documents d ON d.doc_id = v.doc_id
         WHERE v.voided = 0 AND v.local_date IS NOT NULL",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(RawVisit {
            local_date: r.get(0)?,
            salesperson: r.get(1)?,
            region: r.get(2)?,
        })
    })?;
    for row in rows {
        push_or_count(&mut facts.visits, row?.into_row(), &mut skipped);
    }
    for table in ["quotations", "orders"] {
        let sql = format!(
            "SELECT t.created_at, t.salesperson, d.territory, t.total, t.currency, t.status, t.voided,
                    d.received_at
             FROM {table} t LEFT JOIN documents d ON d.doc_id = t.doc_id"
        );
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map([], |r| {
            Ok(RawDeal {
                created_at: trusted_created(policy, r.get(0)?, r.get(7)?),
                salesperson: r.get(1)?,
                region: r.get(2)?,
                total: r.get(3)?,
                currency: r.get(4)?,
                status: r.get(5)?,
                voided: r.get::<_, Option<i64>>(6)?.unwrap_or(0) != 0,
            })
        })?;
        for row in rows {
            push_or_count(
                &mut facts.deals,
                row?.into_row(table == "orders"),
                &mut skipped,
            );
        }
    }
    let mut stmt = conn.prepare(
        "SELECT key, kind, regions, detected_at, occurred_at FROM flags WHERE voided = 0",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(RawFlag {
            key: r.get(0)?,
            kind: r.get(1)?,
            regions: r.get(2)?,
            detected_at: r.get(3)?,
            occurred_at: r.get(4)?,
        })
    })?;
    let (flags, unreadable) = merge_flags(rows.collect::<Result<Vec<_>, _>>()?);
    facts.flags = flags;
    skipped += unreadable;
    if skipped > 0 {
        tracing::warn!(skipped, "report: projection rows that could not be read");
    }
    Ok(facts)
}

/// A record's creation time as reports date it: the laptop's `created_at` judged against when
/// the server first received the record ([`clock::trusted`]), as stored text. A claim that
/// cannot be read stays as it is, for the reader to skip and count.
fn trusted_created(
    policy: ClockPolicy,
    created_at: Option<String>,
    received_at: Option<String>,
) -> Option<String> {
    let claimed = created_at?;
    match clock::trusted(policy, &claimed, received_at.as_deref(), None) {
        Some(at) => Some(at.to_rfc3339()),
        None => Some(claimed),
    }
}

fn push_or_count<T>(into: &mut Vec<T>, row: Option<T>, skipped: &mut usize) {
    match row {
        Some(row) => into.push(row),
        None => *skipped += 1,
    }
}

//! The stock half of 窜货: goods whose batch or serial code is seen on a visit's stock check in a
//! region other than the one the batch was shipped to.
//!
//! Where a batch went comes from orders: a line's `batch` (projected normalised into
//! `deal_lines.batch`) was shipped to the order's delivery region, else its customer's territory
//! (`documents.territory`). Visits and orders arrive in any order, so both sides check: a visit
//! against the batches already shipped ([`visit_findings`]), and an order with batches against
//! the visits already holding them ([`recheck_visits`]). Both look up only the codes at hand,
//! through indexes, so the cost does not grow with the database.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::Connection;
use shared::RecordId;
use shared::domain::{Order, Visit};
use shared::rules::Finding;
use shared::rules::cross_region::{StockLine, VisitStock, check_visit_stock};
use shared::rules::names::normalise_code;

use crate::error::ServerError;
use crate::store::log;
use crate::territory::Tree;

/// Creates the indexes the lookups here need. The columns were added to the projection tables
/// after databases existed, and the shared DDL runs before missing columns are added, so it
/// cannot declare these indexes without failing on an older database; `IF NOT EXISTS` makes
/// this a no-op after the first time.
fn ensure_indexes(conn: &Connection) -> Result<(), ServerError> {
    conn.prepare_cached("CREATE INDEX IF NOT EXISTS deal_lines_batch ON deal_lines (batch)")?
        .execute([])?;
    conn.prepare_cached(
        "CREATE INDEX IF NOT EXISTS visit_stock_code_key ON visit_stock (code_key)",
    )?
    .execute([])?;
    Ok(())
}

/// The region each of `codes` (normalised) was shipped to, by live (not voided, not cancelled)
/// orders' lines; codes never shipped are left out. A batch split over several regions is at
/// home in each of them: when `seen` (the region it was seen in) is one of them that region is
/// given, so the rule finds nothing; otherwise the region of the earliest order shipping it,
/// earliest by the orders' trusted times ([`crate::clock`]), not by their laptops' clocks.
pub fn shipped_regions(
    conn: &Connection,
    codes: &BTreeSet<String>,
    seen: Option<&str>,
) -> Result<BTreeMap<String, String>, ServerError> {
    ensure_indexes(conn)?;
    let policy = crate::clock::policy(conn)?;
    let mut stmt = conn.prepare_cached(
        "SELECT COALESCE(NULLIF(TRIM(o.delivery_region), ''), d.territory), o.created_at,
                d.received_at, o.doc_id
         FROM deal_lines l
         JOIN orders o ON o.doc_id = l.doc_id
         JOIN documents d ON d.doc_id = o.doc_id
         WHERE l.batch = ?1 AND o.voided = 0 AND o.status <> 'cancelled'",
    )?;
    let mut out = BTreeMap::new();
    for code in codes {
        let mut shipped: Vec<(Option<chrono::DateTime<chrono::Utc>>, String, String)> = stmt
            .query_map([code], |r| {
                let (created, received) = (r.get::<_, String>(1)?, r.get::<_, Option<String>>(2)?);
                let at = crate::clock::trusted(policy, &created, received.as_deref(), None);
                Ok((at, r.get(3)?, r.get(0)?))
            })?
            .collect::<Result<_, _>>()?;
        shipped.sort();
        let regions: Vec<String> = shipped.into_iter().map(|(_, _, region)| region).collect();
        let region = match seen {
            Some(seen) if regions.iter().any(|r| r == seen) => Some(seen.to_string()),
            _ => regions.into_iter().next(),
        };
        if let Some(region) = region {
            out.insert(code.clone(), region);
        }
    }
    Ok(out)
}

/// The visits (ids, in order) whose stock check saw any of `codes` (normalised).
fn visits_holding(conn: &Connection, codes: &BTreeSet<String>) -> Result<Vec<String>, ServerError> {
    ensure_indexes(conn)?;
    let mut stmt = conn.prepare_cached("SELECT doc_id FROM visit_stock WHERE code_key = ?1")?;
    let mut out = BTreeSet::new();
    for code in codes {
        for id in stmt.query_map([code], |r| r.get::<_, String>(0))? {
            out.insert(id?);
        }
    }
    Ok(out.into_iter().collect())
}

/// The 窜货 findings of a visit's stock check; `territory` is the visit's (its customer's
/// region), where the goods were seen.
pub fn visit_findings(
    conn: &Connection,
    id: RecordId,
    visit: &Visit,
    territory: &str,
) -> Result<Vec<Finding>, ServerError> {
    if visit.voided.is_some() || visit.stock_seen.is_empty() {
        return Ok(Vec::new());
    }
    let stock = VisitStock {
        visit_id: id,
        salesperson: visit.salesperson.clone(),
        region: Some(territory.to_string()),
        customer_id: visit.customer_id,
        dealer_id: visit.dealer_id,
        stock: visit
            .stock_in_order()
            .into_iter()
            .map(|(_, s)| StockLine {
                product: s.product.clone(),
                code: s.code.clone(),
            })
            .collect(),
    };
    let codes: BTreeSet<String> = stock
        .stock
        .iter()
        .filter_map(|s| s.code.as_deref().and_then(normalise_code))
        .collect();
    if codes.is_empty() {
        return Ok(Vec::new());
    }
    let shipped = shipped_regions(conn, &codes, Some(territory))?;
    Ok(check_visit_stock(&stock, &shipped))
}

/// Re-checks the visits already holding a batch `order` ships, so a visit synced before the
/// order is flagged when the order arrives. Returns how many flag changes were written. An
/// order without batches (most of them) costs nothing here.
pub fn recheck_visits(conn: &Connection, tree: &Tree, order: &Order) -> Result<usize, ServerError> {
    if order.voided.is_some() {
        return Ok(0);
    }
    let codes: BTreeSet<String> = order
        .lines
        .values()
        .filter_map(|l| l.batch.as_deref().and_then(normalise_code))
        .collect();
    if codes.is_empty() {
        return Ok(0);
    }
    let actor = super::system_actor();
    let mut written = 0;
    for doc_id in visits_holding(conn, &codes)? {
        let (Ok(id), Some(row)) = (doc_id.parse::<RecordId>(), log::document(conn, &doc_id)?)
        else {
            continue;
        };
        let visit = shared::doc::load(&row.snapshot, &actor)
            .and_then(|d| shared::doc::read_as::<Visit>(&d));
        let Ok(visit) = visit else {
            tracing::warn!(doc = %doc_id, "stock re-check skipped an unreadable visit");
            continue;
        };
        for finding in visit_findings(conn, id, &visit, &row.territory)? {
            written += super::write::raise(conn, tree, &finding, &row.territory)?;
        }
    }
    Ok(written)
}

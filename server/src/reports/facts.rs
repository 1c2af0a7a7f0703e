//! SQL from the projection tables to [`Facts`], and the territory tree from accounts.

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate};
use rusqlite::Connection;
use rust_decimal::Decimal;
use shared::domain::{OrderStatus, QuoteStatus};
use shared::money::Currency;
use shared::report::{
    CustomerRow, DealRow, Facts, FlagRow, TerritoryNode, TerritoryTree, VisitRow,
};
use shared::rules::FindingKind;
use shared::rules::facts::DealStatus;

use super::REPORT_TIME_ZONE;
use crate::accounts::Role;
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

/// Every fact the server holds. The region of each row is its document's territory.
pub fn facts(conn: &Connection) -> Result<Facts, ServerError> {
    let mut facts = Facts::default();
    let mut skipped = 0usize;
    let mut stmt = conn.prepare(
        "SELECT c.created_at, c.salesperson, d.territory
         FROM customers c LEFT JOIN documents d ON d.doc_id = c.doc_id
         WHERE c.voided = 0",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, Option<String>>(0)?,
            r.get::<_, Option<String>>(1)?,
            r.get::<_, Option<String>>(2)?,
        ))
    })?;
    for row in rows {
        let (created, salesperson, region) = row?;
        match created.as_deref().and_then(local_date) {
            Some(created) => facts.customers.push(CustomerRow {
                created,
                salesperson,
                region,
            }),
            None => skipped += 1,
        }
    }
    let mut stmt = conn.prepare(
        "SELECT v.local_date, v.salesperson, d.territory
         FROM visits v LEFT JOIN documents d ON d.doc_id = v.doc_id
         WHERE v.voided = 0 AND v.local_date IS NOT NULL",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, Option<String>>(1)?,
            r.get::<_, Option<String>>(2)?,
        ))
    })?;
    for row in rows {
        let (date, salesperson, region) = row?;
        match (NaiveDate::from_str(&date), salesperson) {
            (Ok(date), Some(salesperson)) => facts.visits.push(VisitRow {
                date,
                salesperson,
                region,
            }),
            _ => skipped += 1,
        }
    }
    for table in ["quotations", "orders"] {
        let sql = format!(
            "SELECT t.created_at, t.salesperson, d.territory, t.total, t.currency, t.status, t.voided
             FROM {table} t LEFT JOIN documents d ON d.doc_id = t.doc_id"
        );
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map([], |r| {
            Ok(RawDeal {
                created_at: r.get(0)?,
                salesperson: r.get(1)?,
                region: r.get(2)?,
                total: r.get(3)?,
                currency: r.get(4)?,
                status: r.get(5)?,
                voided: r.get::<_, Option<i64>>(6)?.unwrap_or(0) != 0,
            })
        })?;
        for row in rows {
            match row?.into_row(table == "orders") {
                Some(deal) => facts.deals.push(deal),
                None => skipped += 1,
            }
        }
    }
    facts.flags = flags(conn, &mut skipped)?;
    if skipped > 0 {
        tracing::warn!(skipped, "report: projection rows that could not be read");
    }
    Ok(facts)
}

/// The flags as report rows, one per situation: copies of one finding (one per region, same
/// `key`) merged, regions the union of their `regions` lists, the date the earliest detection.
/// The laptop's `client/src/store/reports.rs` does exactly the same with the copies it holds.
fn flags(conn: &Connection, skipped: &mut usize) -> Result<Vec<FlagRow>, ServerError> {
    let mut stmt =
        conn.prepare("SELECT key, kind, regions, detected_at FROM flags WHERE voided = 0")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, Option<String>>(0)?,
            r.get::<_, Option<String>>(1)?,
            r.get::<_, Option<String>>(2)?,
            r.get::<_, Option<String>>(3)?,
        ))
    })?;
    let mut by_key: BTreeMap<String, FlagRow> = BTreeMap::new();
    for row in rows {
        let (key, kind, regions, detected) = row?;
        let parsed = (
            key,
            kind.and_then(|k| FindingKind::from_str(&k).ok()),
            detected.as_deref().and_then(local_date),
        );
        let (Some(key), Some(kind), Some(detected)) = parsed else {
            *skipped += 1;
            continue;
        };
        let regions = regions.unwrap_or_default();
        let regions = regions.split(',').map(str::trim).filter(|r| !r.is_empty());
        let row = by_key.entry(key).or_insert_with(|| FlagRow {
            kind,
            regions: Vec::new(),
            detected,
        });
        row.regions.extend(regions.map(String::from));
        row.regions.sort();
        row.regions.dedup();
        row.detected = row.detected.min(detected);
    }
    Ok(by_key.into_values().collect())
}

/// A quotation or order row as stored, before parsing.
struct RawDeal {
    created_at: Option<String>,
    salesperson: Option<String>,
    region: Option<String>,
    total: Option<String>,
    currency: Option<String>,
    status: Option<String>,
    voided: bool,
}

impl RawDeal {
    /// The parsed row; `None` when any needed value is missing or malformed.
    fn into_row(self, order: bool) -> Option<DealRow> {
        let status = self.status?;
        let status = if order {
            DealStatus::Order(OrderStatus::from_str(&status).ok()?)
        } else {
            DealStatus::Quote(QuoteStatus::from_str(&status).ok()?)
        };
        Some(DealRow {
            date: local_date(self.created_at.as_deref()?)?,
            salesperson: self.salesperson?,
            region: self.region,
            total: Decimal::from_str_exact(self.total.as_deref()?).ok()?,
            currency: Currency::from_str(self.currency.as_deref()?).ok()?,
            status,
            voided: self.voided,
        })
    }
}

/// The report date of a stored RFC 3339 instant.
fn local_date(text: &str) -> Option<NaiveDate> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|at| at.with_timezone(&REPORT_TIME_ZONE).date_naive())
}

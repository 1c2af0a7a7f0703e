//! Facts for offline reports (`fieldsync report`), read from the laptop's projection tables.
//!
//! These mirror the server's `server/src/reports/` decisions exactly (change both together), so
//! a manager's laptop and the server give the same figures for the same data:
//! - **region**: a customer's `region`; a visit, quotation or order takes its customer's region
//!   (the server's `documents.territory` is the customer's territory, moved with it). A
//!   customer with no region is unplaced here;
//! - **dates**: visits on their own local date; customers and deals on the date their UTC
//!   `created_at` falls on in [`REPORT_TIME_ZONE`];
//! - voided customers and visits are left out; voided deals are passed on marked;
//! - **collections and receivables** are empty (no such records yet; a `paid` order is not
//!   counted as collected, having no payment date or amount received);
//! - **flags** come from the `flags` projection, one row per situation (the flag's `key`):
//!   the server keeps one flag document per region involved and the laptop only those of its
//!   scope, so copies are merged by key — regions are every copy's `regions` list (all the
//!   regions involved, not just the copy's own) and the date the earliest `detected_at` — so
//!   either side counts a situation once per kind and once under each of its regions. Voided
//!   flags are left out; resolved ones count (they were raised in the period).
//!
//! The laptop holds no territory tree, so [`Store::report_tree`] builds one from the regions it
//! sees: a root [`LAPTOP_ROOT`] with each region code as a child (named by its code), and each
//! salesperson attached to the region where most of their customers are.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use chrono::{DateTime, NaiveDate};
use rust_decimal::Decimal;
use shared::domain::{OrderStatus, QuoteStatus};
use shared::money::Currency;
use shared::report::{
    CustomerRow, DealRow, Facts, FlagRow, TerritoryNode, TerritoryTree, VisitRow,
};
use shared::rules::FindingKind;
use shared::rules::facts::DealStatus;

use super::Store;
use crate::error::ClientError;

/// The time zone in which customers' and deals' creation instants become report dates; the
/// server uses the same one.
pub const REPORT_TIME_ZONE: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

/// The code of the root of the laptop's territory tree.
pub const LAPTOP_ROOT: &str = "ALL";

impl Store {
    /// The territory tree the laptop can build: [`LAPTOP_ROOT`] and each region its customers
    /// name, with salespeople attached to the region of most of their customers (ties go to the
    /// first region code).
    pub fn report_tree(&self) -> Result<TerritoryTree, ClientError> {
        let mut stmt = self.conn.prepare(
            "SELECT region, salesperson, COUNT(*) FROM customers
             WHERE voided = 0 AND region IS NOT NULL AND region <> ''
             GROUP BY region, salesperson",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        let mut regions = BTreeSet::new();
        let mut best: BTreeMap<String, (i64, String)> = BTreeMap::new();
        for row in rows {
            let (region, salesperson, count) = row?;
            regions.insert(region.clone());
            if let Some(user) = salesperson {
                let entry = best.entry(user).or_insert((0, region.clone()));
                if count > entry.0 || (count == entry.0 && region < entry.1) {
                    *entry = (count, region);
                }
            }
        }
        // A region literally named like the root would clash with it; it is left out of the
        // tree (its facts show as unplaced at the root) rather than failing the report.
        regions.remove(LAPTOP_ROOT);
        let mut nodes = vec![TerritoryNode {
            code: LAPTOP_ROOT.into(),
            name: LAPTOP_ROOT.into(),
            parent: None,
        }];
        nodes.extend(regions.iter().map(|code| TerritoryNode {
            code: code.clone(),
            name: code.clone(),
            parent: Some(LAPTOP_ROOT.into()),
        }));
        let salespeople = best
            .into_iter()
            .filter(|(_, (_, region))| regions.contains(region))
            .map(|(user, (_, region))| (user, region))
            .collect();
        TerritoryTree::new(nodes, salespeople).map_err(|e| ClientError::NotFound {
            kind: "territory".into(),
            id: e.to_string(),
        })
    }

    /// Every fact this laptop holds, read from the projection tables.
    pub fn report_facts(&self) -> Result<Facts, ClientError> {
        let mut facts = Facts::default();
        let mut stmt = self
            .conn
            .prepare("SELECT created_at, salesperson, region FROM customers WHERE voided = 0")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, Option<String>>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        })?;
        for row in rows {
            let (created, salesperson, region) = row?;
            if let Some(created) = created.as_deref().and_then(local_date) {
                facts.customers.push(CustomerRow {
                    created,
                    salesperson,
                    region,
                });
            }
        }
        let mut stmt = self.conn.prepare(
            "SELECT v.local_date, v.salesperson, c.region
             FROM visits v LEFT JOIN customers c ON c.doc_id = v.customer_id
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
            if let (date, Some(salesperson), region) = row?
                && let Ok(date) = NaiveDate::from_str(&date)
            {
                facts.visits.push(VisitRow {
                    date,
                    salesperson,
                    region,
                });
            }
        }
        for table in ["quotations", "orders"] {
            let sql = format!(
                "SELECT t.created_at, t.salesperson, c.region, t.total, t.currency, t.status,
                        t.voided
                 FROM {table} t LEFT JOIN customers c ON c.doc_id = t.customer_id"
            );
            let mut stmt = self.conn.prepare(&sql)?;
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
                facts.deals.extend(row?.into_row(table == "orders"));
            }
        }
        facts.flags = self.report_flags()?;
        Ok(facts)
    }

    /// The flags as report rows, one per situation (see the module's notes). The server's
    /// `server/src/reports/facts.rs` does exactly the same.
    fn report_flags(&self) -> Result<Vec<FlagRow>, ClientError> {
        let mut stmt = self
            .conn
            .prepare("SELECT key, kind, regions, detected_at FROM flags WHERE voided = 0")?;
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
    /// The parsed row; `None` when any needed value is missing or malformed (as on the server,
    /// such a row is skipped rather than failing the report).
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

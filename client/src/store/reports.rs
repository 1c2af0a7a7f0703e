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
//! - **flags** come from the `flags` projection, one row per situation (the flag's `key`,
//!   one document per finding, filed under every region it involves; older per-region copies
//!   are merged by key), dated by `occurred_at` (when the record that raised it was made) else
//!   `detected_at`, exactly as the server counts them. Voided flags are left out; resolved
//!   ones count.
//!
//! The laptop holds no territory tree, so [`Store::report_tree`] builds one from the regions it
//! sees: a root [`LAPTOP_ROOT`] with each region code as a child (named by its code), and each
//! salesperson attached to the region where most of their customers are.

use std::collections::{BTreeMap, BTreeSet};

use shared::report::raw::{RawCustomer, RawDeal, RawFlag, RawVisit, merge_flags};
use shared::report::{Facts, TerritoryNode, TerritoryTree};

use super::Store;
use crate::error::ClientError;

pub use shared::report::raw::REPORT_TIME_ZONE;

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

    /// Every fact this laptop holds, read from the projection tables; reading the rows is
    /// [`shared::report::raw`], the same as on the server.
    pub fn report_facts(&self) -> Result<Facts, ClientError> {
        let mut facts = Facts::default();
        let mut stmt = self
            .conn
            .prepare("SELECT created_at, salesperson, region FROM customers WHERE voided = 0")?;
        let rows = stmt.query_map([], |r| {
            Ok(RawCustomer {
                created_at: r.get(0)?,
                salesperson: r.get(1)?,
                region: r.get(2)?,
            })
        })?;
        for row in rows {
            facts.customers.extend(row?.into_row());
        }
        let mut stmt = self.conn.prepare(
            "SELECT v.local_date, v.salesperson, c.region
             FROM visits v LEFT JOIN customers c ON c.doc_id = v.customer_id
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
            facts.visits.extend(row?.into_row());
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
        let mut stmt = self.conn.prepare(
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
        facts.flags = merge_flags(rows.collect::<Result<Vec<_>, _>>()?).0;
        Ok(facts)
    }
}

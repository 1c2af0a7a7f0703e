//! Rollups and reports (日报/周报/月报): the same code on the server and on a manager's laptop,
//! so a report made offline from the documents in one's scope matches the server's figures for
//! the same data exactly.
//!
//! The input is plain rows ([`Facts`]) and the territory tree ([`TerritoryTree`]); the output a
//! [`Rollup`] for one node and one [`Period`], serialisable with serde (JSON, amounts as exact
//! decimal strings) and exportable as CSV ([`to_csv`]). Counting rules:
//! - a fact counts when its *recorded* region is in the node's subtree (records keep the region
//!   they were made in, so history stays true after a realignment) and its date is in the
//!   period; dates are local calendar dates, converted by the caller;
//! - voided records never count; a quotation counts once it left draft, an order once signed
//!   and not cancelled ([`crate::rules::facts::DealStatus::counts_as_made`]);
//! - amounts are summed exactly per currency and never converted;
//! - receivables are the balance open now, not limited to the period;
//! - a flag counts in the period its situation arose (the time of the latest record it
//!   involves: the order, visit or customer that raised it; older flags: when detected), once
//!   per kind however many regions it names, and once under each of its regions inside the
//!   subtree.

mod csv;
mod period;
pub mod raw;
mod rollup;
mod territory;

pub use csv::{CSV_HEADER, CsvRow, csv_rows, to_csv};
pub use period::{DateRange, Period};
pub use rollup::{
    CollectionRow, CustomerRow, DealRow, Facts, FlagCount, FlagRow, PersonLine, RankRow,
    ReceivableRow, Rollup, Tally, VisitRow, rollup,
};
pub use territory::{TerritoryNode, TerritoryTree, TreeError};

#[cfg(test)]
mod tests;

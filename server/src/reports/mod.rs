//! Rollups and reports on the server: the projection tables turned into [`shared::report::Facts`],
//! the territory tree from the `territories` and `users` tables, and the XLSX export.
//!
//! The counting itself is [`shared::report::rollup`], the same code a manager's laptop runs, so
//! the two agree on the same data. What is decided here, and mirrored exactly in the laptop's
//! `client/src/store/reports.rs` (change both together):
//! - **region**: the document's territory as the server keeps it (`documents.territory`); for
//!   visits, quotations and orders that is their customer's territory, moved with it;
//! - **dates**: a visit counts on its own local date (projected in the visit's time zone);
//!   customers and deals carry only a UTC instant (`created_at`), so they count on the date it
//!   falls on in [`REPORT_TIME_ZONE`], the company's reporting zone — a per-user zone would
//!   make two people's reports of the same node disagree;
//! - **voided** customers and visits are left out here (their rows carry no `voided` flag);
//!   voided deals are passed on marked, and the rollup skips them;
//! - **collections and receivables** are empty: no payment or receivable records exist yet.
//!   An order marked `paid` is deliberately *not* counted as collected, because it carries no
//!   payment date or amount received, and counting its total on its signing date would misdate
//!   回款;
//! - **flags** come from the `flags` projection, one row per situation (the flag's `key`,
//!   one document per finding; older servers' per-region copies are merged by key), dated by
//!   `occurred_at` — when the record that raised it was made — else `detected_at`, so a
//!   situation counts once per kind, once under each of its regions, in the period of the
//!   order or visit behind it. Voided flags are left out; resolved ones count.
//!
//! Rows that cannot be read (a malformed date, amount, currency or status, which our own
//! projection never writes) are skipped and logged rather than failing the whole report.

mod facts;
mod xlsx;

pub use facts::{facts, tree};
pub use xlsx::to_xlsx;

pub use shared::report::raw::REPORT_TIME_ZONE;

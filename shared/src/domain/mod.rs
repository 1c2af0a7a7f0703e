//! The business records the product keeps, one Automerge document each.
//!
//! Every struct here maps to a document through autosurgeon; field names are the document's keys
//! and the dotted paths in validation errors and conflict lists. Collections that people edit
//! concurrently (contacts, lines, stock seen, authorised regions) are maps keyed by id, never bare
//! lists: concurrent inserts into a list by index would interleave unpredictably.

mod customer;
mod deal;
mod dealer;
mod flag;
mod product;
mod visit;

pub use customer::*;
pub use deal::*;
pub use dealer::*;
pub use flag::*;
pub use product::*;
pub use visit::*;

use autosurgeon::{Hydrate, Reconcile};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Why and when a record was voided. Records are never destroyed: a voided record keeps all its
/// data and history and is only hidden from default lists.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Voided {
    /// The reason given by the person who voided it.
    pub reason: String,
    /// When it was voided.
    #[autosurgeon(with = "crate::codec::instant")]
    pub at: DateTime<Utc>,
    /// Who voided it (user name).
    pub by: String,
}

/// Position of an item within an ordered map (lines, stock seen). Gaps of [`POSITION_STEP`]
/// leave room to insert between two items without renumbering the others.
pub type Position = i64;

/// The gap between consecutive positions when appending.
pub const POSITION_STEP: Position = 1024;

/// The position after the largest existing one.
pub fn next_position(existing: impl Iterator<Item = Position>) -> Position {
    existing
        .max()
        .map_or(POSITION_STEP, |max| max + POSITION_STEP)
}

/// A fresh key for an item in a keyed map (line, contact, stock check).
pub fn new_item_key() -> String {
    crate::RecordId::new().to_string()
}

//! Record identifiers and kinds.

use std::fmt;
use std::str::FromStr;

use autosurgeon::{Hydrate, HydrateError, Reconcile, Reconciler};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::validate::{Problem, Validation};

/// The id of one business record, and so of its Automerge document: a UUIDv7, so that ids sort
/// by creation time and two laptops offline can never mint the same one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RecordId(Uuid);

impl RecordId {
    /// A fresh, time-ordered id.
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }

    /// The id as a UUID.
    pub fn as_uuid(&self) -> &Uuid {
        &self.0
    }

    /// Parses an id as a command's input, naming `field` when it is malformed.
    pub fn parse_field(field: &str, text: &str) -> Result<Self, Validation> {
        text.trim()
            .parse()
            .map_err(|_| Validation::one(field, Problem::BadId(text.to_string())))
    }
}

impl Default for RecordId {
    fn default() -> Self {
        Self::new()
    }
}

impl From<Uuid> for RecordId {
    fn from(value: Uuid) -> Self {
        Self(value)
    }
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl FromStr for RecordId {
    type Err = uuid::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self)
    }
}

// Ids are stored as their hyphenated text so that the server and people reading a document dump
// see the same string as the CLI prints.
impl Reconcile for RecordId {
    type Key<'a> = autosurgeon::reconcile::NoKey;

    fn reconcile<R: Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
        reconciler.str(self.to_string())
    }
}

impl Hydrate for RecordId {
    fn hydrate_string(s: &'_ str) -> Result<Self, HydrateError> {
        s.parse()
            .map_err(|_| HydrateError::unexpected("a record id", s.to_string()))
    }
}

/// The kinds of business record; each record is its own Automerge document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// A customer file (客户档案).
    Customer,
    /// A dealer (经销商) with its authorised regions.
    Dealer,
    /// A product with its list price.
    Product,
    /// A visit report (拜访).
    Visit,
    /// A quotation (报价).
    Quotation,
    /// An order or contract (订单/合同).
    Order,
    /// A business-conflict flag raised by the server's rules (窜货, 撞单, authority, credit).
    Flag,
}

impl RecordKind {
    /// Every kind, in a stable order.
    pub const ALL: [RecordKind; 7] = [
        RecordKind::Customer,
        RecordKind::Dealer,
        RecordKind::Product,
        RecordKind::Visit,
        RecordKind::Quotation,
        RecordKind::Order,
        RecordKind::Flag,
    ];

    /// The kind's name as stored in documents and tables.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Customer => "customer",
            RecordKind::Dealer => "dealer",
            RecordKind::Product => "product",
            RecordKind::Visit => "visit",
            RecordKind::Quotation => "quotation",
            RecordKind::Order => "order",
            RecordKind::Flag => "flag",
        }
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RecordKind {
    type Err = Problem;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RecordKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or_else(|| Problem::NotOneOf {
                value: s.to_string(),
                allowed: RecordKind::ALL.map(RecordKind::as_str).join(", "),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_sort_by_time() {
        let a = RecordId::new();
        let b = RecordId::new();
        assert!(a < b);
        assert_eq!(a.to_string().parse::<RecordId>().unwrap(), a);
        assert!(RecordId::parse_field("customer", "not-an-id").is_err());
    }

    #[test]
    fn kinds_round_trip() {
        for kind in RecordKind::ALL {
            assert_eq!(kind.as_str().parse::<RecordKind>().unwrap(), kind);
        }
        assert!("invoice".parse::<RecordKind>().is_err());
    }
}

//! Dealers (经销商/代理商) and the regions they may sell into.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::Voided;
use crate::validate::Validation;

/// One region a dealer is authorised to sell into.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Authorisation {
    /// First day of the authorisation, if known.
    #[autosurgeon(with = "crate::codec::opt_date")]
    pub since: Option<NaiveDate>,
}

/// A dealer.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Dealer {
    /// Full registered name.
    pub name: String,
    /// Home region (territory code); decides who manages the dealer.
    pub region: Option<String>,
    /// Regions the dealer may sell into, keyed by territory code. A map, not a list, so that two
    /// managers granting regions offline both keep theirs.
    pub authorised_regions: BTreeMap<String, Authorisation>,
    /// Address.
    pub address: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Unified social credit code.
    pub tax_id: Option<String>,
    /// When the record was created.
    #[autosurgeon(with = "crate::codec::instant")]
    pub created_at: DateTime<Utc>,
    /// Set when the record is voided.
    pub voided: Option<Voided>,
}

impl Dealer {
    /// A new dealer with only a name.
    pub fn new(name: impl Into<String>, now: DateTime<Utc>) -> Self {
        Self {
            name: name.into(),
            region: None,
            authorised_regions: BTreeMap::new(),
            address: None,
            phone: None,
            tax_id: None,
            created_at: now,
            voided: None,
        }
    }

    /// Whether the dealer may sell into `region`.
    pub fn is_authorised_for(&self, region: &str) -> bool {
        self.authorised_regions.contains_key(region)
    }

    /// Checks the rules every dealer must satisfy.
    pub fn validate(&self) -> Result<(), Validation> {
        let mut v = Validation::default();
        v.require("name", &self.name);
        v.max_len("name", &self.name, 200);
        for code in self.authorised_regions.keys() {
            v.require("authorised_regions", code);
        }
        v.finish()
    }
}

//! Products and their list prices: together, the price list.

use autosurgeon::{Hydrate, Reconcile};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::Voided;
use crate::money::Currency;
use crate::validate::{Problem, Validation};

/// A product the company sells, with its list price. The set of products is the price list a
/// quotation starts from; the price policy is a trade secret and never leaves the company's
/// territory tree.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Product {
    /// Product code (e.g. `BEER-500ML`); unique, used on quotation lines.
    pub code: String,
    /// Name.
    pub name: String,
    /// Specification (规格).
    pub spec: Option<String>,
    /// Unit of sale (箱, 吨, piece).
    pub unit: String,
    /// List price per unit, before any discount.
    #[autosurgeon(with = "crate::codec::decimal")]
    pub list_price: Decimal,
    /// Currency of the list price.
    pub currency: Currency,
    /// When the record was created.
    #[autosurgeon(with = "crate::codec::instant")]
    pub created_at: DateTime<Utc>,
    /// Set when the record is voided.
    pub voided: Option<Voided>,
}

impl Product {
    /// Checks the rules every product must satisfy.
    pub fn validate(&self) -> Result<(), Validation> {
        let mut v = Validation::default();
        v.require("code", &self.code);
        v.max_len("code", &self.code, 64);
        if self.code.chars().any(char::is_whitespace) {
            v.push(
                "code",
                Problem::Inconsistent("must not contain spaces".into()),
            );
        }
        v.require("name", &self.name);
        v.require("unit", &self.unit);
        if self.list_price.is_sign_negative() && !self.list_price.is_zero() {
            v.push("list_price", Problem::Negative(self.list_price.to_string()));
        }
        v.finish()
    }
}

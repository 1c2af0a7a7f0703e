//! Visit reports (拜访记录).

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{Position, Voided};
use crate::RecordId;
use crate::validate::{Problem, Validation};

/// Goods seen in stock at the customer or dealer (库存), with their batch or serial code so
/// that goods found outside the region they were shipped to can be traced (窜货).
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct StockSeen {
    /// Product code.
    pub product: String,
    /// Batch or serial code printed on the goods.
    pub code: Option<String>,
    /// Quantity seen.
    #[autosurgeon(with = "crate::codec::decimal")]
    pub quantity: Decimal,
    /// Order among the stock lines.
    pub position: Position,
}

/// A visit to a customer or dealer.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Visit {
    /// The customer visited.
    pub customer_id: RecordId,
    /// The dealer visited or present, if any.
    pub dealer_id: Option<RecordId>,
    /// The salesperson who made the visit (user name).
    pub salesperson: String,
    /// When the visit was planned.
    #[autosurgeon(with = "crate::codec::opt_instant")]
    pub planned_at: Option<DateTime<Utc>>,
    /// When it actually took place.
    #[autosurgeon(with = "crate::codec::opt_instant")]
    pub actual_at: Option<DateTime<Utc>>,
    /// The time zone the visit took place in: "a visit on Tuesday" means Tuesday there.
    #[autosurgeon(with = "crate::codec::time_zone")]
    pub time_zone: Tz,
    /// Place.
    pub place: Option<String>,
    /// Purpose (目的).
    pub purpose: Option<String>,
    /// People met.
    pub people_met: Option<String>,
    /// Outcome (结果).
    pub outcome: Option<String>,
    /// Customer feedback on quality.
    pub feedback_quality: Option<String>,
    /// Customer feedback on price.
    pub feedback_price: Option<String>,
    /// Competitor news (竞品信息).
    pub competitor_news: Option<String>,
    /// Stock seen, keyed by stock line id.
    pub stock_seen: BTreeMap<String, StockSeen>,
    /// Next step.
    pub next_step: Option<String>,
    /// Follow-up date (local to `time_zone`).
    #[autosurgeon(with = "crate::codec::opt_date")]
    pub follow_up: Option<NaiveDate>,
    /// When the record was created.
    #[autosurgeon(with = "crate::codec::instant")]
    pub created_at: DateTime<Utc>,
    /// Set when the record is voided.
    pub voided: Option<Voided>,
}

impl Visit {
    /// A new visit report for a customer.
    pub fn new(customer_id: RecordId, salesperson: String, tz: Tz, now: DateTime<Utc>) -> Self {
        Self {
            customer_id,
            dealer_id: None,
            salesperson,
            planned_at: None,
            actual_at: None,
            time_zone: tz,
            place: None,
            purpose: None,
            people_met: None,
            outcome: None,
            feedback_quality: None,
            feedback_price: None,
            competitor_news: None,
            stock_seen: BTreeMap::new(),
            next_step: None,
            follow_up: None,
            created_at: now,
            voided: None,
        }
    }

    /// The stock lines in position order.
    pub fn stock_in_order(&self) -> Vec<(&String, &StockSeen)> {
        let mut items: Vec<_> = self.stock_seen.iter().collect();
        items.sort_by_key(|(key, item)| (item.position, *key));
        items
    }

    /// The local date of the visit (actual, else planned) in its own time zone.
    pub fn local_date(&self) -> Option<NaiveDate> {
        self.actual_at
            .or(self.planned_at)
            .map(|at| at.with_timezone(&self.time_zone).date_naive())
    }

    /// Checks the rules every visit must satisfy.
    pub fn validate(&self) -> Result<(), Validation> {
        let mut v = Validation::default();
        v.require("salesperson", &self.salesperson);
        for (key, stock) in &self.stock_seen {
            v.require(&format!("stock_seen.{key}.product"), &stock.product);
            if stock.quantity.is_sign_negative() && !stock.quantity.is_zero() {
                v.push(
                    format!("stock_seen.{key}.quantity"),
                    Problem::Negative(stock.quantity.to_string()),
                );
            }
        }
        v.finish()
    }
}

//! Quotations (报价) and orders (订单/合同): documents made of priced lines.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{Position, Voided};
use crate::RecordId;
use crate::money::{self, Currency};
use crate::validate::{Problem, Validation};
use crate::word_enum;

/// One priced line of a quotation or order.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Line {
    /// Product code.
    pub product: String,
    /// Description shown to the customer.
    pub description: Option<String>,
    /// Quantity, greater than zero.
    #[autosurgeon(with = "crate::codec::decimal")]
    pub quantity: Decimal,
    /// Unit price before discount.
    #[autosurgeon(with = "crate::codec::decimal")]
    pub unit_price: Decimal,
    /// Discount in percent, 0 to 100.
    #[autosurgeon(with = "crate::codec::decimal")]
    pub discount_pct: Decimal,
    /// Order among the lines.
    pub position: Position,
    /// Batch or serial code of the goods shipped on this line (orders; a quotation's line has
    /// none until goods ship). The 窜货 stock rule traces goods seen on visits back to the
    /// region their batch was shipped to through this. Absent in lines written before batches
    /// existed, which hydrate it as `None` (autosurgeon treats a missing key as an error
    /// unless told otherwise).
    #[autosurgeon(missing = "Option::default")]
    #[serde(default)]
    pub batch: Option<String>,
}

impl Line {
    /// The line's amount by the rounding rule in [`crate::money`].
    pub fn amount(&self, currency: Currency) -> Decimal {
        money::line_amount(self.quantity, self.unit_price, self.discount_pct, currency)
    }

    fn validate_into(&self, key: &str, v: &mut Validation) {
        let field = |name: &str| format!("lines.{key}.{name}");
        v.require(&field("product"), &self.product);
        if self.quantity <= Decimal::ZERO {
            v.push(
                field("quantity"),
                Problem::NotPositive(self.quantity.to_string()),
            );
        }
        if self.unit_price.is_sign_negative() && !self.unit_price.is_zero() {
            v.push(
                field("unit_price"),
                Problem::Negative(self.unit_price.to_string()),
            );
        }
        if let Err(mut e) = money::check_percent(&field("discount_pct"), self.discount_pct) {
            v.errors.append(&mut e.errors);
        }
    }
}

/// Lines in position order (ties broken by key, so every replica agrees).
pub fn lines_in_order(lines: &BTreeMap<String, Line>) -> Vec<(&String, &Line)> {
    let mut items: Vec<_> = lines.iter().collect();
    items.sort_by_key(|(key, line)| (line.position, *key));
    items
}

/// The total of a set of lines: the sum of the rounded line amounts.
pub fn lines_total(lines: &BTreeMap<String, Line>, currency: Currency) -> Decimal {
    lines.values().map(|line| line.amount(currency)).sum()
}

/// The largest discount on any line, in percent.
pub fn max_discount(lines: &BTreeMap<String, Line>) -> Decimal {
    lines
        .values()
        .map(|line| line.discount_pct)
        .max()
        .unwrap_or(Decimal::ZERO)
}

fn validate_lines(lines: &BTreeMap<String, Line>, v: &mut Validation) {
    for (key, line) in lines {
        line.validate_into(key, v);
    }
}

word_enum! {
    /// Where a quotation stands.
    pub enum QuoteStatus {
        /// Being written.
        Draft = ("draft", "Draft", "草稿"),
        /// Waiting for a manager's approval.
        Submitted = ("submitted", "Awaiting approval", "待审批"),
        /// Approved by a manager with the authority.
        Approved = ("approved", "Approved", "已批准"),
        /// Refused by a manager.
        Rejected = ("rejected", "Rejected", "已驳回"),
        /// Sent to the customer.
        Sent = ("sent", "Sent", "已发送"),
        /// Accepted by the customer.
        Accepted = ("accepted", "Accepted", "已接受"),
        /// Lost or expired.
        Lost = ("lost", "Lost", "已失效"),
    }
}

word_enum! {
    /// A manager's decision on a quotation or an order.
    pub enum Decision {
        /// Approved.
        Approved = ("approved", "Approved", "批准"),
        /// Rejected.
        Rejected = ("rejected", "Rejected", "驳回"),
    }
}

/// A manager's decision on a quotation or an order beyond its author's authority, tied to
/// exactly the content decided on by its fingerprint: an approved deal edited afterwards needs
/// approval again. Recorded on the manager's laptop, offline too
/// ([`crate::rules::approval::decide`]); the server verifies the approver's authority and
/// scope when the decision arrives, by the same rule ([`crate::rules::approval::may_decide`]).
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Approval {
    /// Approved or rejected.
    pub decision: Decision,
    /// Who decided (user name); must be the person pushing the decision.
    pub by: String,
    /// When.
    #[autosurgeon(with = "crate::codec::instant")]
    pub at: DateTime<Utc>,
    /// [`crate::rules::fingerprint::Fingerprint`] text of the content decided on.
    pub fingerprint: String,
    /// The approver's note.
    pub note: Option<String>,
}

/// A quotation.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Quotation {
    /// Human-facing number, e.g. `Q-20261129-3F2A`.
    pub number: String,
    /// The customer quoted.
    pub customer_id: RecordId,
    /// The salesperson who wrote it (user name).
    pub salesperson: String,
    /// Currency of every price on it.
    pub currency: Currency,
    /// Lines, keyed by line id.
    pub lines: BTreeMap<String, Line>,
    /// Last day the prices hold.
    #[autosurgeon(with = "crate::codec::opt_date")]
    pub valid_until: Option<NaiveDate>,
    /// Delivery terms.
    pub delivery_terms: Option<String>,
    /// Payment terms.
    pub payment_terms: Option<String>,
    /// Status.
    pub status: QuoteStatus,
    /// Free notes.
    pub notes: Option<String>,
    /// When the record was created.
    #[autosurgeon(with = "crate::codec::instant")]
    pub created_at: DateTime<Utc>,
    /// Set when the record is voided.
    pub voided: Option<Voided>,
    /// A manager's decision, when one was asked for. Absent in documents made before approvals
    /// existed, which hydrate it as `None` (autosurgeon treats a missing key as an error unless
    /// told otherwise).
    #[autosurgeon(missing = "Option::default")]
    pub approval: Option<Approval>,
}

impl Quotation {
    /// The quotation's total.
    pub fn total(&self) -> Decimal {
        lines_total(&self.lines, self.currency)
    }

    /// Checks the rules every quotation must satisfy.
    pub fn validate(&self) -> Result<(), Validation> {
        let mut v = Validation::default();
        v.require("number", &self.number);
        v.require("salesperson", &self.salesperson);
        validate_lines(&self.lines, &mut v);
        v.finish()
    }
}

word_enum! {
    /// Where an order stands.
    pub enum OrderStatus {
        /// Being written.
        Draft = ("draft", "Draft", "草稿"),
        /// Signed and confirmed.
        Confirmed = ("confirmed", "Confirmed", "已确认"),
        /// Goods delivered.
        Delivered = ("delivered", "Delivered", "已发货"),
        /// Invoiced.
        Invoiced = ("invoiced", "Invoiced", "已开票"),
        /// Paid in full.
        Paid = ("paid", "Paid", "已回款"),
        /// Cancelled in writing (the record is kept).
        Cancelled = ("cancelled", "Cancelled", "已取消"),
    }
}

/// A credit hold (信用冻结) on an order that took its customer past the credit limit. Only the
/// server places one (with its own actor); a person with the authority releases it by filling
/// in `released_by`, `released_at` and `note`, on their laptop and offline too. The server
/// verifies the release when it arrives, and refuses any other edit of the hold. A released
/// hold stays on the order as the record of who let it through.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct CreditHold {
    /// Why it was held (the credit finding's message).
    pub reason: String,
    /// When the server placed the hold.
    #[autosurgeon(with = "crate::codec::instant")]
    pub placed_at: DateTime<Utc>,
    /// Who released it (user name); must be the person pushing the release.
    pub released_by: Option<String>,
    /// When it was released.
    #[autosurgeon(with = "crate::codec::opt_instant")]
    pub released_at: Option<DateTime<Utc>>,
    /// The releaser's note.
    pub note: Option<String>,
}

impl CreditHold {
    /// Whether the hold still stops the order (placed and not released).
    pub fn is_active(&self) -> bool {
        self.released_by.is_none()
    }
}

/// An order (contract).
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Order {
    /// Contract number, e.g. `O-20261129-7C1D`.
    pub number: String,
    /// The quotation it came from, if any.
    pub quotation_id: Option<RecordId>,
    /// The customer.
    pub customer_id: RecordId,
    /// The salesperson responsible (user name).
    pub salesperson: String,
    /// The dealer that supplies the goods, if not the company itself.
    pub dealer_id: Option<RecordId>,
    /// Currency of every price on it.
    pub currency: Currency,
    /// Lines, keyed by line id.
    pub lines: BTreeMap<String, Line>,
    /// Delivery deadline.
    #[autosurgeon(with = "crate::codec::opt_date")]
    pub delivery_deadline: Option<NaiveDate>,
    /// Delivery place; the region delivered into is what the 窜货 rule checks.
    pub delivery_place: Option<String>,
    /// Region (territory code) the goods are delivered into.
    pub delivery_region: Option<String>,
    /// Shipping method and who pays freight.
    pub shipping: Option<String>,
    /// Payment terms.
    pub payment_terms: Option<String>,
    /// Payment deadline.
    #[autosurgeon(with = "crate::codec::opt_date")]
    pub payment_due: Option<NaiveDate>,
    /// Status.
    pub status: OrderStatus,
    /// When the record was created.
    #[autosurgeon(with = "crate::codec::instant")]
    pub created_at: DateTime<Utc>,
    /// Set when the record is voided.
    pub voided: Option<Voided>,
    /// The server's credit hold, when the order took its customer past the credit limit. Absent
    /// in documents made before holds existed, which hydrate it as `None` (autosurgeon treats a
    /// missing key as an error unless told otherwise).
    #[autosurgeon(missing = "Option::default")]
    #[serde(default)]
    pub credit_hold: Option<CreditHold>,
    /// A manager's decision on the order itself (an order made without a quotation, or changed
    /// after its quotation was approved). An order made from an approved quotation is covered
    /// by that quotation's approval while its priced content is unchanged. Absent in documents
    /// made before order approvals existed, which hydrate it as `None`.
    #[autosurgeon(missing = "Option::default")]
    #[serde(default)]
    pub approval: Option<Approval>,
}

impl Order {
    /// Whether a credit hold stops the order (placed and not released).
    pub fn is_held(&self) -> bool {
        self.credit_hold.as_ref().is_some_and(CreditHold::is_active)
    }

    /// An order copying a quotation's customer, currency, lines and terms.
    pub fn from_quotation(
        quotation_id: RecordId,
        quotation: &Quotation,
        number: String,
        salesperson: String,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            number,
            quotation_id: Some(quotation_id),
            customer_id: quotation.customer_id,
            salesperson,
            dealer_id: None,
            currency: quotation.currency,
            lines: quotation.lines.clone(),
            delivery_deadline: None,
            delivery_place: None,
            delivery_region: None,
            shipping: None,
            payment_terms: quotation.payment_terms.clone(),
            payment_due: None,
            status: OrderStatus::Draft,
            created_at: now,
            voided: None,
            credit_hold: None,
            approval: None,
        }
    }

    /// The order's total.
    pub fn total(&self) -> Decimal {
        lines_total(&self.lines, self.currency)
    }

    /// Checks the rules every order must satisfy.
    pub fn validate(&self) -> Result<(), Validation> {
        let mut v = Validation::default();
        v.require("number", &self.number);
        v.require("salesperson", &self.salesperson);
        validate_lines(&self.lines, &mut v);
        v.finish()
    }
}

fn priced_lines(lines: &BTreeMap<String, Line>) -> Vec<crate::rules::facts::PricedLine> {
    lines_in_order(lines)
        .into_iter()
        .map(|(_, l)| crate::rules::facts::PricedLine {
            product: l.product.clone(),
            quantity: l.quantity,
            unit_price: l.unit_price,
            discount_pct: l.discount_pct,
            // The price list is not part of the record; the side judging authority fills it.
            list_price: None,
        })
        .collect()
}

impl Quotation {
    /// The quotation as the rules see it; `region` is its territory (the customer's region).
    pub fn facts(&self, id: RecordId, region: Option<String>) -> crate::rules::facts::DealFacts {
        crate::rules::facts::DealFacts {
            id,
            customer_id: self.customer_id,
            salesperson: self.salesperson.clone(),
            region,
            status: crate::rules::facts::DealStatus::Quote(self.status),
            voided: self.voided.is_some(),
            currency: self.currency,
            lines: priced_lines(&self.lines),
        }
    }
}

impl Order {
    /// The order as the rules see it; `region` is its territory (the customer's region).
    pub fn facts(&self, id: RecordId, region: Option<String>) -> crate::rules::facts::DealFacts {
        crate::rules::facts::DealFacts {
            id,
            customer_id: self.customer_id,
            salesperson: self.salesperson.clone(),
            region,
            status: crate::rules::facts::DealStatus::Order(self.status),
            voided: self.voided.is_some(),
            currency: self.currency,
            lines: priced_lines(&self.lines),
        }
    }
}

#[cfg(test)]
mod tests {
    use automerge::transaction::Transactable;
    use automerge::{ROOT, ReadDoc};

    use super::*;
    use crate::doc::{self, CommitMeta};

    /// Instants are stored to the second, so the tests use whole seconds.
    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    fn order() -> Order {
        Order {
            number: "O-1".into(),
            quotation_id: None,
            customer_id: RecordId::new(),
            salesperson: "zhang.wei".into(),
            dealer_id: None,
            currency: Currency::CNY,
            lines: BTreeMap::new(),
            delivery_deadline: None,
            delivery_place: None,
            delivery_region: None,
            shipping: None,
            payment_terms: None,
            payment_due: None,
            status: OrderStatus::Confirmed,
            created_at: at(0),
            voided: None,
            credit_hold: None,
            approval: None,
        }
    }

    #[test]
    fn orders_written_before_credit_holds_existed_still_read() {
        let actor = automerge::ActorId::from(vec![1u8; 16]);
        let meta = CommitMeta::now("new".to_string());
        let mut d = doc::create(&actor, RecordId::new(), &order(), &meta).unwrap();
        // An old document simply has no `credit_hold` key.
        d.delete(ROOT, "credit_hold").unwrap();
        d.commit();
        let back: Order = doc::read_as(&d).unwrap();
        assert_eq!(back.credit_hold, None);
        assert!(!back.is_held());
    }

    #[test]
    fn lines_written_before_batches_existed_still_read() {
        let actor = automerge::ActorId::from(vec![3u8; 16]);
        let mut o = order();
        o.lines.insert(
            "l1".into(),
            Line {
                product: "P-1".into(),
                description: None,
                quantity: Decimal::ONE,
                unit_price: Decimal::TEN,
                discount_pct: Decimal::ZERO,
                position: 1024,
                batch: Some("B1".into()),
            },
        );
        let meta = CommitMeta::now("new".to_string());
        let mut d = doc::create(&actor, RecordId::new(), &o, &meta).unwrap();
        assert_eq!(doc::read_as::<Order>(&d).unwrap(), o);
        // An old line simply has no `batch` key.
        let (_, lines) = d.get(ROOT, "lines").unwrap().unwrap();
        let (_, line) = d.get(&lines, "l1").unwrap().unwrap();
        d.delete(&line, "batch").unwrap();
        d.commit();
        let back: Order = doc::read_as(&d).unwrap();
        assert_eq!(back.lines["l1"].batch, None);
        assert_eq!(back.lines["l1"].product, "P-1");
    }

    #[test]
    fn a_hold_round_trips_and_a_release_ends_it() {
        let actor = automerge::ActorId::from(vec![2u8; 16]);
        let mut o = order();
        o.credit_hold = Some(CreditHold {
            reason: "past the limit".into(),
            placed_at: at(1),
            released_by: None,
            released_at: None,
            note: None,
        });
        let meta = CommitMeta::now("held".to_string());
        let mut d = doc::create(&actor, RecordId::new(), &o, &meta).unwrap();
        let back: Order = doc::read_as(&d).unwrap();
        assert_eq!(back, o);
        assert!(back.is_held());
        if let Some(hold) = o.credit_hold.as_mut() {
            hold.released_by = Some("east.boss".into());
            hold.released_at = Some(at(2));
            hold.note = Some("paid a deposit".into());
        }
        doc::update(&mut d, &o, &CommitMeta::now("release".to_string())).unwrap();
        let back: Order = doc::read_as(&d).unwrap();
        assert_eq!(back, o);
        assert!(!back.is_held());
    }
}

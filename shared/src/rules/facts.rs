//! Facts shared by several rules and by the reports: plain rows, cheap to build from the
//! projection tables on either side.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::RecordId;
use crate::domain::{OrderStatus, QuoteStatus};
use crate::money::{self, Currency};

/// Whether a deal is a quotation or an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DealKind {
    /// A quotation (报价).
    Quotation,
    /// An order or contract (订单/合同).
    Order,
}

/// A deal's status, keeping the domain's own words so nothing is lost in translation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "status", rename_all = "snake_case")]
pub enum DealStatus {
    /// A quotation's status.
    Quote(QuoteStatus),
    /// An order's status.
    Order(OrderStatus),
}

impl DealStatus {
    /// Whether the deal is still being worked: the customer is someone's live business.
    /// Rejected or lost quotations and paid or cancelled orders are closed; an invoiced but
    /// unpaid order is still open, because money is still being chased.
    pub fn is_open(self) -> bool {
        match self {
            DealStatus::Quote(s) => !matches!(s, QuoteStatus::Rejected | QuoteStatus::Lost),
            DealStatus::Order(s) => !matches!(s, OrderStatus::Paid | OrderStatus::Cancelled),
        }
    }

    /// Whether the deal counts in sales reports: a quotation once it has left draft (a quote
    /// made counts even if later lost), an order once signed and not cancelled.
    pub fn counts_as_made(self) -> bool {
        match self {
            DealStatus::Quote(s) => s != QuoteStatus::Draft,
            DealStatus::Order(s) => !matches!(s, OrderStatus::Draft | OrderStatus::Cancelled),
        }
    }

    /// The kind of deal this status belongs to.
    pub fn kind(self) -> DealKind {
        match self {
            DealStatus::Quote(_) => DealKind::Quotation,
            DealStatus::Order(_) => DealKind::Order,
        }
    }
}

/// One priced line, as on a quotation or order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricedLine {
    /// Product code.
    pub product: String,
    /// Quantity.
    pub quantity: Decimal,
    /// Unit price before discount.
    pub unit_price: Decimal,
    /// Discount in percent.
    pub discount_pct: Decimal,
    /// The product's list price in the deal's currency, when the price list is known (each side
    /// fills it from its price list); a unit price below it is a discount too.
    #[serde(default)]
    pub list_price: Option<Decimal>,
}

impl PricedLine {
    /// The discount the customer actually gets, in percent: the stated discount, or how far the
    /// net price (unit price less the stated discount) lies below the list price, whichever is
    /// larger, rounded to two places and at most 100. Without a list price it is the stated
    /// discount; an overflow (absurd prices) leaves the stated discount too.
    pub fn effective_discount_pct(&self) -> Decimal {
        let stated = self.discount_pct;
        let hundred = Decimal::ONE_HUNDRED;
        let Some(list) = self.list_price.filter(|l| *l > Decimal::ZERO) else {
            return stated;
        };
        let below = self
            .unit_price
            .checked_mul(hundred - stated)
            .and_then(|net| net.checked_div(list))
            .map(|net_pct| hundred - net_pct);
        below.map_or(stated, |b| b.round_dp(2).max(stated).min(hundred))
    }
}

/// A quotation or order as the rules see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DealFacts {
    /// The deal's record id.
    pub id: RecordId,
    /// Its customer.
    pub customer_id: RecordId,
    /// Its author / responsible salesperson (user name).
    pub salesperson: String,
    /// The region the deal belongs to (the customer's region when it was made); `None` when the
    /// customer has no territory.
    pub region: Option<String>,
    /// Status (which also says quotation or order).
    pub status: DealStatus,
    /// Whether the record is voided (voided records never count).
    pub voided: bool,
    /// Currency of every price.
    pub currency: Currency,
    /// Priced lines; may be left empty for rules that do not look at prices (contested
    /// customers).
    pub lines: Vec<PricedLine>,
}

impl DealFacts {
    /// The total by the one rounding rule of [`crate::money`]: the sum of rounded line amounts.
    pub fn total(&self) -> Decimal {
        self.lines
            .iter()
            .map(|l| money::line_amount(l.quantity, l.unit_price, l.discount_pct, self.currency))
            .sum()
    }

    /// The largest effective discount on any line, in percent (zero without lines): a price
    /// below the list price counts as a discount ([`PricedLine::effective_discount_pct`]).
    pub fn max_discount(&self) -> Decimal {
        self.lines
            .iter()
            .map(PricedLine::effective_discount_pct)
            .max()
            .unwrap_or(Decimal::ZERO)
    }

    /// Whether the deal is open and not voided.
    pub fn is_live(&self) -> bool {
        !self.voided && self.status.is_open()
    }
}

/// An amount in a currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Amount {
    /// The amount.
    pub amount: Decimal,
    /// Its currency.
    pub currency: Currency,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str_exact(s).unwrap()
    }

    #[test]
    fn total_uses_the_rounding_rule() {
        let deal = DealFacts {
            id: RecordId::new(),
            customer_id: RecordId::new(),
            salesperson: "zhang".into(),
            region: None,
            status: DealStatus::Quote(QuoteStatus::Draft),
            voided: false,
            currency: Currency::CNY,
            lines: vec![
                PricedLine {
                    product: "A".into(),
                    quantity: d("3"),
                    unit_price: d("19.99"),
                    discount_pct: d("7.5"),
                    list_price: None,
                },
                PricedLine {
                    product: "B".into(),
                    quantity: d("1"),
                    unit_price: d("0.125"),
                    discount_pct: d("0"),
                    list_price: None,
                },
            ],
        };
        assert_eq!(deal.total(), d("55.60"));
        assert_eq!(deal.max_discount(), d("7.5"));
    }

    #[test]
    fn a_price_below_the_list_price_is_a_discount() {
        let line = |price: &str, discount: &str, list: Option<&str>| PricedLine {
            product: "A".into(),
            quantity: d("1"),
            unit_price: d(price),
            discount_pct: d(discount),
            list_price: list.map(d),
        };
        // (unit price, stated discount, list price) → effective discount.
        let table = [
            ("100", "0", Some("100"), "0"),
            ("50", "0", Some("100"), "50"),
            ("90", "10", Some("100"), "19"),
            ("120", "10", Some("100"), "10"),
            ("100", "5", None, "5"),
            ("33.33", "0", Some("100"), "66.67"),
            ("0", "0", Some("100"), "100"),
            ("100", "0", Some("0"), "0"),
            ("79228162514264337593543950335", "0", Some("0.0000001"), "0"),
        ];
        for (price, discount, list, expected) in table {
            assert_eq!(
                line(price, discount, list).effective_discount_pct(),
                d(expected),
                "{price} at {discount}% against {list:?}"
            );
        }
        let mut deal = DealFacts {
            id: RecordId::new(),
            customer_id: RecordId::new(),
            salesperson: "zhang".into(),
            region: None,
            status: DealStatus::Quote(QuoteStatus::Draft),
            voided: false,
            currency: Currency::CNY,
            lines: vec![line("60", "0", Some("100")), line("100", "5", Some("100"))],
        };
        assert_eq!(deal.max_discount(), d("40"));
        deal.lines[0].list_price = None;
        assert_eq!(deal.max_discount(), d("5"));
    }

    #[test]
    fn open_and_counted_statuses() {
        let table = [
            (DealStatus::Quote(QuoteStatus::Draft), true, false),
            (DealStatus::Quote(QuoteStatus::Sent), true, true),
            (DealStatus::Quote(QuoteStatus::Lost), false, true),
            (DealStatus::Quote(QuoteStatus::Rejected), false, true),
            (DealStatus::Order(OrderStatus::Draft), true, false),
            (DealStatus::Order(OrderStatus::Invoiced), true, true),
            (DealStatus::Order(OrderStatus::Paid), false, true),
            (DealStatus::Order(OrderStatus::Cancelled), false, false),
        ];
        for (status, open, counts) in table {
            assert_eq!(status.is_open(), open, "{status:?} open");
            assert_eq!(status.counts_as_made(), counts, "{status:?} counts");
        }
    }
}

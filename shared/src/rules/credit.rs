//! Credit limit (授信额度): an order that takes the customer's exposure past its limit.
//!
//! **Exposure** = unpaid receivables + open (uninvoiced) orders + the new order, each order
//! counted once. [`CreditFacts::add_order`] is the one place that sorts an order by its status
//! (invoiced → receivable; paid or cancelled → nothing; else open), so the server and the
//! laptop cannot disagree. The new order is skipped wherever it also appears among the
//! customer's orders (open or invoiced), so both sides can pass their projection rows as they
//! are after saving it: an invoiced order counts once, as itself, not again as a receivable.
//!
//! **Decision — currencies**: amounts are compared in the limit's currency only; there are no
//! exchange rates in this pure layer. Open orders and receivables in other currencies are left
//! out of the sum but listed in the finding's detail (`unconverted`) for the person judging it.
//! A *new order* in another currency cannot be checked at all, so it always gives a
//! [`Severity::Warning`] finding saying so, rather than slipping past the limit unchecked.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::facts::Amount;
use super::{Detail, Finding, FindingKind, Message, Severity, make_key, tidy};
use crate::RecordId;
use crate::domain::OrderStatus;
use crate::money::{Currency, format_amount};

/// A customer's credit position as the rule sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditFacts {
    /// The customer's record id.
    pub customer_id: RecordId,
    /// Name, for messages.
    pub name: String,
    /// The customer's region.
    pub region: Option<String>,
    /// Credit limit; `None` means no limit is set, and then nothing is flagged.
    pub limit: Option<Decimal>,
    /// The limit's currency.
    pub currency: Currency,
    /// Open orders' uninvoiced totals, by order id.
    pub open_orders: Vec<(RecordId, Amount)>,
    /// Unpaid receivables (invoiced, not yet collected), by the order invoiced.
    pub receivables: Vec<(RecordId, Amount)>,
}

impl CreditFacts {
    /// Counts one of the customer's orders where its status puts it: an invoiced order is a
    /// receivable (there are no payment records yet, so wholly unpaid until marked paid); a
    /// paid or cancelled one owes nothing; any other is an open order.
    pub fn add_order(&mut self, id: RecordId, status: OrderStatus, amount: Amount) {
        match status {
            OrderStatus::Paid | OrderStatus::Cancelled => {}
            OrderStatus::Invoiced => self.receivables.push((id, amount)),
            OrderStatus::Draft | OrderStatus::Confirmed | OrderStatus::Delivered => {
                self.open_orders.push((id, amount));
            }
        }
    }
}

/// The order being checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewOrder {
    /// The order's record id.
    pub id: RecordId,
    /// Its salesperson.
    pub salesperson: String,
    /// Its total.
    pub total: Amount,
}

/// A finding when the new order takes the customer past its credit limit (strictly more than
/// the limit; reaching it exactly is allowed). Critical: the order should be held until someone
/// with authority releases it. Keyed by the order, so re-checks update one flag.
pub fn check_credit(customer: &CreditFacts, order: &NewOrder) -> Option<Finding> {
    let limit = customer.limit?;
    let cur = customer.currency;
    let mut exposure = Decimal::ZERO;
    let mut unconverted: BTreeMap<Currency, Decimal> = BTreeMap::new();
    // The new order is counted once, as itself, whether or not (and however) it is already
    // among the customer's orders.
    let others = customer
        .open_orders
        .iter()
        .chain(customer.receivables.iter())
        .filter(|(id, _)| *id != order.id)
        .map(|(_, amount)| amount)
        .chain(std::iter::once(&order.total));
    for amount in others {
        if amount.currency == cur {
            exposure += amount.amount;
        } else {
            *unconverted.entry(amount.currency).or_default() += amount.amount;
        }
    }
    let foreign_order = order.total.currency != cur;
    if exposure <= limit && !foreign_order {
        return None;
    }
    let limit_text = format!("{} {cur}", format_amount(limit, cur));
    let exposure_text = format!("{} {cur}", format_amount(exposure, cur));
    let (severity, en, zh) = if foreign_order {
        let oc = order.total.currency;
        (
            Severity::Warning,
            format!(
                "Credit of \"{}\" cannot be checked: the order is in {oc}, the limit of \
                 {limit_text} in {cur}.",
                customer.name
            ),
            format!(
                "无法校验“{}”的授信：订单币种为{oc}，授信额度{limit_text}币种为{cur}。",
                customer.name
            ),
        )
    } else {
        (
            Severity::Critical,
            format!(
                "Order takes \"{}\" past its credit limit: exposure {exposure_text}, limit \
                 {limit_text}.",
                customer.name
            ),
            format!(
                "该订单使“{}”超出授信额度：敞口{exposure_text}，额度{limit_text}。",
                customer.name
            ),
        )
    };
    Some(Finding {
        kind: FindingKind::CreditLimit,
        severity,
        key: make_key(FindingKind::CreditLimit, &[&order.id.to_string()]),
        records: vec![order.id, customer.customer_id],
        people: tidy([order.salesperson.as_str()]),
        regions: tidy(customer.region.iter()),
        message: Message { en, zh_cn: zh },
        detail: Detail::Credit {
            limit,
            exposure,
            currency: cur,
            unconverted: unconverted.into_iter().collect(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str_exact(s).unwrap()
    }

    fn amt(s: &str, cur: &str) -> Amount {
        Amount {
            amount: d(s),
            currency: cur.parse().unwrap(),
        }
    }

    fn id(n: u128) -> RecordId {
        RecordId::from(uuid::Uuid::from_u128(n))
    }

    fn customer(
        limit: Option<&str>,
        open: &[(u128, &str, &str)],
        recv: &[(u128, &str, &str)],
    ) -> CreditFacts {
        CreditFacts {
            customer_id: id(1),
            name: "上海华东食品有限公司".into(),
            region: Some("SH".into()),
            limit: limit.map(d),
            currency: Currency::CNY,
            open_orders: open.iter().map(|(n, a, c)| (id(*n), amt(a, c))).collect(),
            receivables: recv.iter().map(|(n, a, c)| (id(*n), amt(a, c))).collect(),
        }
    }

    fn order(total: &str, cur: &str) -> NewOrder {
        NewOrder {
            id: id(50),
            salesperson: "li".into(),
            total: amt(total, cur),
        }
    }

    #[test]
    fn credit_table() {
        // (customer, order, expected (severity, exposure))
        let cases = [
            (
                customer(None, &[], &[(101, "1000000", "CNY")]),
                order("1", "CNY"),
                None,
            ),
            (
                customer(
                    Some("100000"),
                    &[(2, "30000", "CNY")],
                    &[(103, "20000", "CNY")],
                ),
                order("50000", "CNY"),
                None,
            ),
            (
                customer(
                    Some("100000"),
                    &[(2, "30000", "CNY")],
                    &[(105, "20000", "CNY")],
                ),
                order("50000.01", "CNY"),
                Some((Severity::Critical, "100000.01")),
            ),
            // The new order already among the open orders is not counted twice.
            (
                customer(
                    Some("100000"),
                    &[(50, "60000", "CNY")],
                    &[(107, "40000", "CNY")],
                ),
                order("60000", "CNY"),
                None,
            ),
            // Foreign receivables are not counted, only listed.
            (
                customer(Some("100000"), &[], &[(109, "90000", "USD")]),
                order("100000", "CNY"),
                None,
            ),
            (
                customer(
                    Some("100000"),
                    &[],
                    &[(111, "90000", "USD"), (112, "1", "CNY")],
                ),
                order("100000", "CNY"),
                Some((Severity::Critical, "100001")),
            ),
            (
                customer(Some("100000"), &[], &[]),
                order("5", "USD"),
                Some((Severity::Warning, "0")),
            ),
            (
                customer(Some("0"), &[], &[]),
                order("0.01", "CNY"),
                Some((Severity::Critical, "0.01")),
            ),
        ];
        for (i, (c, o, expected)) in cases.iter().enumerate() {
            let found = check_credit(c, o);
            let got = found.as_ref().map(|f| match &f.detail {
                Detail::Credit { exposure, .. } => (f.severity, *exposure),
                other => panic!("{other:?}"),
            });
            assert_eq!(got, expected.map(|(s, e)| (s, d(e))), "case {i}: {found:?}");
        }
    }

    /// Exposure built through `add_order`, as both sides do from their projection rows, with
    /// the checked order (id 50, 50000.01) among them in every status: each order is counted
    /// once. Before, an invoiced order counted as a receivable and again as the new order.
    #[test]
    fn each_order_counted_once_whatever_its_status() {
        use OrderStatus::*;
        // (the checked order's status as stored, other orders (id, status, amount),
        //  expected exposure when over 100000, else None)
        type Others = &'static [(u128, OrderStatus, &'static str)];
        let cases: [(OrderStatus, Others, Option<&str>); 9] = [
            (Confirmed, &[], None),
            (Invoiced, &[], None),
            (Delivered, &[], None),
            (Draft, &[], None),
            // Another invoiced order is a receivable; another open one an open order.
            (Invoiced, &[(2, Invoiced, "49999.99")], None),
            (Invoiced, &[(2, Invoiced, "50000")], Some("100000.01")),
            (Confirmed, &[(2, Delivered, "50000")], Some("100000.01")),
            // Paid and cancelled orders owe nothing.
            (
                Invoiced,
                &[(2, Paid, "90000"), (3, Cancelled, "90000")],
                None,
            ),
            (
                Invoiced,
                &[(2, Invoiced, "30000"), (3, Confirmed, "20000")],
                Some("100000.01"),
            ),
        ];
        for (i, (status, others, expected)) in cases.iter().enumerate() {
            let mut c = customer(Some("100000"), &[], &[]);
            c.add_order(id(50), *status, amt("50000.01", "CNY"));
            for (n, s, a) in others.iter() {
                c.add_order(id(*n), *s, amt(a, "CNY"));
            }
            let found = check_credit(&c, &order("50000.01", "CNY"));
            let got = found.as_ref().map(|f| match &f.detail {
                Detail::Credit { exposure, .. } => *exposure,
                other => panic!("{other:?}"),
            });
            assert_eq!(got, expected.map(d), "case {i}: {found:?}");
        }
    }

    #[test]
    fn unconverted_amounts_are_reported() {
        let c = customer(
            Some("10"),
            &[(2, "7", "USD")],
            &[(116, "3", "USD"), (117, "5", "EUR")],
        );
        let f = check_credit(&c, &order("11", "CNY")).unwrap();
        let Detail::Credit { unconverted, .. } = &f.detail else {
            panic!("{f:?}")
        };
        assert_eq!(
            unconverted,
            &vec![
                ("EUR".parse().unwrap(), d("5")),
                ("USD".parse().unwrap(), d("10"))
            ]
        );
        assert_eq!(f.key, format!("credit_limit:{}", id(50)));
        assert_eq!(f.records, vec![id(50), id(1)]);
        assert!(f.message.zh_cn.contains("超出授信额度"));
    }
}

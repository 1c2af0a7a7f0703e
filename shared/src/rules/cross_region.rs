//! 窜货: a dealer's goods ending up outside the regions it is authorised to sell into, seen
//! either on an order's delivery or in the stock checked on a visit. Both the region the goods
//! went into and the dealer's (or batch's) own region are listed, so both managers see the flag.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::names::normalise_code;
use super::{Detail, Finding, FindingKind, Message, Severity, make_key, tidy};
use crate::RecordId;

/// A dealer as the rule sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DealerFacts {
    /// The dealer's record id.
    pub id: RecordId,
    /// Name, for messages.
    pub name: String,
    /// Home region (decides who manages the dealer).
    pub region: Option<String>,
    /// Regions it may sell into (`Dealer::authorised_regions`' keys).
    pub authorised_regions: BTreeSet<String>,
}

/// An order's delivery as the rule sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderDelivery {
    /// The order's record id.
    pub order_id: RecordId,
    /// Contract number, for messages.
    pub number: String,
    /// The customer.
    pub customer_id: RecordId,
    /// The salesperson responsible.
    pub salesperson: String,
    /// The customer's region.
    pub customer_region: Option<String>,
    /// The region the goods are delivered into, when the order says.
    pub delivery_region: Option<String>,
    /// The supplying dealer; `None` when the company supplies directly.
    pub dealer: Option<DealerFacts>,
}

/// Checks an order's delivery: a finding when the goods go into a region (the delivery region,
/// else the customer's region) the supplying dealer is not authorised for. A dealer with no
/// authorised regions at all is never authorised. No dealer means the company ships itself:
/// no finding. No region known at all (customer without territory, no delivery region): no
/// finding, since there is nothing to compare — the customer-without-territory problem is the
/// territory assignment's to report, not this rule's.
pub fn check_order_delivery(order: &OrderDelivery) -> Option<Finding> {
    let dealer = order.dealer.as_ref()?;
    let delivery = order
        .delivery_region
        .as_deref()
        .or(order.customer_region.as_deref())
        .map(str::trim)
        .filter(|r| !r.is_empty())?;
    if dealer.authorised_regions.contains(delivery) {
        return None;
    }
    let authorised: Vec<String> = dealer.authorised_regions.iter().cloned().collect();
    let home = dealer.region.clone();
    let home_text = home.as_deref().unwrap_or("?");
    let allowed_en = if authorised.is_empty() {
        "no region".to_string()
    } else {
        authorised.join(", ")
    };
    let allowed_zh = if authorised.is_empty() {
        "无授权区域".to_string()
    } else {
        authorised.join("、")
    };
    Some(Finding {
        kind: FindingKind::CrossRegionSale,
        severity: Severity::Critical,
        key: make_key(
            FindingKind::CrossRegionSale,
            &[
                "order",
                &order.order_id.to_string(),
                &dealer.id.to_string(),
                delivery,
            ],
        ),
        records: vec![order.order_id, dealer.id, order.customer_id],
        people: tidy([order.salesperson.as_str()]),
        regions: tidy(std::iter::once(delivery).chain(home.as_deref())),
        message: Message {
            en: format!(
                "Order {} is delivered into region {delivery} by dealer \"{}\" (home region \
                 {home_text}), which is authorised for {allowed_en}.",
                order.number, dealer.name
            ),
            zh_cn: format!(
                "订单{}由经销商“{}”（所属区域{home_text}）供货至区域{delivery}，该经销商仅授权于：\
                 {allowed_zh}。疑似窜货。",
                order.number, dealer.name
            ),
        },
        detail: Detail::CrossRegionOrder {
            delivery_region: delivery.to_string(),
            dealer_region: home,
            authorised,
        },
    })
}

/// One line of stock seen on a visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockLine {
    /// Product code.
    pub product: String,
    /// Batch or serial code as typed; lines without one cannot be traced and are skipped.
    pub code: Option<String>,
}

/// A visit's stock check as the rule sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitStock {
    /// The visit's record id.
    pub visit_id: RecordId,
    /// Who made the visit.
    pub salesperson: String,
    /// Region the visit took place in (the visited customer's region).
    pub region: Option<String>,
    /// The customer visited.
    pub customer_id: RecordId,
    /// The dealer visited or present, if any.
    pub dealer_id: Option<RecordId>,
    /// Stock seen.
    pub stock: Vec<StockLine>,
}

/// Checks a visit's stock: one finding per batch code seen in a region other than the one it
/// was shipped to. `shipped` maps a code, normalised with [`normalise_code`], to the region the
/// batch was shipped to; codes not in it are unknown and skipped (the caller may pass only the
/// codes of this visit). The key is per visit and code, so re-checking the visit gives the same
/// flag while a later visit finding the same batch again adds its own evidence.
pub fn check_visit_stock(visit: &VisitStock, shipped: &BTreeMap<String, String>) -> Vec<Finding> {
    let Some(seen) = visit
        .region
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
    else {
        return Vec::new();
    };
    let mut done = BTreeSet::new();
    let mut out = Vec::new();
    for line in &visit.stock {
        let Some(code) = line.code.as_deref().and_then(normalise_code) else {
            continue;
        };
        let Some(shipped_region) = shipped.get(&code) else {
            continue;
        };
        if shipped_region == seen || !done.insert(code.clone()) {
            continue;
        }
        let mut records = vec![visit.visit_id, visit.customer_id];
        records.extend(visit.dealer_id);
        out.push(Finding {
            kind: FindingKind::CrossRegionSale,
            severity: Severity::Warning,
            key: make_key(
                FindingKind::CrossRegionSale,
                &["stock", &visit.visit_id.to_string(), &code],
            ),
            records,
            people: tidy([visit.salesperson.as_str()]),
            regions: tidy([seen, shipped_region.as_str()]),
            message: Message {
                en: format!(
                    "Batch {code} of {} was shipped to region {shipped_region} but seen in \
                     region {seen}.",
                    line.product
                ),
                zh_cn: format!(
                    "{}批次{code}发往区域{shipped_region}，却在区域{seen}的库存中发现，疑似窜货。",
                    line.product
                ),
            },
            detail: Detail::CrossRegionStock {
                product: line.product.clone(),
                code,
                shipped_region: shipped_region.clone(),
                seen_region: seen.to_string(),
            },
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u128) -> RecordId {
        RecordId::from(uuid::Uuid::from_u128(n))
    }

    fn dealer(home: Option<&str>, authorised: &[&str]) -> DealerFacts {
        DealerFacts {
            id: id(2),
            name: "苏州利达商贸".into(),
            region: home.map(Into::into),
            authorised_regions: authorised.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn order(
        customer_region: Option<&str>,
        delivery: Option<&str>,
        d: Option<DealerFacts>,
    ) -> OrderDelivery {
        OrderDelivery {
            order_id: id(1),
            number: "O-1".into(),
            customer_id: id(3),
            salesperson: "li".into(),
            customer_region: customer_region.map(Into::into),
            delivery_region: delivery.map(Into::into),
            dealer: d,
        }
    }

    #[test]
    fn order_delivery_table() {
        // (order, expected regions of the finding, or None for no finding)
        let cases: Vec<(OrderDelivery, Option<Vec<&str>>)> = vec![
            (
                order(Some("SZ"), None, Some(dealer(Some("SZ"), &["SZ"]))),
                None,
            ),
            (
                order(Some("SZ"), Some("HZ"), Some(dealer(Some("SZ"), &["SZ"]))),
                Some(vec!["HZ", "SZ"]),
            ),
            (
                order(Some("HZ"), None, Some(dealer(Some("SZ"), &["SZ"]))),
                Some(vec!["HZ", "SZ"]),
            ),
            // Near miss: a dealer authorised for both regions.
            (
                order(
                    Some("SZ"),
                    Some("HZ"),
                    Some(dealer(Some("SZ"), &["SZ", "HZ"])),
                ),
                None,
            ),
            // A dealer with no authorised regions, even at home.
            (
                order(Some("SZ"), None, Some(dealer(Some("SZ"), &[]))),
                Some(vec!["SZ"]),
            ),
            (
                order(Some("HZ"), None, Some(dealer(None, &["SZ"]))),
                Some(vec!["HZ"]),
            ),
            (order(Some("HZ"), None, None), None),
            (order(None, None, Some(dealer(Some("SZ"), &["SZ"]))), None),
        ];
        for (i, (o, expected)) in cases.into_iter().enumerate() {
            let found = check_order_delivery(&o);
            assert_eq!(
                found.as_ref().map(|f| f.regions.clone()),
                expected.map(tidy),
                "case {i}"
            );
            if let Some(f) = found {
                assert_eq!(f.records, vec![id(1), id(2), id(3)]);
                assert_eq!(f.people, vec!["li"]);
                assert_eq!(Some(f), check_order_delivery(&o), "stable");
            }
        }
    }

    #[test]
    fn visit_stock_table() {
        let shipped: BTreeMap<String, String> = [
            ("LOT-A".to_string(), "SZ".to_string()),
            ("LOT-B".to_string(), "HZ".to_string()),
        ]
        .into();
        let line = |code: Option<&str>| StockLine {
            product: "BEER-500ML".into(),
            code: code.map(Into::into),
        };
        let visit = VisitStock {
            visit_id: id(9),
            salesperson: "wang".into(),
            region: Some("HZ".into()),
            customer_id: id(3),
            dealer_id: Some(id(2)),
            stock: vec![
                line(Some(" lot-a ")),
                line(Some("LOT-A")),
                line(Some("LOT-B")),
                line(Some("LOT-UNKNOWN")),
                line(None),
            ],
        };
        let found = check_visit_stock(&visit, &shipped);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].regions, vec!["HZ", "SZ"]);
        assert_eq!(found[0].records, vec![id(9), id(3), id(2)]);
        assert!(found[0].key.ends_with(":LOT-A"));
        let nowhere = VisitStock {
            region: None,
            ..visit
        };
        assert!(check_visit_stock(&nowhere, &shipped).is_empty());
    }
}

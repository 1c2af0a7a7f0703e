//! Tests of the duplicate and contested-customer rules.

use chrono::TimeZone;

use super::*;
use crate::domain::{OrderStatus, QuoteStatus};
use crate::money::Currency;
use crate::rules::facts::DealStatus;

fn customer(
    n: u128,
    name: &str,
    phone: Option<&str>,
    tax: Option<&str>,
    who: &str,
) -> CustomerFacts {
    CustomerFacts {
        id: RecordId::from(uuid::Uuid::from_u128(n)),
        name: name.into(),
        phone: phone.map(Into::into),
        tax_id: tax.map(Into::into),
        salesperson: Some(who.into()),
        region: Some(format!("R-{who}")),
        created_at: Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, n as u32).unwrap(),
    }
}

const TAX: &str = "91310000MA1FL4XQ3B";

#[test]
fn duplicate_table() {
    let existing = customer(
        1,
        "上海华东食品有限公司",
        Some("021-61234567"),
        Some(TAX),
        "li",
    );
    // (new customer, expected matches, expected severity)
    let cases: Vec<(CustomerFacts, Vec<MatchedOn>, Option<Severity>)> = vec![
        (
            customer(2, "华东食品", None, Some("9131 0000 ma1f l4xq 3b"), "wang"),
            vec![MatchedOn::TaxId],
            Some(Severity::Critical),
        ),
        (
            customer(3, "华东", Some("+86 21 6123 4567"), None, "wang"),
            vec![MatchedOn::Phone],
            Some(Severity::Warning),
        ),
        (
            customer(4, "上海华东食品股份有限公司", None, None, "wang"),
            vec![MatchedOn::Name],
            Some(Severity::Warning),
        ),
        (
            customer(5, "上海 华东食品", Some("02161234567"), Some(TAX), "li"),
            vec![MatchedOn::TaxId, MatchedOn::Phone, MatchedOn::Name],
            Some(Severity::Info),
        ),
        // Near misses: similar name, different phone and tax id.
        (
            customer(
                6,
                "上海华南食品有限公司",
                Some("021-61234568"),
                Some("91310000MA1FL4XQ4C"),
                "wang",
            ),
            vec![],
            None,
        ),
        (
            customer(7, "上海华东食品", None, None, "wang"),
            vec![MatchedOn::Name],
            Some(Severity::Warning),
        ),
        (
            customer(8, "无", Some("无"), Some("无"), "wang"),
            vec![],
            None,
        ),
    ];
    for (new, matched, severity) in cases {
        let found = find_duplicates(&new, std::slice::from_ref(&existing));
        match severity {
            None => assert!(found.is_empty(), "{}: {found:?}", new.name),
            Some(severity) => {
                assert_eq!(found.len(), 1, "{}", new.name);
                let f = &found[0];
                assert_eq!(f.severity, severity, "{}", new.name);
                assert_eq!(f.records, vec![new.id, existing.id]);
                match &f.detail {
                    Detail::Duplicate { matched_on, .. } => assert_eq!(matched_on, &matched),
                    other => panic!("{other:?}"),
                }
            }
        }
    }
}

#[test]
fn duplicate_key_is_symmetric_and_people_listed() {
    let a = customer(1, "杭州娃哈哈集团有限公司", None, None, "li");
    let b = customer(2, "杭州娃哈哈", None, None, "wang");
    let ab = find_duplicates(&a, std::slice::from_ref(&b));
    let ba = find_duplicates(&b, &[a.clone(), b.clone()]);
    assert_eq!(ab.len(), 1);
    assert_eq!(ab, ba);
    assert_eq!(ab[0].people, vec!["li", "wang"]);
    assert_eq!(ab[0].regions, vec!["R-li", "R-wang"]);
    assert!(ab[0].message.zh_cn.contains("名称"));
    assert!(ab[0].message.en.contains("same name"));
}

fn deal(n: u128, customer: u128, who: &str, status: DealStatus, voided: bool) -> DealFacts {
    DealFacts {
        id: RecordId::from(uuid::Uuid::from_u128(n)),
        customer_id: RecordId::from(uuid::Uuid::from_u128(customer)),
        salesperson: who.into(),
        region: Some("SH".into()),
        status,
        voided,
        currency: Currency::CNY,
        lines: vec![],
    }
}

#[test]
fn contested_table() {
    let sent = DealStatus::Quote(QuoteStatus::Sent);
    let lost = DealStatus::Quote(QuoteStatus::Lost);
    let confirmed = DealStatus::Order(OrderStatus::Confirmed);
    let paid = DealStatus::Order(OrderStatus::Paid);
    // (deals, number of contested customers)
    let cases: Vec<(Vec<DealFacts>, usize)> = vec![
        (
            vec![
                deal(10, 1, "li", sent, false),
                deal(11, 1, "wang", confirmed, false),
            ],
            1,
        ),
        (
            vec![
                deal(10, 1, "li", sent, false),
                deal(11, 1, "li", confirmed, false),
            ],
            0,
        ),
        (
            vec![
                deal(10, 1, "li", sent, false),
                deal(11, 1, "wang", lost, false),
            ],
            0,
        ),
        (
            vec![
                deal(10, 1, "li", sent, false),
                deal(11, 1, "wang", paid, false),
            ],
            0,
        ),
        (
            vec![
                deal(10, 1, "li", sent, false),
                deal(11, 1, "wang", sent, true),
            ],
            0,
        ),
        (
            vec![
                deal(10, 1, "li", sent, false),
                deal(11, 2, "wang", sent, false),
            ],
            0,
        ),
        (
            vec![
                deal(10, 1, "li", sent, false),
                deal(11, 1, "wang", sent, false),
                deal(12, 2, "li", sent, false),
                deal(13, 2, "zhao", confirmed, false),
            ],
            2,
        ),
    ];
    for (i, (deals, expected)) in cases.into_iter().enumerate() {
        let found = contested_customers(&deals);
        assert_eq!(found.len(), expected, "case {i}: {found:?}");
    }
}

#[test]
fn contested_key_stays_when_a_third_salesperson_joins() {
    let sent = DealStatus::Quote(QuoteStatus::Sent);
    let two = vec![
        deal(10, 1, "li", sent, false),
        deal(11, 1, "wang", sent, false),
    ];
    let mut three = two.clone();
    three.push(deal(12, 1, "zhao", sent, false));
    let a = contested_customers(&two);
    let b = contested_customers(&three);
    assert_eq!(a[0].key, b[0].key);
    assert_eq!(b[0].people, vec!["li", "wang", "zhao"]);
    assert_eq!(b[0].records.len(), 4);
}

//! Tests of the authority rules.

use rust_decimal::Decimal;

use super::*;
use crate::RecordId;
use crate::domain::QuoteStatus;
use crate::rules::facts::{DealStatus, PricedLine};

fn d(s: &str) -> Decimal {
    Decimal::from_str_exact(s).unwrap()
}

fn deal(lines: &[(&str, &str, &str, &str)], currency: &str) -> DealFacts {
    DealFacts {
        id: RecordId::from(uuid::Uuid::from_u128(1)),
        customer_id: RecordId::from(uuid::Uuid::from_u128(2)),
        salesperson: "li".into(),
        region: Some("SH".into()),
        status: DealStatus::Quote(QuoteStatus::Submitted),
        voided: false,
        currency: currency.parse().unwrap(),
        lines: lines
            .iter()
            .map(|(p, q, price, disc)| PricedLine {
                product: p.to_string(),
                quantity: d(q),
                unit_price: d(price),
                discount_pct: d(disc),
                list_price: None,
            })
            .collect(),
    }
}

fn person(user: &str, role: Role, grade: StaffGrade) -> Person {
    Person {
        user: user.into(),
        role,
        grade,
    }
}

#[test]
fn check_deal_table() {
    let limits = demo_limits();
    let li = |grade| person("li", Role::Salesperson, grade);
    // (deal, author, expected finding)
    let cases = [
        (
            deal(&[("A", "10", "100", "10")], "CNY"),
            li(StaffGrade::Regular),
            false,
        ),
        (
            deal(&[("A", "10", "100", "10.5")], "CNY"),
            li(StaffGrade::Regular),
            true,
        ),
        (
            deal(&[("A", "10", "100", "10")], "CNY"),
            li(StaffGrade::Probation),
            true,
        ),
        (
            deal(&[("A", "2000", "100", "0")], "CNY"),
            li(StaffGrade::Regular),
            false,
        ), // exactly 200 000
        (
            deal(&[("A", "2000", "100.01", "0")], "CNY"),
            li(StaffGrade::Regular),
            true,
        ),
        (
            deal(&[("A", "1", "1", "0")], "USD"),
            li(StaffGrade::Supervisor),
            true,
        ), // no USD authority
        (
            deal(&[("A", "1", "1", "0")], "USD"),
            person("li", Role::HeadOffice, StaffGrade::Regular),
            false,
        ),
        (
            deal(&[("A", "1000", "900", "20")], "CNY"),
            person("li", Role::RegionManager, StaffGrade::Probation),
            false,
        ),
    ];
    for (i, (deal, author, expected)) in cases.iter().enumerate() {
        let found = check_deal(deal, author, &limits);
        assert_eq!(found.is_some(), *expected, "case {i}: {found:?}");
        if let Some(f) = found {
            assert_eq!(f.people, vec!["li"]);
            assert_eq!(f.regions, vec!["SH"]);
            assert_eq!(check_deal(deal, author, &limits).unwrap().key, f.key);
        }
    }
}

#[test]
fn required_role_routes_to_the_lowest_sufficient_manager() {
    let limits = demo_limits();
    let cases = [
        ("5", "100", Some(Role::Salesperson)),
        ("18", "100", Some(Role::RegionManager)),
        ("25", "100", Some(Role::LargeRegionManager)),
        ("25", "100000", Some(Role::HeadOffice)), // 100 000 × 100 × 0.75 > 5 000 000
    ];
    for (disc, qty, role) in cases {
        let deal = deal(&[("A", qty, "100", disc)], "CNY");
        assert_eq!(limits.required_role(&deal), role, "{disc}% × {qty}");
    }
    assert_eq!(
        Limits::default().required_role(&deal(&[("A", "1", "1", "1")], "CNY")),
        None
    );
}

#[test]
fn can_approve_table() {
    let limits = demo_limits();
    let sh: Scope = Scope::Regions(["SH".to_string()].into());
    let bj: Scope = Scope::Regions(["BJ".to_string()].into());
    let manager = person("zhou", Role::RegionManager, StaffGrade::Regular);
    let big = deal(&[("A", "1", "100", "25")], "CNY");
    let small = deal(&[("A", "1", "100", "15")], "CNY");
    let mut voided = small.clone();
    voided.voided = true;
    let mut no_region = small.clone();
    no_region.region = None;
    let head = person("boss", Role::HeadOffice, StaffGrade::Supervisor);
    let cases: Vec<(&Person, &Scope, &DealFacts, Result<(), ApprovalError>)> = vec![
        (&manager, &sh, &small, Ok(())),
        (
            &manager,
            &bj,
            &small,
            Err(ApprovalError::OutsideScope {
                region: "SH".into(),
            }),
        ),
        (
            &manager,
            &sh,
            &big,
            Err(ApprovalError::DiscountBeyondAuthority {
                discount_pct: d("25"),
                allowed_pct: d("20"),
            }),
        ),
        (&manager, &sh, &no_region, Err(ApprovalError::NoTerritory)),
        (&head, &Scope::All, &no_region, Ok(())),
        (&head, &Scope::All, &big, Ok(())),
        (&manager, &sh, &voided, Err(ApprovalError::Voided)),
    ];
    for (i, (who, scope, deal, expected)) in cases.into_iter().enumerate() {
        assert_eq!(can_approve(who, scope, deal, &limits), expected, "case {i}");
    }
    let own = person("li", Role::RegionManager, StaffGrade::Regular);
    assert_eq!(
        can_approve(&own, &sh, &small, &limits),
        Err(ApprovalError::OwnDeal)
    );
    let usd = deal(&[("A", "1", "100", "0")], "USD");
    let err = can_approve(&manager, &sh, &usd, &limits).unwrap_err();
    assert!(matches!(
        err,
        ApprovalError::AmountBeyondAuthority { allowed: None, .. }
    ));
    assert!(err.to_string().contains("none in USD"), "{err}");
}

#[test]
fn limits_load_from_config_text() {
    let json = r#"{"limits": [
        {"role": "salesperson", "grade": "regular", "max_discount_pct": "12",
         "max_amount": {"CNY": "300000", "USD": "40000"}},
        {"role": "head_office", "max_discount_pct": "100", "unlimited_amount": true}
    ]}"#;
    let limits: Limits = serde_json::from_str(json).unwrap();
    let regular = limits.for_person(Role::Salesperson, StaffGrade::Regular);
    assert_eq!(regular.max_discount_pct, d("12"));
    assert_eq!(
        regular.max_amount.get(&"USD".parse().unwrap()),
        Some(&d("40000"))
    );
    // No entry for probation: no authority.
    let probation = limits.for_person(Role::Salesperson, StaffGrade::Probation);
    assert_eq!(probation.max_discount_pct, Decimal::ZERO);
    assert!(
        limits
            .for_person(Role::HeadOffice, StaffGrade::Probation)
            .unlimited_amount
    );
    let round: Limits = serde_json::from_str(&serde_json::to_string(&limits).unwrap()).unwrap();
    assert_eq!(round, limits);
}

#[test]
fn fingerprint_tracks_priced_content_only() {
    let approved = deal(&[("A", "10", "19.90", "5"), ("B", "1", "3", "0")], "CNY");
    let fp = Fingerprint::of(&approved);
    let same = [
        deal(&[("B", "1", "3", "0"), ("A", "10", "19.9", "5")], "CNY"), // reordered, 19.90 = 19.9
        deal(
            &[("A", "10.0", "19.900", "5.00"), ("B", "1", "3", "0")],
            "CNY",
        ),
    ];
    for d in &same {
        assert!(approval_still_valid(&fp, d), "{d:?}");
    }
    let changed = [
        deal(&[("A", "11", "19.90", "5"), ("B", "1", "3", "0")], "CNY"),
        deal(&[("A", "10", "19.80", "5"), ("B", "1", "3", "0")], "CNY"),
        deal(&[("A", "10", "19.90", "6"), ("B", "1", "3", "0")], "CNY"),
        deal(&[("A", "10", "19.90", "5")], "CNY"),
        deal(
            &[
                ("A", "10", "19.90", "5"),
                ("B", "1", "3", "0"),
                ("C", "1", "1", "0"),
            ],
            "CNY",
        ),
        deal(&[("A", "10", "19.90", "5"), ("B", "1", "3", "0")], "USD"),
        deal(&[("C", "10", "19.90", "5"), ("B", "1", "3", "0")], "CNY"),
    ];
    for d in &changed {
        assert!(!approval_still_valid(&fp, d), "{d:?}");
    }
    let mut other_customer = approved.clone();
    other_customer.customer_id = RecordId::from(uuid::Uuid::from_u128(99));
    assert!(!approval_still_valid(&fp, &other_customer));
    // Stored and read back, it still matches; the digest is stable across runs.
    let stored = Fingerprint::from_stored(fp.as_str());
    assert!(approval_still_valid(&stored, &approved));
    assert_eq!(fp.short(), stored.short());
    assert_eq!(fp.short().len(), 16);
    // Edited after approval: the authority flag gets a new key.
    let author = person("li", Role::Salesperson, StaffGrade::Probation);
    let nobody = Limits::default();
    let k1 = check_deal(&approved, &author, &nobody).unwrap().key;
    let k2 = check_deal(&changed[0], &author, &nobody).unwrap().key;
    assert_ne!(k1, k2);
}

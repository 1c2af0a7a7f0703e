use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::*;
use crate::RecordId;
use crate::domain::{
    Authorisation, Customer, Dealer, Line, Order, OrderStatus, Product, Quotation, QuoteStatus,
};
use crate::money::Currency;

fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap_or_default()
}

fn customer() -> Customer {
    let mut c = Customer::new("上海华东食品有限公司", at(0));
    c.region = Some("EAST-SH".into());
    c.salesperson = Some("sh1".into());
    c
}

fn dealer() -> Dealer {
    let mut d = Dealer::new("华东经销商", at(0));
    d.region = Some("EAST-SH".into());
    d
}

fn quotation(salesperson: &str) -> Quotation {
    Quotation {
        number: "Q-1".into(),
        customer_id: "0193a1b2-0000-7000-8000-000000000002"
            .parse()
            .unwrap_or_else(|_| RecordId::new()),
        salesperson: salesperson.into(),
        currency: Currency::CNY,
        lines: BTreeMap::from([(
            "l1".to_string(),
            Line {
                product: "P-1".into(),
                description: None,
                quantity: Decimal::ONE,
                unit_price: Decimal::TEN,
                discount_pct: Decimal::ZERO,
                position: 1024,
                batch: None,
            },
        )]),
        valid_until: None,
        delivery_terms: None,
        payment_terms: None,
        status: QuoteStatus::Draft,
        notes: None,
        created_at: at(0),
        voided: None,
        approval: None,
    }
}

fn order(status: OrderStatus) -> Order {
    let mut o = Order::from_quotation(
        "0193a1b2-0000-7000-8000-000000000001"
            .parse()
            .unwrap_or_else(|_| RecordId::new()),
        &quotation("sh1"),
        "O-1".into(),
        "sh1".into(),
        at(0),
    );
    o.status = status;
    o
}

fn writer(user: &'static str, role: Role) -> Writer<'static> {
    Writer { user, role }
}

/// The verdict's code: `None` when the change is allowed.
fn verdict(who: Writer<'_>, before: Option<Record>, after: Record) -> Option<&'static str> {
    check(who, before.as_ref(), &after).err().map(|r| r.code)
}

fn edit_customer(f: impl FnOnce(&mut Customer)) -> (Option<Record>, Record) {
    let before = customer();
    let mut after = before.clone();
    f(&mut after);
    (Some(Record::Customer(before)), Record::Customer(after))
}

#[test]
fn credit_terms_are_set_by_managers_and_finance_only() {
    let limit = |c: &mut Customer| c.credit.limit = Some(Decimal::from(99_999_999));
    let rating = |c: &mut Customer| c.credit.rating = Some("AAA".into());
    let terms = |c: &mut Customer| c.credit.payment_terms = Some("月结90天".into());
    let currency = |c: &mut Customer| c.credit.currency = "USD".parse().unwrap_or_default();
    let problems = |c: &mut Customer| c.credit.problems = Some("拖欠两次".into());
    type Edit = fn(&mut Customer);
    let table: [(Edit, Role, Option<&str>); 16] = [
        (limit, Role::Salesperson, Some("field_not_permitted")),
        (limit, Role::RegionManager, None),
        (limit, Role::LargeRegionManager, None),
        (limit, Role::HeadOffice, None),
        (limit, Role::Finance, None),
        (limit, Role::Admin, Some("field_not_permitted")),
        (rating, Role::Salesperson, Some("field_not_permitted")),
        (rating, Role::Finance, None),
        (terms, Role::Salesperson, Some("field_not_permitted")),
        (terms, Role::RegionManager, None),
        (currency, Role::Salesperson, Some("field_not_permitted")),
        (currency, Role::Finance, None),
        (problems, Role::Salesperson, None),
        (problems, Role::Finance, None),
        (problems, Role::Admin, Some("field_not_permitted")),
        (
            |c| c.basics.phone = Some("021-1".into()),
            Role::Salesperson,
            None,
        ),
    ];
    for (i, (edit, role, expected)) in table.into_iter().enumerate() {
        let (before, after) = edit_customer(edit);
        assert_eq!(
            verdict(writer("u", role), before, after),
            expected,
            "row {i}"
        );
    }
}

#[test]
fn head_office_and_finance_write_only_their_fields() {
    let name = |c: &mut Customer| c.name = "改名".into();
    for (role, expected) in [
        (Role::Salesperson, None),
        (Role::RegionManager, None),
        (Role::HeadOffice, Some("field_not_permitted")),
        (Role::Finance, Some("field_not_permitted")),
        (Role::Admin, Some("field_not_permitted")),
    ] {
        let (before, after) = edit_customer(name);
        assert_eq!(
            verdict(writer("u", role), before, after),
            expected,
            "{role}"
        );
    }
}

#[test]
fn a_new_customer_may_not_bring_credit_terms_or_another_owner() {
    let new = |f: fn(&mut Customer)| {
        let mut c = customer();
        f(&mut c);
        Record::Customer(c)
    };
    let sales = writer("sh1", Role::Salesperson);
    assert_eq!(verdict(sales, None, new(|_| {})), None);
    assert_eq!(
        verdict(sales, None, new(|c| c.credit.limit = Some(Decimal::ONE))),
        Some("field_not_permitted")
    );
    assert_eq!(
        verdict(sales, None, new(|c| c.salesperson = Some("sh2".into()))),
        Some("not_your_name")
    );
    let manager = writer("sh.mgr", Role::RegionManager);
    assert_eq!(
        verdict(manager, None, new(|c| c.salesperson = Some("sh2".into()))),
        None
    );
    assert_eq!(
        verdict(manager, None, new(|c| c.credit.limit = Some(Decimal::ONE))),
        None
    );
}

#[test]
fn authorised_regions_are_head_office_or_admin_only() {
    let granted = |d: &mut Dealer| {
        d.authorised_regions
            .insert("EAST-HZ".into(), Authorisation { since: None });
    };
    for (role, expected) in [
        (Role::Salesperson, Some("field_not_permitted")),
        (Role::RegionManager, Some("field_not_permitted")),
        (Role::LargeRegionManager, Some("field_not_permitted")),
        (Role::Finance, Some("field_not_permitted")),
        (Role::HeadOffice, None),
        (Role::Admin, None),
    ] {
        let before = dealer();
        let mut after = before.clone();
        granted(&mut after);
        let who = writer("u", role);
        let edited = verdict(
            who,
            Some(Record::Dealer(before)),
            Record::Dealer(after.clone()),
        );
        assert_eq!(edited, expected, "grant by {role}");
        // Creating a dealer already authorised is the same grant.
        assert_eq!(
            verdict(who, None, Record::Dealer(after)),
            expected,
            "new by {role}"
        );
        // Taking a region away too.
        let mut held = dealer();
        granted(&mut held);
        let revoked = verdict(who, Some(Record::Dealer(held)), Record::Dealer(dealer()));
        assert_eq!(revoked, expected, "revoke by {role}");
    }
    let sales = writer("sh1", Role::Salesperson);
    assert_eq!(verdict(sales, None, Record::Dealer(dealer())), None);
}

#[test]
fn a_deal_names_its_author_unless_a_manager_assigns_it() {
    let table = [
        (writer("sh1", Role::Salesperson), "sh1", None),
        (
            writer("sh1", Role::Salesperson),
            "sh2",
            Some("not_your_name"),
        ),
        (writer("sh.mgr", Role::RegionManager), "sh2", None),
        (writer("east.boss", Role::LargeRegionManager), "sh2", None),
        (
            writer("cash", Role::Finance),
            "sh2",
            Some("field_not_permitted"),
        ),
    ];
    for (who, named, expected) in table {
        let new = Record::Quotation(quotation(named));
        assert_eq!(
            verdict(who, None, new),
            expected,
            "{} names {named}",
            who.user
        );
        let before = Record::Quotation(quotation("sh1"));
        let after = Record::Quotation(quotation(named));
        let changed = if named == "sh1" { None } else { expected };
        assert_eq!(
            verdict(who, Some(before), after),
            changed,
            "{} reassigns",
            who.user
        );
    }
}

#[test]
fn paid_is_for_finance_only() {
    use OrderStatus::*;
    let table = [
        (Invoiced, Paid, Role::Salesperson, Some("paid_by_finance")),
        (Invoiced, Paid, Role::RegionManager, Some("paid_by_finance")),
        (Invoiced, Paid, Role::HeadOffice, Some("paid_by_finance")),
        (Invoiced, Paid, Role::Finance, None),
        (
            Paid,
            Invoiced,
            Role::LargeRegionManager,
            Some("paid_by_finance"),
        ),
        (Paid, Invoiced, Role::Finance, None),
        (Draft, Confirmed, Role::Salesperson, None),
        (Delivered, Invoiced, Role::Finance, None),
        (
            Draft,
            Confirmed,
            Role::HeadOffice,
            Some("field_not_permitted"),
        ),
    ];
    for (from, to, role, expected) in table {
        let before = Record::Order(order(from));
        let after = Record::Order(order(to));
        assert_eq!(
            verdict(writer("u", role), Some(before), after),
            expected,
            "{from} -> {to} by {role}"
        );
    }
    let sales = writer("sh1", Role::Salesperson);
    assert_eq!(
        verdict(sales, None, Record::Order(order(Paid))),
        Some("paid_by_finance"),
        "a new order cannot start paid"
    );
}

#[test]
fn created_at_is_fixed_after_creation_and_products_are_the_admins() {
    let (before, after) = edit_customer(|c| c.created_at = at(-86_400));
    let sales = writer("sh1", Role::Salesperson);
    assert_eq!(verdict(sales, before, after), Some("field_fixed"));
    let product = Product {
        code: "P-1".into(),
        name: "啤酒".into(),
        spec: None,
        unit: "箱".into(),
        list_price: Decimal::TEN,
        currency: Currency::CNY,
        created_at: at(0),
        voided: None,
    };
    let cheaper = Product {
        list_price: Decimal::ONE,
        ..product.clone()
    };
    let (old, new) = (Record::Product(product), Record::Product(cheaper));
    assert_eq!(
        verdict(sales, Some(old.clone()), new.clone()),
        Some("field_not_permitted")
    );
    assert_eq!(verdict(writer("admin", Role::Admin), Some(old), new), None);
}

#[test]
fn paths_and_rows() {
    assert!(covers("lines.*.unit_price", "lines.ab.unit_price"));
    assert!(!covers("lines.*.unit_price", "lines.ab.quantity"));
    assert!(covers(
        "authorised_regions",
        "authorised_regions.EAST.since"
    ));
    assert!(!covers("credit.limit", "credit"));
    assert!(covers("", "anything"));
    assert_eq!(
        who_writes(RecordKind::Product, "name"),
        Who::Roles(&[Role::Admin])
    );
    assert_eq!(who_writes(RecordKind::Product, "created_at"), Who::OnCreate);
    assert_eq!(
        who_writes(RecordKind::Visit, "outcome"),
        Who::Roles(FIELD_STAFF)
    );
    let (before, after) = edit_customer(|c| {
        c.credit.limit = Some(Decimal::ONE);
        c.basics.phone = Some("021".into());
    });
    let paths: Vec<String> = changed_fields(before.as_ref(), &after)
        .into_iter()
        .map(|c| c.path)
        .collect();
    assert_eq!(paths, ["basics.phone", "credit.limit"]);
}

#[test]
fn refusals_speak_both_languages() {
    let (before, after) = edit_customer(|c| c.credit.limit = Some(Decimal::from(99_999_999)));
    let refusal = check(writer("sh1", Role::Salesperson), before.as_ref(), &after)
        .err()
        .unwrap_or_else(|| panic!("refused"));
    assert_eq!(refusal.field, "credit.limit");
    assert!(refusal.message.en.contains("credit.limit"), "{refusal:?}");
    assert!(refusal.message.zh_cn.contains("业务员"), "{refusal:?}");
    assert!(refusal.both_languages().contains(" / "));
}

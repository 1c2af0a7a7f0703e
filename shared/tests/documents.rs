//! Records as documents: round trips, concurrent edits, conflicts, history.

#![allow(clippy::unwrap_used)] // Test helpers outside #[test] functions unwrap too.

use automerge::{ActorId, AutoCommit};
use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use shared::doc::{self, CommitMeta};
use shared::domain::Customer;
use shared::projection;

fn actor(n: u8) -> ActorId {
    ActorId::from([n; 16].as_slice())
}

fn meta(message: &str) -> CommitMeta {
    CommitMeta {
        message: message.to_string(),
        time: Utc.with_ymd_and_hms(2026, 11, 29, 8, 0, 0).unwrap(),
    }
}

fn fork(doc: &mut AutoCommit, n: u8) -> AutoCommit {
    doc::load(&doc.save(), &actor(n)).unwrap()
}

#[test]
fn customer_round_trips_through_a_document() {
    let mut customer = Customer::new("上海华东食品有限公司", Utc::now());
    customer.basics.phone = Some("021-5555 0101".into());
    customer.credit.limit = Some("50000.00".parse().unwrap());
    let mut d = doc::create(
        &actor(1),
        shared::RecordId::new(),
        &customer,
        &meta("add customer"),
    )
    .unwrap();
    let loaded = doc::load(&d.save(), &actor(1)).unwrap();
    let back: Customer = doc::read_as(&loaded).unwrap();
    assert_eq!(back.name, customer.name);
    assert_eq!(back.basics.phone, customer.basics.phone);
    // Canonical text: 50000.00 is stored as 50000.
    assert_eq!(back.credit.limit, Some("50000".parse().unwrap()));
}

#[test]
fn invalid_record_is_refused() {
    let customer = Customer::new("  ", Utc::now());
    let err = doc::create(&actor(1), shared::RecordId::new(), &customer, &meta("add")).unwrap_err();
    assert!(err.to_string().contains("name: is required"), "{err}");
}

#[test]
fn edits_to_different_fields_merge_without_conflict() {
    let mut a = doc::create(
        &actor(1),
        shared::RecordId::new(),
        &Customer::new("甲公司", Utc::now()),
        &meta("add"),
    )
    .unwrap();
    let mut b = fork(&mut a, 2);
    let mut ca: Customer = doc::read_as(&a).unwrap();
    ca.basics.phone = Some("111".into());
    doc::update(&mut a, &ca, &meta("phone")).unwrap();
    let mut cb: Customer = doc::read_as(&b).unwrap();
    cb.basics.address = Some("北京市朝阳区".into());
    doc::update(&mut b, &cb, &meta("address")).unwrap();
    a.merge(&mut b).unwrap();
    let merged: Customer = doc::read_as(&a).unwrap();
    assert_eq!(merged.basics.phone.as_deref(), Some("111"));
    assert_eq!(merged.basics.address.as_deref(), Some("北京市朝阳区"));
    assert!(doc::conflicts(&a).is_empty());
}

#[test]
fn same_field_edited_concurrently_is_a_conflict_until_resolved() {
    let mut a = doc::create(
        &actor(1),
        shared::RecordId::new(),
        &Customer::new("乙公司", Utc::now()),
        &meta("add"),
    )
    .unwrap();
    let mut b = fork(&mut a, 2);
    for (d, phone) in [(&mut a, "111"), (&mut b, "222")] {
        let mut c: Customer = doc::read_as(d).unwrap();
        c.basics.phone = Some(phone.into());
        doc::update(d, &c, &meta("phone")).unwrap();
    }
    a.merge(&mut b).unwrap();
    let conflicts = doc::conflicts(&a);
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].path, "basics.phone");
    let values: Vec<_> = conflicts[0]
        .values
        .iter()
        .map(|v| v.value.clone())
        .collect();
    assert!(values.contains(&"111".into()) && values.contains(&"222".into()));
    // The first value listed is the one Automerge currently shows.
    let shown: Customer = doc::read_as(&a).unwrap();
    assert_eq!(
        Some(values[0].as_str().unwrap()),
        shown.basics.phone.as_deref()
    );

    // Resolving on one replica and merging resolves it on the other.
    let pick = values.iter().position(|v| v == "222").unwrap();
    doc::resolve_conflict(&mut a, "basics.phone", pick, &meta("resolve")).unwrap();
    assert!(doc::conflicts(&a).is_empty());
    b.merge(&mut a).unwrap();
    assert!(doc::conflicts(&b).is_empty());
    let resolved: Customer = doc::read_as(&b).unwrap();
    assert_eq!(resolved.basics.phone.as_deref(), Some("222"));
    assert!(doc::resolve_conflict(&mut b, "basics.phone", 0, &meta("again")).is_err());
}

#[test]
fn history_names_actor_time_message_and_fields() {
    let mut d = doc::create(
        &actor(7),
        shared::RecordId::new(),
        &Customer::new("丙公司", Utc::now()),
        &meta("add customer"),
    )
    .unwrap();
    let mut c: Customer = doc::read_as(&d).unwrap();
    c.basics.phone = Some("333".into());
    doc::update(&mut d, &c, &meta("edit phone")).unwrap();
    let entries = doc::history(&mut d);
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[1].message, "edit phone");
    assert_eq!(entries[1].actor, actor(7).to_hex_string());
    assert_eq!(entries[1].time, Some(meta("").time));
    assert_eq!(entries[1].edits.len(), 1);
    assert_eq!(entries[1].edits[0].path, "basics.phone");
    assert_eq!(entries[1].edits[0].value, "333");
}

#[test]
fn corrupt_bytes_are_an_error_not_a_panic() {
    let mut d = doc::create(
        &actor(1),
        shared::RecordId::new(),
        &Customer::new("丁公司", Utc::now()),
        &meta("add"),
    )
    .unwrap();
    let bytes = d.save();
    for cut in [0, 1, 8, bytes.len() / 2, bytes.len() - 1] {
        assert!(
            doc::load(&bytes[..cut], &actor(1)).is_err() || cut == 0,
            "cut at {cut}"
        );
    }
    let mut garbage = bytes.clone();
    for b in garbage.iter_mut().skip(10).step_by(7) {
        *b ^= 0x5a;
    }
    assert!(doc::load(&garbage, &actor(1)).is_err());
}

/// One edit a laptop can make to a customer.
#[derive(Debug, Clone)]
enum Edit {
    Phone(u8),
    Address(u8),
    Grade(u8),
    Limit(u16),
    AddContact(u8),
}

fn apply(d: &mut AutoCommit, edit: &Edit) {
    let mut c: Customer = doc::read_as(d).unwrap();
    match edit {
        Edit::Phone(n) => c.basics.phone = Some(format!("138{n:08}")),
        Edit::Address(n) => c.basics.address = Some(format!("路{n}号")),
        Edit::Grade(n) => c.grade = shared::domain::Grade::ALL[*n as usize % 3],
        Edit::Limit(n) => {
            c.credit.limit = Some(rust_decimal::Decimal::from(*n) / rust_decimal::Decimal::from(4))
        }
        Edit::AddContact(n) => {
            c.contacts.insert(
                shared::domain::new_item_key(),
                shared::domain::Contact {
                    name: format!("联系人{n}"),
                    ..Default::default()
                },
            );
        }
    }
    doc::update(d, &c, &meta("edit")).unwrap();
}

fn edit_strategy() -> impl Strategy<Value = Edit> {
    prop_oneof![
        any::<u8>().prop_map(Edit::Phone),
        any::<u8>().prop_map(Edit::Address),
        any::<u8>().prop_map(Edit::Grade),
        any::<u16>().prop_map(Edit::Limit),
        any::<u8>().prop_map(Edit::AddContact),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Two replicas edited independently merge, in either order, to the same document, the same
    /// record, the same projection rows and the same conflict list.
    #[test]
    fn merge_order_does_not_matter(left in prop::collection::vec(edit_strategy(), 0..8),
                                   right in prop::collection::vec(edit_strategy(), 0..8)) {
        let mut base = doc::create(&actor(1), shared::RecordId::new(), &Customer::new("戊公司", Utc::now()), &meta("add")).unwrap();
        let mut a = fork(&mut base, 2);
        let mut b = fork(&mut base, 3);
        left.iter().for_each(|e| apply(&mut a, e));
        right.iter().for_each(|e| apply(&mut b, e));
        let mut ab = fork(&mut a, 4);
        ab.merge(&mut b.clone()).unwrap();
        let mut ba = fork(&mut b, 5);
        ba.merge(&mut a.clone()).unwrap();
        let mut heads_ab = ab.get_heads(); heads_ab.sort();
        let mut heads_ba = ba.get_heads(); heads_ba.sort();
        prop_assert_eq!(heads_ab, heads_ba);
        let rab = doc::read(&ab).unwrap();
        let rba = doc::read(&ba).unwrap();
        prop_assert_eq!(&rab, &rba);
        prop_assert_eq!(projection::project(&rab), projection::project(&rba));
        prop_assert_eq!(doc::conflicts(&ab), doc::conflicts(&ba));
        // A field both sides wrote with different final values must show as a conflict.
        let last_phone = |edits: &[Edit]| edits.iter().rev().find_map(|e| if let Edit::Phone(n) = e { Some(*n) } else { None });
        if let (Some(x), Some(y)) = (last_phone(&left), last_phone(&right))
            && x != y
        {
            prop_assert!(doc::conflicts(&ab).iter().any(|c| c.path == "basics.phone"));
        }
    }
}

#[test]
fn quotations_written_before_approvals_existed_still_read() {
    use automerge::ROOT;
    use automerge::transaction::Transactable;
    use shared::domain::{Quotation, QuoteStatus};
    let quotation = Quotation {
        number: "Q-1".into(),
        customer_id: shared::RecordId::new(),
        salesperson: "zhang.wei".into(),
        currency: shared::money::Currency::CNY,
        lines: Default::default(),
        valid_until: None,
        delivery_terms: None,
        payment_terms: None,
        status: QuoteStatus::Draft,
        notes: None,
        created_at: Utc::now(),
        voided: None,
        approval: None,
    };
    let mut d = doc::create(&actor(1), shared::RecordId::new(), &quotation, &meta("new")).unwrap();
    // An old document simply has no `approval` key.
    d.delete(ROOT, "approval").unwrap();
    d.commit();
    let back: Quotation = doc::read_as(&d).unwrap();
    assert_eq!(back.approval, None);
}

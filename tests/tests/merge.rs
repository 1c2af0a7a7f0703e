//! Two laptops edited independently, including the same field, merge to identical records,
//! projections and conflict lists in either order; a conflict stays visible until a person
//! resolves it.

#![allow(clippy::unwrap_used)] // Test helpers outside #[test] functions unwrap too.

use client::Store;
use client::store::ListFilter;
use fieldsync_tests::Laptop;
use proptest::prelude::*;
use shared::domain::{Customer, Grade};
use shared::projection::TABLES;

const BIN: &str = env!("CARGO_BIN_EXE_fieldsync-e2e-laptop");

/// Two laptops holding the same customer, each edited offline.
fn diverged() -> (Laptop, Laptop, String) {
    let a = Laptop::new(BIN, "zhang.wei", "laptop-a");
    let customer = a.create(&[
        "customer",
        "add",
        "广州珠江啤酒经销有限公司",
        "--phone",
        "020-1000",
    ]);
    let b = a.copy_as("li.na", "laptop-b");
    a.ok(&[
        "customer",
        "edit",
        &customer,
        "--phone",
        "020-2222",
        "--address",
        "广州市天河区",
    ]);
    b.ok(&[
        "customer", "edit", &customer, "--phone", "020-3333", "--grade", "key",
    ]);
    a.create(&["visit", "add", "--customer", &customer, "--purpose", "回访"]);
    let quote = b.create(&["quote", "new", "--customer", &customer]);
    b.ok(&[
        "quote",
        "add-line",
        &quote,
        "--product",
        "BEER",
        "--qty",
        "10",
        "--price",
        "4.5",
    ]);
    (a, b, customer)
}

fn merge(into: &Laptop, from: &Laptop) {
    into.ok(&["merge", "--from", &from.home().display().to_string()]);
}

#[test]
fn merging_in_either_order_converges_and_shows_the_conflict() {
    for a_first in [true, false] {
        let (a, b, customer) = diverged();
        if a_first {
            merge(&a, &b);
            merge(&b, &a);
        } else {
            merge(&b, &a);
            merge(&a, &b);
        }
        assert_eq!(
            a.snapshot(),
            b.snapshot(),
            "laptops differ after merging (a first: {a_first})"
        );

        let shown = a.json(&["customer", "show", &customer]);
        assert_eq!(shown["basics"]["address"], "广州市天河区", "A's edit kept");
        assert_eq!(shown["grade"], "key", "B's edit kept");
        let conflicts = a.json(&["conflicts", "list"]);
        let conflicts = conflicts.as_array().unwrap();
        assert_eq!(conflicts.len(), 1, "{conflicts:?}");
        assert_eq!(conflicts[0]["path"], "basics.phone");
        let values: Vec<&str> = conflicts[0]["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["value"].as_str().unwrap())
            .collect();
        assert!(
            values.contains(&"020-2222") && values.contains(&"020-3333"),
            "{values:?}"
        );
        let human = a.ok(&["conflicts", "list"]);
        assert!(
            human.contains("zhang.wei@laptop-a") && human.contains("li.na@laptop-b"),
            "{human}"
        );

        // A person on laptop B picks A's value; after merging, both agree and nothing conflicts.
        let pick = values.iter().position(|v| *v == "020-2222").unwrap() + 1;
        b.ok(&[
            "conflicts",
            "resolve",
            &customer,
            "basics.phone",
            "--pick",
            &pick.to_string(),
        ]);
        merge(&a, &b);
        for laptop in [&a, &b] {
            assert_eq!(
                laptop
                    .json(&["conflicts", "list"])
                    .as_array()
                    .unwrap()
                    .len(),
                0
            );
            assert_eq!(
                laptop.json(&["customer", "show", &customer])["basics"]["phone"],
                "020-2222"
            );
        }
        assert_eq!(a.snapshot(), b.snapshot());
    }
}

#[derive(Debug, Clone)]
enum Edit {
    Phone(u8),
    Address(u8),
    Grade(u8),
    Limit(u16),
    NewCustomer(u8),
}

fn edit_strategy() -> impl Strategy<Value = Edit> {
    prop_oneof![
        any::<u8>().prop_map(Edit::Phone),
        any::<u8>().prop_map(Edit::Address),
        any::<u8>().prop_map(Edit::Grade),
        any::<u16>().prop_map(Edit::Limit),
        any::<u8>().prop_map(Edit::NewCustomer),
    ]
}

fn apply(store: &mut Store, id: shared::RecordId, edit: &Edit) {
    if let Edit::NewCustomer(n) = edit {
        store
            .create(
                &Customer::new(format!("新客户{n}"), chrono::Utc::now()),
                "add",
            )
            .unwrap();
        return;
    }
    store
        .update::<Customer>(id, "edit", |c| {
            match edit {
                Edit::Phone(n) => c.basics.phone = Some(format!("1390000{n:04}")),
                Edit::Address(n) => c.basics.address = Some(format!("人民路{n}号")),
                Edit::Grade(n) => c.grade = Grade::ALL[*n as usize % Grade::ALL.len()],
                Edit::Limit(n) => {
                    c.credit.limit = Some(rust_decimal::Decimal::new(i64::from(*n), 2))
                }
                Edit::NewCustomer(_) => {}
            }
            Ok(())
        })
        .unwrap();
}

/// Everything derived in a store: every projection table and the conflict list.
fn derived(store: &Store) -> Vec<String> {
    let filter = ListFilter {
        include_voided: true,
        ..Default::default()
    };
    let mut out: Vec<String> = TABLES
        .iter()
        .map(|t| serde_json::to_string(&store.list(t, &filter).unwrap()).unwrap())
        .collect();
    out.push(serde_json::to_string(&store.conflicts(None).unwrap()).unwrap());
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn stores_converge_whatever_the_edits_and_merge_order(
        left in prop::collection::vec(edit_strategy(), 0..6),
        right in prop::collection::vec(edit_strategy(), 0..6),
        a_first in any::<bool>(),
    ) {
        let (home_a, home_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let mut a = Store::open_home(home_a.path()).unwrap();
        let id = a.create(&Customer::new("深圳南山电子有限公司", chrono::Utc::now()), "add").unwrap();
        let mut b = Store::open_home(home_b.path()).unwrap();
        b.merge_from(a.path()).unwrap();
        left.iter().for_each(|e| apply(&mut a, id, e));
        right.iter().for_each(|e| apply(&mut b, id, e));
        let (path_a, path_b) = (a.path().to_path_buf(), b.path().to_path_buf());
        if a_first {
            a.merge_from(&path_b).unwrap();
            b.merge_from(&path_a).unwrap();
        } else {
            b.merge_from(&path_a).unwrap();
            a.merge_from(&path_b).unwrap();
        }
        prop_assert_eq!(derived(&a), derived(&b));
        for (id, _) in a.all_ids().unwrap() {
            prop_assert_eq!(a.record(id).unwrap(), b.record(id).unwrap());
            let mut heads_a = a.document(id).unwrap().get_heads();
            let mut heads_b = b.document(id).unwrap().get_heads();
            heads_a.sort();
            heads_b.sort();
            prop_assert_eq!(heads_a, heads_b);
        }
    }
}

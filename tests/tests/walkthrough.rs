//! The README walkthrough, end to end with the real CLI: a customer, a visit with stock seen, a
//! quotation with three lines and a discount, an order from it; exact totals; history; and
//! everything still there when the program is started again.

#![allow(clippy::unwrap_used)] // Test helpers outside #[test] functions unwrap too.

use fieldsync_tests::Laptop;

const BIN: &str = env!("CARGO_BIN_EXE_fieldsync-e2e-laptop");

#[test]
fn newcomer_walkthrough_with_exact_totals_and_history() {
    let laptop = Laptop::new(BIN, "zhang.wei", "laptop-zw");
    let customer = laptop.create(&[
        "customer",
        "add",
        "上海华东食品有限公司",
        "--region",
        "EAST-SH",
        "--phone",
        "021-5555 0101",
        "--kind",
        "wholesaler",
        "--grade",
        "key",
        "--credit-limit",
        "50000",
        "--tax-id",
        "91310000MA1FL8XQ3B",
        "--contact",
        "王经理,采购经理,13800000001",
    ]);
    laptop.ok(&[
        "product",
        "add",
        "BEER-500",
        "啤酒 500ml",
        "--unit",
        "箱",
        "--price",
        "19.99",
    ]);
    let visit = laptop.create(&[
        "visit",
        "add",
        "--customer",
        &customer,
        "--at",
        "2026-11-30 14:00",
        "--purpose",
        "新品推广",
        "--stock",
        "BEER-500:B20261101:40",
        "--outcome",
        "订货意向",
        "--follow-up",
        "2026-12-07",
    ]);
    let quote = laptop.create(&[
        "quote",
        "new",
        "--customer",
        &customer,
        "--valid-until",
        "2026-12-31",
    ]);
    // The first line takes the list price: 3 × 19.99 at 7.5 % off = 55.47225 → 55.47.
    let added = laptop.json(&[
        "quote",
        "add-line",
        &quote,
        "--product",
        "BEER-500",
        "--qty",
        "3",
        "--discount",
        "7.5",
    ]);
    assert_eq!(added["total"], "55.47");
    laptop.ok(&[
        "quote",
        "add-line",
        &quote,
        "--product",
        "CUP",
        "--qty",
        "1",
        "--price",
        "0.1",
    ]);
    let added = laptop.json(&[
        "quote",
        "add-line",
        &quote,
        "--product",
        "LID",
        "--qty",
        "1",
        "--price",
        "0.2",
    ]);
    assert_eq!(added["total"], "55.77", "55.47 + 0.10 + 0.20, exactly");

    let shown = laptop.json(&["quote", "show", &quote]);
    let amounts: Vec<&str> = shown["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["amount"].as_str().unwrap())
        .collect();
    assert_eq!(amounts, ["55.47", "0.10", "0.20"]);

    let order = laptop.create(&[
        "order",
        "from-quote",
        &quote,
        "--delivery-region",
        "EAST-SH",
        "--delivery-deadline",
        "2026-12-15",
    ]);
    let order_shown = laptop.json(&["order", "show", &order]);
    assert_eq!(order_shown["total"], "55.77");
    assert_eq!(order_shown["quotation_id"], quote.as_str());

    laptop.ok(&["customer", "edit", &customer, "--phone", "021-6666 0202"]);
    let history = laptop.json(&["history", &customer]);
    let entries = history.as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[1]["who"], "zhang.wei@laptop-zw");
    assert_eq!(entries[1]["message"], "edit customer");
    assert_eq!(entries[1]["changed"][0]["path"], "basics.phone");
    assert_eq!(entries[1]["changed"][0]["value"], "021-6666 0202");

    // A later run of the program (a restart) sees everything.
    let visit_shown = laptop.json(&["visit", "show", &visit]);
    let stock: Vec<_> = visit_shown["stock_seen"]
        .as_object()
        .unwrap()
        .values()
        .collect();
    assert_eq!(stock[0]["code"], "B20261101");
    assert_eq!(stock[0]["quantity"], "40");
    assert_eq!(
        laptop.json(&["customer", "show", &customer])["basics"]["phone"],
        "021-6666 0202"
    );
    let found = laptop.json(&["customer", "search", "华东"]);
    assert_eq!(found.as_array().unwrap().len(), 1);
    let status = laptop.json(&["status"]);
    assert_eq!(status["records"], 5);
}

#[test]
fn voided_records_are_kept_and_hidden_from_default_lists() {
    let laptop = Laptop::new(BIN, "li.na", "laptop-ln");
    let customer = laptop.create(&["customer", "add", "北京燕京商贸有限公司"]);
    let stderr = laptop.fails(&["void", &customer]);
    assert!(stderr.contains("--reason"), "{stderr}");
    laptop.ok(&["void", &customer, "--reason", "duplicate entry"]);
    assert_eq!(
        laptop.json(&["customer", "list"]).as_array().unwrap().len(),
        0
    );
    let all = laptop.json(&["customer", "list", "--all"]);
    assert_eq!(all.as_array().unwrap().len(), 1);
    let shown = laptop.json(&["customer", "show", &customer]);
    assert_eq!(shown["voided"]["reason"], "duplicate entry");
    assert_eq!(shown["voided"]["by"], "li.na");
    let stderr = laptop.fails(&["customer", "edit", &customer, "--phone", "1"]);
    assert!(stderr.contains("voided"), "{stderr}");
}

//! Field permissions end to end: a salesperson's laptop raising its own customer's credit limit
//! is refused by the server, the refusal is listed in `rejected list` with its reason in both
//! languages, the edit is rolled back, and the customer keeps syncing afterwards; the manager's
//! limit is accepted and reaches the salesperson.

#![allow(clippy::unwrap_used)] // Test helpers outside #[test] functions unwrap too.

use fieldsync_tests::Laptop;
use fieldsync_tests::server::TestServer;

const BIN: &str = env!("CARGO_BIN_EXE_fieldsync-e2e-laptop");

fn laptop(server: &TestServer, user: &str, password: &str) -> Laptop {
    let laptop = Laptop::new(BIN, user, &format!("{user}-laptop"));
    laptop.login(&server.url(), user, password);
    laptop
}

#[test]
fn a_salesperson_raising_a_credit_limit_is_refused_and_the_customer_keeps_syncing() {
    let server = TestServer::start();
    let zhang = laptop(&server, "zhang.wei", "pw-zhang");
    let boss = laptop(&server, "east.boss", "pw-boss");
    let customer = zhang.create(&[
        "customer",
        "add",
        "上海授信贸易有限公司",
        "--region",
        "EAST-SH",
    ]);
    assert_eq!(zhang.sync()["rejected"], 0);

    zhang.ok(&["customer", "edit", &customer, "--credit-limit", "99999999"]);
    let report = zhang.sync();
    assert_eq!(report["rejected"], 1, "{report}");
    let refused = zhang.json(&["rejected", "list"]);
    assert_eq!(refused[0]["id"], customer.as_str(), "{refused}");
    assert_eq!(refused[0]["code"], "field_not_permitted", "{refused}");
    let reason = refused[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("credit.limit") && reason.contains("业务员"),
        "{reason}"
    );
    let shown = zhang.json(&["customer", "show", &customer]);
    assert_eq!(
        shown["credit"]["limit"],
        serde_json::Value::Null,
        "rolled back: {shown}"
    );

    // The record still syncs: the salesperson's next edit is accepted and reaches the manager.
    zhang.ok(&["customer", "edit", &customer, "--phone", "021-6666 0101"]);
    assert_eq!(zhang.sync()["rejected"], 0);
    boss.sync();
    let seen = boss.json(&["customer", "show", &customer]);
    assert_eq!(seen["credit"]["limit"], serde_json::Value::Null, "{seen}");
    assert!(seen.to_string().contains("021-6666 0101"), "{seen}");

    // The manager's limit is accepted and comes back to the salesperson.
    boss.ok(&["customer", "edit", &customer, "--credit-limit", "100000"]);
    assert_eq!(boss.sync()["rejected"], 0);
    zhang.sync();
    assert_eq!(
        zhang.json(&["customer", "show", &customer])["credit"]["limit"],
        "100000"
    );
}

//! Approvals through the CLI, real binaries and a real server: a salesperson's quotation beyond
//! their authority, approved offline on the manager's laptop, both laptops syncing in either
//! order; a rejection with a note; orders approved the same way; nobody approving their own.

use fieldsync_tests::Laptop;
use fieldsync_tests::server::TestServer;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_fieldsync-e2e-laptop");

fn laptop(server: &TestServer, user: &str, password: &str) -> Laptop {
    let laptop = Laptop::new(BIN, user, &format!("laptop-{user}"));
    laptop.login(&server.url(), user, password);
    laptop
}

/// A quotation for `customer` of one line at `price` (CNY), submitted for approval; returns
/// its id and the command's warnings.
fn submitted_quote(laptop: &Laptop, customer: &str, price: &str) -> (String, Value) {
    let quote = laptop.create(&["quote", "new", "--customer", customer]);
    laptop.ok(&[
        "quote",
        "add-line",
        &quote,
        "--product",
        "BEER",
        "--qty",
        "1",
        "--price",
        price,
    ]);
    let edited = laptop.json(&["quote", "edit", &quote, "--status", "submitted"]);
    (quote, edited["warnings"].clone())
}

/// The kinds of a command's warnings.
fn warning_kinds(warnings: &Value) -> Vec<String> {
    warnings
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|w| w["type"].as_str().map(String::from))
        .collect()
}

/// The row of one record in a `quote list` or `order list`.
fn listed(laptop: &Laptop, what: &str, id: &str) -> Value {
    let rows = laptop.json(&[what, "list"]);
    rows.as_array()
        .and_then(|rows| rows.iter().find(|r| r["id"] == id).cloned())
        .unwrap_or_else(|| panic!("{what} {id} not listed: {rows}"))
}

/// The authority flags on this laptop (any status) naming `record`.
fn authority_flags(laptop: &Laptop, record: &str) -> Vec<Value> {
    let flags = laptop.json(&["flags", "list", "--all"]);
    flags
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| {
            f["kind"] == "beyond_authority"
                && f["records"]
                    .as_array()
                    .is_some_and(|r| r.iter().any(|id| id == record))
        })
        .cloned()
        .collect()
}

/// Requested offline, approved offline, synced with the manager first or last: the
/// salesperson sees the approval (and keeps their own concurrent edit), and the quotation
/// becomes an order that needs no approval of its own.
fn approve_offline(boss_first: bool) {
    let server = TestServer::start();
    let zhang = laptop(&server, "zhang.wei", "pw-zhang");
    let boss = laptop(&server, "east.boss", "pw-boss");

    // Offline: 300,000 is past a regular salesperson's 200,000.
    let customer = zhang.create(&[
        "customer",
        "add",
        "审批测试贸易有限公司",
        "--region",
        "EAST-SH",
    ]);
    let (quote, warnings) = submitted_quote(&zhang, &customer, "300000");
    assert!(
        warning_kinds(&warnings).contains(&"beyond_authority".into()),
        "{warnings}"
    );
    // The salesperson cannot approve their own request, not even offline.
    let refused = zhang.fails(&["quote", "approve", &quote]);
    assert!(refused.contains("own deal"), "{refused}");
    zhang.sync();
    boss.sync();
    assert_eq!(
        authority_flags(&boss, &quote).len(),
        1,
        "the request reached the manager"
    );

    // Both offline: the manager approves, the salesperson adds a note to the quotation.
    let approved = boss.json(&["quote", "approve", &quote, "--note", "同意特价"]);
    assert_eq!(approved["decision"], "approved", "{approved}");
    zhang.json(&["quote", "edit", &quote, "--notes", "客户催单"]);
    if boss_first {
        assert_eq!(boss.sync()["rejected"], 0);
        assert_eq!(zhang.sync()["rejected"], 0);
    } else {
        assert_eq!(zhang.sync()["rejected"], 0);
        assert_eq!(boss.sync()["rejected"], 0);
        assert_eq!(zhang.sync()["rejected"], 0);
    }

    let shown = zhang.json(&["quote", "show", &quote]);
    assert_eq!(shown["status"], "approved", "{shown}");
    assert_eq!(shown["approval"]["decision"], "approved", "{shown}");
    assert_eq!(shown["approval"]["by"], "east.boss");
    assert_eq!(shown["approval"]["note"], "同意特价");
    assert_eq!(shown["notes"], "客户催单", "the concurrent edit is kept");
    let row = listed(&zhang, "quote", &quote);
    assert_eq!(
        (&row["approval"], &row["decided_by"]),
        (&"approved".into(), &"east.boss".into())
    );

    // The request was one flag; the approval raises no other. (Closing the request's flag
    // when its cause is gone is the flag engine's part of issue 8.)
    assert_eq!(authority_flags(&zhang, &quote).len(), 1);

    // The approved quotation becomes an order, covered by the approval on both sides.
    let order = zhang.json(&["order", "from-quote", &quote]);
    assert!(
        !warning_kinds(&order["warnings"]).contains(&"beyond_authority".into()),
        "{order}"
    );
    let order = order["id"].as_str().expect("an order id").to_string();
    assert_eq!(zhang.sync()["rejected"], 0);
    assert_eq!(authority_flags(&zhang, &order), Vec::<Value>::new());
}

#[test]
fn approved_offline_manager_syncing_first() {
    approve_offline(true);
}

#[test]
fn approved_offline_salesperson_syncing_first() {
    approve_offline(false);
}

#[test]
fn rejections_and_order_approvals_reach_the_salesperson() {
    let server = TestServer::start();
    let zhang = laptop(&server, "zhang.wei", "pw-zhang");
    let boss = laptop(&server, "east.boss", "pw-boss");
    let customer = zhang.create(&[
        "customer",
        "add",
        "驳回测试贸易有限公司",
        "--region",
        "EAST-SH",
    ]);
    let (quote, _) = submitted_quote(&zhang, &customer, "300000");
    // An order made straight from an unapproved quotation asks for approval of its own.
    let other = zhang.create(&["quote", "new", "--customer", &customer]);
    zhang.ok(&[
        "quote",
        "add-line",
        &other,
        "--product",
        "BEER",
        "--qty",
        "1",
        "--price",
        "250000",
    ]);
    let order = zhang.create(&["order", "from-quote", &other]);
    zhang.sync();
    boss.sync();

    // A rejection says why.
    boss.fails(&["quote", "reject", &quote]);
    boss.json(&["quote", "reject", &quote, "--note", "价格太低，请重新报价"]);
    boss.json(&["order", "approve", &order, "--note", "老客户"]);
    assert_eq!(boss.sync()["rejected"], 0);
    assert_eq!(zhang.sync()["rejected"], 0);

    let shown = zhang.json(&["quote", "show", &quote]);
    assert_eq!(shown["status"], "rejected", "{shown}");
    assert_eq!(shown["approval"]["decision"], "rejected");
    assert_eq!(shown["approval"]["note"], "价格太低，请重新报价");
    let row = listed(&zhang, "quote", &quote);
    assert_eq!(row["approval"], "rejected", "{row}");
    // The inbox lists the rejection (with its note) until the salesperson acts on it.
    let inbox = zhang.json(&["inbox"]);
    let decision = inbox
        .as_array()
        .and_then(|rows| {
            rows.iter()
                .find(|r| r["type"] == "decision" && r["id"] == quote.as_str())
        })
        .unwrap_or_else(|| panic!("no decision in the inbox: {inbox}"));
    assert_eq!(decision["status"], "rejected", "{decision}");
    assert_eq!(decision["note"], "价格太低，请重新报价");
    zhang.json(&["quote", "edit", &quote, "--status", "draft"]);
    let inbox = zhang.json(&["inbox"]);
    assert!(
        !inbox
            .as_array()
            .into_iter()
            .flatten()
            .any(|r| r["type"] == "decision" && r["id"] == quote.as_str()),
        "{inbox}"
    );
    let row = listed(&zhang, "order", &order);
    assert_eq!(
        (&row["approval"], &row["decided_by"]),
        (&"approved".into(), &"east.boss".into())
    );
    // Nor does a salesperson approve their own order.
    let refused = zhang.fails(&["order", "approve", &order]);
    assert!(refused.contains("own deal"), "{refused}");
}

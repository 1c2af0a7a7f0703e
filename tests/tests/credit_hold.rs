//! Credit holds through the CLI, real binaries and a real server: an order past the customer's
//! credit limit comes back held, the large-region manager releases it on their laptop, and the
//! salesperson then sees it released.

use fieldsync_tests::Laptop;
use fieldsync_tests::server::TestServer;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_fieldsync-e2e-laptop");

fn laptop(server: &TestServer, user: &str, password: &str) -> Laptop {
    let laptop = Laptop::new(BIN, user, &format!("laptop-{user}"));
    laptop.login(&server.url(), user, password);
    laptop
}

/// The `credit_hold` column of the laptop's order list for one order.
fn hold_column(laptop: &Laptop, order: &str) -> Value {
    let rows = laptop.json(&["order", "list"]);
    rows.as_array()
        .and_then(|rows| rows.iter().find(|r| r["id"] == order))
        .map(|row| row["credit_hold"].clone())
        .unwrap_or_else(|| panic!("order {order} not listed: {rows}"))
}

#[test]
fn a_held_order_is_released_by_the_manager_and_the_salesperson_sees_it() {
    let server = TestServer::start();
    let zhang = laptop(&server, "zhang.wei", "pw-zhang");
    let boss = laptop(&server, "east.boss", "pw-boss");

    let customer = zhang.create(&[
        "customer",
        "add",
        "上海授信测试贸易有限公司",
        "--region",
        "EAST-SH",
    ]);
    // The credit limit is the manager's to set, not the salesperson's.
    zhang.sync();
    boss.sync();
    boss.ok(&["customer", "edit", &customer, "--credit-limit", "1000"]);
    assert_eq!(boss.sync()["rejected"], 0);
    zhang.sync();
    let quote = zhang.create(&["quote", "new", "--customer", &customer]);
    zhang.ok(&[
        "quote",
        "add-line",
        &quote,
        "--product",
        "BEER",
        "--qty",
        "3",
        "--price",
        "500",
    ]);
    let order = zhang.create(&["order", "from-quote", &quote]);
    zhang.json(&["order", "edit", &order, "--status", "confirmed"]);
    assert_eq!(hold_column(&zhang, &order), Value::Null, "not held offline");

    // The server holds it on sync (1500 is past 1000) and the hold comes back in the same pull.
    zhang.sync();
    assert_eq!(hold_column(&zhang, &order), "held");
    let shown = zhang.json(&["order", "show", &order]);
    assert!(shown["credit_hold"]["reason"].is_string(), "{shown}");
    assert_eq!(shown["credit_hold"]["released_by"], Value::Null);
    // The laptop already says no to delivering a held order.
    zhang.fails(&["order", "edit", &order, "--status", "delivered"]);

    // The large-region manager releases it on their laptop and syncs.
    boss.sync();
    assert_eq!(hold_column(&boss, &order), "held");
    boss.json(&["order", "release", &order, "--note", "已收到预付款"]);
    assert_eq!(hold_column(&boss, &order), "released");
    let synced = boss.sync();
    assert_eq!(synced["rejected"], 0, "{synced}");

    // The salesperson sees the release and may deliver.
    zhang.sync();
    assert_eq!(hold_column(&zhang, &order), "released");
    let shown = zhang.json(&["order", "show", &order]);
    assert_eq!(shown["credit_hold"]["released_by"], "east.boss", "{shown}");
    assert_eq!(shown["credit_hold"]["note"], "已收到预付款");
    zhang.json(&["order", "edit", &order, "--status", "delivered"]);
    let synced = zhang.sync();
    assert_eq!(synced["rejected"], 0, "{synced}");
}

/// The credit `type` of any warning in a command's JSON output.
fn credit_warnings(output: &Value) -> Vec<Value> {
    output["warnings"]
        .as_array()
        .map(|w| {
            w.iter()
                .filter(|w| w["type"] == "credit_limit")
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

/// An invoiced order counts once against credit: as a receivable, not again as an open order.
/// Before, a 50,000.01 order against a 100,000 limit showed exposure 100,000.02 when invoiced,
/// and the server held it. The manager sets the limit (who may set limits), and walks the path
/// a new user would: customer, quotation, order from it, invoiced.
#[test]
fn an_invoiced_order_is_counted_once_against_credit() {
    let server = TestServer::start();
    let boss = laptop(&server, "east.boss", "pw-boss");

    let customer = boss.create(&[
        "customer",
        "add",
        "上海开票测试贸易有限公司",
        "--region",
        "EAST-SH",
        "--credit-limit",
        "100000",
    ]);
    let quote = boss.create(&["quote", "new", "--customer", &customer]);
    boss.ok(&[
        "quote",
        "add-line",
        &quote,
        "--product",
        "BEER",
        "--qty",
        "1",
        "--price",
        "50000.01",
    ]);
    let order = boss.create(&["order", "from-quote", &quote]);
    let edited = boss.json(&["order", "edit", &order, "--status", "invoiced"]);
    assert_eq!(credit_warnings(&edited), Vec::<Value>::new(), "{edited}");

    let synced = boss.sync();
    assert_eq!(synced["rejected"], 0, "{synced}");
    assert_eq!(
        hold_column(&boss, &order),
        Value::Null,
        "not held after sync"
    );
    let shown = boss.json(&["order", "show", &order]);
    assert_eq!(shown["credit_hold"], Value::Null, "{shown}");

    // A second invoiced order of 50,000 takes exposure to exactly one cent past the limit:
    // the first counts once as a receivable, the second once as itself.
    let second = boss.create(&["quote", "new", "--customer", &customer]);
    boss.ok(&[
        "quote",
        "add-line",
        &second,
        "--product",
        "BEER",
        "--qty",
        "1",
        "--price",
        "50000",
    ]);
    let second = boss.create(&["order", "from-quote", &second]);
    let edited = boss.json(&["order", "edit", &second, "--status", "invoiced"]);
    let warned = credit_warnings(&edited);
    assert_eq!(warned.len(), 1, "{edited}");
    assert!(
        warned[0]["message_en"]
            .as_str()
            .is_some_and(|m| m.contains("exposure 100000.01 CNY")),
        "{edited}"
    );
}

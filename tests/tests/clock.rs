//! Whose clock counts, end to end: rules and reports believe a laptop's time only within the
//! offline window before the server received the record, and never after it
//! (`shared::clock`). A backdated customer does not win a 撞单 dispute, a deal dated far in the
//! past or the future is counted when the server received it, and a week of honest offline work
//! keeps its dates. Real server, real laptops; the records with chosen dates are made through the
//! laptop's own store, as a laptop with a wrong (or wound back) clock would make them.

#![allow(clippy::unwrap_used)] // Test helpers outside #[test] functions unwrap too.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use client::Store;
use fieldsync_tests::Laptop;
use fieldsync_tests::server::TestServer;
use rust_decimal::Decimal;
use serde_json::Value;
use shared::RecordId;
use shared::domain::{Customer, Line, Order, OrderStatus, Quotation, QuoteStatus, new_item_key};
use shared::money::Currency;

const BIN: &str = env!("CARGO_BIN_EXE_fieldsync-e2e-laptop");

const NAME: &str = "上海宏远贸易有限公司";
const TAX_ID: &str = "91310000MA1K8HY777";

fn laptop(server: &TestServer, user: &str, password: &str) -> Laptop {
    let laptop = Laptop::new(BIN, user, &format!("{user}-laptop"));
    laptop.login(&server.url(), user, password);
    laptop
}

/// The report date (Shanghai) of an instant.
fn day(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&chrono_tz::Asia::Shanghai).date_naive()
}

/// A customer of `user`'s in Shanghai, made on `laptop` with its clock reading `at`.
fn customer_made_at(laptop: &Laptop, user: &str, at: DateTime<Utc>) -> RecordId {
    let mut customer = Customer::new(NAME, at);
    customer.region = Some("EAST-SH".into());
    customer.salesperson = Some(user.into());
    customer.basics.tax_id = Some(TAX_ID.into());
    let mut store = Store::open_home(laptop.home()).unwrap();
    store.create(&customer, "add customer").unwrap()
}

/// A sent quotation for `customer` made at `quoted`, and a confirmed order from it made at
/// `ordered`, of 10 × 100.00 CNY each at `discount` percent (30 is beyond a salesperson's
/// authority, so each raises a flag), on `laptop` with its clock reading those times. Returns
/// the order's id.
fn deal_made_at(
    laptop: &Laptop,
    customer: RecordId,
    discount: i64,
    quoted: DateTime<Utc>,
    ordered: DateTime<Utc>,
) -> RecordId {
    let user = "zhang.wei";
    let line = Line {
        product: "BEER".into(),
        description: None,
        quantity: Decimal::from(10),
        unit_price: Decimal::from(100),
        discount_pct: Decimal::from(discount),
        position: 1024,
        batch: None,
    };
    let quotation = Quotation {
        number: format!("Q-{}", RecordId::new()),
        customer_id: customer,
        salesperson: user.into(),
        currency: Currency::CNY,
        lines: BTreeMap::from([(new_item_key(), line)]),
        valid_until: None,
        delivery_terms: None,
        payment_terms: None,
        status: QuoteStatus::Sent,
        approval: None,
        notes: None,
        created_at: quoted,
        voided: None,
    };
    let mut store = Store::open_home(laptop.home()).unwrap();
    let quote_id = store.create(&quotation, "new quotation").unwrap();
    let mut order = Order::from_quotation(
        quote_id,
        &quotation,
        format!("O-{}", RecordId::new()),
        user.into(),
        ordered,
    );
    order.status = OrderStatus::Confirmed;
    store.create(&order, "order from quotation").unwrap()
}

/// The server's rollup of Shanghai for the day `date`, as its manager fetches it.
fn server_day(server: &TestServer, manager: &Laptop, date: NaiveDate) -> Value {
    let token = Store::open_home(manager.home())
        .unwrap()
        .meta("token")
        .unwrap()
        .expect("the manager is logged in");
    reqwest::blocking::Client::new()
        .get(format!("{}/v1/reports/rollup", server.url()))
        .query(&[
            ("node", "EAST-SH"),
            ("period", "day"),
            ("date", &date.to_string()),
            ("format", "json"),
        ])
        .bearer_auth(token)
        .send()
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .unwrap()
}

/// (new customers, quotations, orders, beyond-authority flags) in a rollup.
fn counts(rollup: &Value) -> (u64, u64, u64, u64) {
    (
        rollup["new_customers"].as_u64().unwrap(),
        rollup["quotations"]["count"].as_u64().unwrap(),
        rollup["orders"]["count"].as_u64().unwrap(),
        rollup["flag_totals"]["beyond_authority"]
            .as_u64()
            .unwrap_or(0),
    )
}

#[test]
fn a_customer_backdated_a_year_does_not_win_the_duplicate_dispute() {
    let server = TestServer::start();
    // Zhang registers the customer and syncs.
    let zhang = laptop(&server, "zhang.wei", "pw-zhang");
    let first = zhang.create(&[
        "customer", "add", NAME, "--region", "EAST-SH", "--tax-id", TAX_ID,
    ]);
    assert_eq!(zhang.sync()["rejected"], 0);
    // Li registers the same customer afterwards, on a laptop whose clock says a year ago.
    let li = laptop(&server, "li.na", "pw-li");
    let claimed = Utc::now() - Duration::days(365);
    let second = customer_made_at(&li, "li.na", claimed);
    assert_eq!(li.sync()["rejected"], 0);

    // The office's manager sees one 撞单 flag, naming Zhang's customer as the original.
    let boss = laptop(&server, "east.boss", "pw-boss");
    boss.sync();
    let flags = boss.json(&["flags", "list"]);
    let duplicates: Vec<&Value> = flags
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "duplicate_customer")
        .collect();
    assert_eq!(duplicates.len(), 1, "{flags}");
    let flag = duplicates[0];
    // A finding's records are the newer customer, then the original.
    assert_eq!(flag["records"][0], second.to_string(), "{flag}");
    assert_eq!(flag["records"][1], first, "{flag}");
    let message = flag["message_en"].as_str().unwrap();
    assert!(
        message.contains("(by li.na) looks like existing customer")
            && message.ends_with("(by zhang.wei): same tax id, name."),
        "{message}"
    );

    // Both times are kept: the laptop's claim in the record, the receive time on the server.
    let shown = li.json(&["customer", "show", &second.to_string()]);
    let recorded: DateTime<Utc> = shown["created_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(recorded.timestamp(), claimed.timestamp(), "{shown}");
    let db = rusqlite::Connection::open(server.db_path()).unwrap();
    let received: String = db
        .query_row(
            "SELECT received_at FROM documents WHERE doc_id = ?1",
            [second.to_string()],
            |r| r.get(0),
        )
        .unwrap();
    let received: DateTime<Utc> = received.parse().unwrap();
    assert!(received > Utc::now() - Duration::hours(1), "{received}");
}

#[test]
fn a_deal_dated_far_away_is_counted_when_the_server_received_it() {
    let server = TestServer::start();
    let zhang = laptop(&server, "zhang.wei", "pw-zhang");
    let customer: RecordId = zhang
        .create(&["customer", "add", "上海甲公司", "--region", "EAST-SH"])
        .parse()
        .unwrap();
    // A quotation whose laptop says it was made 400 days ago, turned into an order the laptop
    // dates 400 days ahead.
    let past = Utc::now() - Duration::days(400);
    let future = Utc::now() + Duration::days(400);
    deal_made_at(&zhang, customer, 30, past, future);
    assert_eq!(zhang.sync()["rejected"], 0);
    let today = day(Utc::now());

    let boss = laptop(&server, "east.boss", "pw-boss");
    assert_eq!(
        counts(&server_day(&server, &boss, today)),
        (1, 1, 1, 2),
        "the customer, the quotation, the order and their flags all count on the day they \
         reached the server"
    );
    assert_eq!(counts(&server_day(&server, &boss, day(past))), (0, 0, 0, 0));
    assert_eq!(
        counts(&server_day(&server, &boss, day(future))),
        (0, 0, 0, 0)
    );
}

#[test]
fn a_week_offline_keeps_its_dates() {
    let server = TestServer::start();
    let zhang = laptop(&server, "zhang.wei", "pw-zhang");
    // Five days offline: a customer, a quotation and an order, all made then, synced now.
    let then = Utc::now() - Duration::days(5);
    let customer = customer_made_at(&zhang, "zhang.wei", then);
    deal_made_at(&zhang, customer, 30, then, then);
    assert_eq!(zhang.sync()["rejected"], 0);
    let today = day(Utc::now());

    let boss = laptop(&server, "east.boss", "pw-boss");
    assert_eq!(
        counts(&server_day(&server, &boss, day(then))),
        (1, 1, 1, 2),
        "the records and the flags they raised count on the day they were made"
    );
    assert_eq!(counts(&server_day(&server, &boss, today)), (0, 0, 0, 0));
}

/// The `credit_hold` column of the laptop's order list for one order.
fn hold_column(laptop: &Laptop, order: RecordId) -> Value {
    let rows = laptop.json(&["order", "list"]);
    rows.as_array()
        .and_then(|rows| rows.iter().find(|r| r["id"] == order.to_string()))
        .map(|row| row["credit_hold"].clone())
        .unwrap_or_else(|| panic!("order {order} not listed: {rows}"))
}

#[test]
fn a_backdated_order_does_not_slip_in_before_the_orders_already_placed() {
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
    zhang.sync();
    boss.sync();
    boss.ok(&["customer", "edit", &customer, "--credit-limit", "1500"]);
    assert_eq!(boss.sync()["rejected"], 0);
    zhang.sync();
    let customer: RecordId = customer.parse().unwrap();
    // An order of 1000 within the limit of 1500, placed and synced.
    let now = Utc::now();
    let placed = deal_made_at(&zhang, customer, 0, now, now);
    assert_eq!(zhang.sync()["rejected"], 0);
    assert_eq!(hold_column(&zhang, placed), Value::Null);
    // A second order of 1000, which its laptop dates a year back: it is the one that takes the
    // customer past the limit, and the one held.
    let year_ago = Utc::now() - Duration::days(365);
    let late = deal_made_at(&zhang, customer, 0, year_ago, year_ago);
    assert_eq!(zhang.sync()["rejected"], 0);
    zhang.sync();
    assert_eq!(hold_column(&zhang, late), "held");
    assert_eq!(hold_column(&zhang, placed), Value::Null);
}

//! `GET /v1/reports/rollup`: figures checked against totals computed here, scope, formats.

mod common;
#[path = "reports/xlsx.rs"]
mod xlsx;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use common::{Session, TestServer, get_raw, new_record};
use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::Value;
use shared::RecordId;
use shared::domain::{Customer, Line, Order, OrderStatus, Quotation, QuoteStatus, Visit};
use shared::money::Currency;
use shared::protocol::DEFAULT_PULL_BUDGET;

fn at(text: &str) -> DateTime<Utc> {
    text.parse().expect("instant")
}

fn dec(text: &str) -> Decimal {
    Decimal::from_str_exact(text).expect("decimal")
}

fn lines(quantity: &str, unit_price: &str) -> BTreeMap<String, Line> {
    let line = Line {
        product: "P-1".into(),
        description: None,
        quantity: dec(quantity),
        unit_price: dec(unit_price),
        discount_pct: Decimal::ZERO,
        position: 1024,
        batch: None,
    };
    [("l1".to_string(), line)].into()
}

/// Pushes one record as `who`; it must be accepted.
async fn push<T: shared::RecordType>(server: &TestServer, who: &Session, record: &T) -> RecordId {
    let (id, change) = new_record(&who.actor, record);
    let answer = server.sync(who, 0, vec![change], DEFAULT_PULL_BUDGET).await;
    assert!(answer.rejected.is_empty(), "{:?}", answer.rejected);
    id
}

async fn customer(
    server: &TestServer,
    who: (&Session, &str),
    region: &str,
    when: &str,
) -> RecordId {
    let mut c = Customer::new(format!("客户 {region} {when}"), at(when));
    c.region = Some(region.into());
    c.salesperson = Some(who.1.into());
    push(server, who.0, &c).await
}

async fn visit(server: &TestServer, who: (&Session, &str), customer: RecordId, when: &str) {
    let mut v = Visit::new(customer, who.1.into(), chrono_tz::Asia::Shanghai, at(when));
    v.actual_at = Some(at(when));
    push(server, who.0, &v).await;
}

/// A quotation, built through serde so that fields added later (optional ones) default.
fn quotation(who: &str, customer: RecordId, status: QuoteStatus, total: (&str, &str)) -> Quotation {
    serde_json::from_value(serde_json::json!({
        "number": format!("Q-{}", RecordId::new()),
        "customer_id": customer,
        "salesperson": who,
        "currency": "CNY",
        "lines": lines(total.0, total.1),
        "valid_until": null,
        "delivery_terms": null,
        "payment_terms": null,
        "status": status,
        "notes": null,
        "created_at": "2026-11-10T03:00:00Z",
        "voided": null,
    }))
    .expect("a quotation")
}

#[allow(clippy::too_many_arguments)]
async fn order(
    server: &TestServer,
    who: (&Session, &str),
    customer: RecordId,
    status: OrderStatus,
    currency: Currency,
    total: (&str, &str),
    when: &str,
) {
    let mut q = quotation(who.1, customer, QuoteStatus::Accepted, total);
    q.currency = currency;
    let mut o = Order::from_quotation(
        RecordId::new(),
        &q,
        format!("O-{}", RecordId::new()),
        who.1.into(),
        at(when),
    );
    o.quotation_id = None;
    if status != OrderStatus::Paid {
        o.status = status;
        push(server, who.0, &o).await;
        return;
    }
    // Only finance marks an order paid: the salesperson invoices it, finance records payment.
    o.status = OrderStatus::Invoiced;
    let id = RecordId::new();
    let meta = shared::doc::CommitMeta::now("create");
    let mut doc = shared::doc::create(&who.0.actor, id, &o, &meta).expect("creates");
    let created = common::last_change(&mut doc, id);
    let finance = server.login("cash").await;
    doc.set_actor(finance.actor.clone());
    o.status = OrderStatus::Paid;
    shared::doc::update(&mut doc, &o, &meta).expect("updates");
    let paid = common::last_change(&mut doc, id);
    let answer = server
        .sync(who.0, 0, vec![created], DEFAULT_PULL_BUDGET)
        .await;
    assert!(answer.rejected.is_empty(), "{:?}", answer.rejected);
    let answer = server
        .sync(&finance, 0, vec![paid], DEFAULT_PULL_BUDGET)
        .await;
    assert!(answer.rejected.is_empty(), "{:?}", answer.rejected);
}

async fn rollup_json(server: &TestServer, who: &Session, query: &str) -> Value {
    let (status, _, body) =
        get_raw(server, &who.token, &format!("/v1/reports/rollup?{query}")).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    serde_json::from_slice(&body).expect("JSON")
}

fn amount(value: &Value) -> Decimal {
    dec(value.as_str().expect("amount is a string"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollup_figures_scope_and_formats() {
    let server = TestServer::start().await;
    server
        .state
        .admin()
        .import_toml(
            "[[user]]\nname = \"cash\"\nrole = \"finance\"\nterritory = \"CN\"\npassword = \"pw-cash\"\n",
        )
        .expect("imports");
    // These records carry fixed dates in November 2026 whatever day the test runs, as if their
    // laptops had been offline since then: the offline window is opened to its widest so that
    // this test is about binning and scope, not about whose clock is believed (tests/tests/clock.rs).
    server
        .state
        .admin()
        .set_max_offline_days(u64::from(shared::clock::MAX_OFFLINE_DAYS_LIMIT))
        .expect("sets the window");
    let sh1 = server.login("sh1").await;
    let sh2 = server.login("sh2").await;
    let hz1 = server.login("hz1").await;
    let bj1 = server.login("bj1").await;
    let boss = server.login("east.boss").await;
    let head = server.login("head").await;
    let (s1, s2, h1, b1) = ((&sh1, "sh1"), (&sh2, "sh2"), (&hz1, "hz1"), (&bj1, "bj1"));

    // November 2026, in two large regions.
    let a = customer(&server, s1, "EAST-SH", "2026-11-02T01:00:00Z").await;
    let c = customer(&server, s2, "EAST-SH", "2026-11-03T01:00:00Z").await;
    let d = customer(&server, h1, "EAST-HZ", "2026-11-04T01:00:00Z").await;
    let e = customer(&server, b1, "NORTH-BJ", "2026-11-05T01:00:00Z").await;
    // 17:00 UTC on 30 November is 1 December in Shanghai: next month.
    customer(&server, s1, "EAST-SH", "2026-11-30T17:00:00Z").await;
    visit(&server, s1, a, "2026-11-06T02:00:00Z").await;
    visit(&server, s1, a, "2026-11-07T02:00:00Z").await;
    visit(&server, h1, d, "2026-11-08T02:00:00Z").await;
    visit(&server, b1, e, "2026-11-08T02:00:00Z").await;
    visit(&server, s1, a, "2026-10-31T02:00:00Z").await; // October
    push(
        &server,
        &sh1,
        &quotation("sh1", a, QuoteStatus::Sent, ("3", "1000.10")),
    )
    .await;
    push(
        &server,
        &sh1,
        &quotation("sh1", a, QuoteStatus::Draft, ("1", "50")),
    )
    .await; // draft
    let nov = "2026-11-12T03:00:00Z";
    order(
        &server,
        s1,
        a,
        OrderStatus::Confirmed,
        Currency::CNY,
        ("3", "1000.10"),
        nov,
    )
    .await;
    order(
        &server,
        s1,
        a,
        OrderStatus::Paid,
        usd(),
        ("10", "12.5"),
        nov,
    )
    .await;
    order(
        &server,
        s1,
        a,
        OrderStatus::Cancelled,
        Currency::CNY,
        ("1", "9999"),
        nov,
    )
    .await;
    order(
        &server,
        s1,
        a,
        OrderStatus::Draft,
        Currency::CNY,
        ("1", "8888"),
        nov,
    )
    .await;
    order(
        &server,
        s2,
        c,
        OrderStatus::Delivered,
        Currency::CNY,
        ("2", "2500"),
        nov,
    )
    .await;
    order(
        &server,
        h1,
        d,
        OrderStatus::Invoiced,
        Currency::CNY,
        ("7", "100"),
        nov,
    )
    .await;
    order(
        &server,
        b1,
        e,
        OrderStatus::Confirmed,
        Currency::CNY,
        ("1", "999"),
        nov,
    )
    .await;

    // Totals computed here, independently of the rollup code.
    let east_cny = dec("3") * dec("1000.10") + dec("2") * dec("2500") + dec("7") * dec("100");
    let east_usd = dec("10") * dec("12.5");
    let east = rollup_json(&server, &boss, "node=EAST&period=month&date=2026-11-29").await;
    assert_eq!(east["node"], "EAST");
    assert_eq!(east["node_name"], "华东大区");
    assert_eq!(east["range"]["first"], "2026-11-01");
    assert_eq!(east["visits"], 3);
    assert_eq!(east["new_customers"], 3);
    assert_eq!(east["quotations"]["count"], 1);
    assert_eq!(
        amount(&east["quotations"]["amounts"]["CNY"]),
        dec("3000.30")
    );
    assert_eq!(east["orders"]["count"], 4);
    assert_eq!(amount(&east["orders"]["amounts"]["CNY"]), east_cny);
    assert_eq!(amount(&east["orders"]["amounts"]["USD"]), east_usd);
    assert_eq!(
        east["orders"]["amounts"].as_object().map(|m| m.len()),
        Some(2)
    );
    let cny: Vec<(String, Decimal)> = east["ranking"]["CNY"]
        .as_array()
        .expect("CNY ranking")
        .iter()
        .map(|r| {
            (
                r["salesperson"].as_str().unwrap_or_default().to_string(),
                amount(&r["amount"]),
            )
        })
        .collect();
    assert_eq!(
        cny,
        vec![
            ("sh2".into(), dec("5000")),
            ("sh1".into(), dec("3000.30")),
            ("hz1".into(), dec("700"))
        ]
    );
    assert_eq!(east["ranking"]["USD"][0]["salesperson"], "sh1");
    let people: Vec<&str> = east["people"]
        .as_array()
        .expect("people")
        .iter()
        .filter_map(|p| p["salesperson"].as_str())
        .collect();
    assert_eq!(people, vec!["hz1", "sh1", "sh2"]);

    // A region, the default node (the caller's territory), another period.
    let sh = rollup_json(&server, &sh1, "period=month&date=2026-11-01").await;
    assert_eq!(sh["node"], "EAST-SH");
    assert_eq!(
        (sh["visits"].as_u64(), sh["orders"]["count"].as_u64()),
        (Some(2), Some(3))
    );
    let december = rollup_json(&server, &sh1, "node=EAST-SH&period=month&date=2026-12-01").await;
    assert_eq!(december["new_customers"], 1);
    let whole = rollup_json(&server, &head, "node=CN&period=year&date=2026-06-01").await;
    assert_eq!(whole["orders"]["count"], 5);
    assert_eq!(whole["visits"], 5);

    // Scope: nobody sees outside their subtree; head office sees anything.
    for (who, query) in [
        (&sh1, "node=NORTH-BJ"),
        (&hz1, "node=EAST"),
        (&boss, "node=NORTH"),
    ] {
        let (status, _, body) =
            get_raw(&server, &who.token, &format!("/v1/reports/rollup?{query}")).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{query}");
        let body: Value = serde_json::from_slice(&body).expect("error JSON");
        assert!(
            body["message"]
                .as_str()
                .unwrap_or_default()
                .contains("outside your scope")
        );
    }
    for (query, expected) in [
        ("node=NOWHERE", StatusCode::NOT_FOUND),
        ("period=fortnight", StatusCode::BAD_REQUEST),
        ("date=2026-13-01", StatusCode::BAD_REQUEST),
        ("format=pdf", StatusCode::BAD_REQUEST),
    ] {
        let (status, _, _) =
            get_raw(&server, &head.token, &format!("/v1/reports/rollup?{query}")).await;
        assert_eq!(status, expected, "{query}");
    }
    let (status, _, _) = get_raw(&server, "not-a-token", "/v1/reports/rollup").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // CSV: header, and the order totals per currency, exact.
    let query = "/v1/reports/rollup?node=EAST&period=month&date=2026-11-29&format=csv";
    let (status, content_type, body) = get_raw(&server, &boss.token, query).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "text/csv; charset=utf-8");
    let text = String::from_utf8(body).expect("UTF-8");
    let mut lines = text.split("\r\n");
    assert_eq!(
        lines.next(),
        Some(shared::report::CSV_HEADER.join(",").as_str())
    );
    let expected =
        format!("EAST,month,2026-11-01,2026-11-30,summary,EAST,orders,CNY,4,{east_cny},");
    assert!(text.contains(&expected), "{text}");
    assert!(
        text.contains("ranking,sh2,orders,CNY,1,5000.00,1"),
        "{text}"
    );

    // XLSX, read back: a summary sheet people read, one row per node of the subtree with the
    // amounts as numbers in a money format, and the long list with numeric amounts too.
    let query = query.replace("format=csv", "format=xlsx");
    let (status, content_type, body) = get_raw(&server, &boss.token, &query).await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.contains("spreadsheetml"), "{content_type}");
    let book = xlsx::Book::read(body);
    assert_eq!(book.sheet_names(), ["汇总 Summary", "rollup"]);
    assert!(
        book.part("xl/styles.xml")
            .contains(r##"formatCode="#,##0.00""##)
    );
    let summary = book.sheet(1);
    let header = summary.row(1);
    assert_eq!(header[0], xlsx::Cell::Text("Node 节点".into()));
    let ordered_cny = header
        .iter()
        .position(|c| *c == xlsx::Cell::Text("Ordered 订单金额 CNY".into()))
        .expect("an order amount column in CNY");
    let codes: Vec<xlsx::Cell> = (2..=summary.last_row())
        .map(|r| summary.row(r)[0].clone())
        .collect();
    assert_eq!(codes[0], xlsx::Cell::Text("EAST".into()), "{codes:?}");
    assert!(
        codes.len() > 1,
        "one row per node of the subtree: {codes:?}"
    );
    let east = summary.row(2);
    let expected = east_cny.to_string().parse::<f64>().expect("a number");
    assert_eq!(east[ordered_cny], xlsx::Cell::Number(expected), "{east:?}");
    assert!(summary.money_styled(2, ordered_cny), "{east:?}");
    assert!(summary.xml.contains(r#"state="frozen""#), "frozen header");
    // The name column fits 华东大区 (8 display columns), CJK counting double.
    assert!(
        summary.width(1).is_some_and(|w| w >= 8.0),
        "{:?}",
        summary.width(1)
    );

    let list = book.sheet(2);
    let orders_cny = (2..=list.last_row())
        .map(|r| list.row(r))
        .find(|row| {
            row[4] == xlsx::Cell::Text("summary".into())
                && row[6] == xlsx::Cell::Text("orders".into())
                && row[7] == xlsx::Cell::Text("CNY".into())
        })
        .expect("the CNY orders row");
    assert_eq!(orders_cny[9], xlsx::Cell::Number(expected));
    assert!((2..=list.last_row()).all(|r| !matches!(list.row(r)[9], xlsx::Cell::Text(_))));

    server.stop().await;
}

fn usd() -> Currency {
    "USD".parse().expect("USD")
}

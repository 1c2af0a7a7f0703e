//! Offline reports end to end: a manager's laptop, after sync, reports exactly what the server
//! reports for the same node and period.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use chrono::{Duration, Utc};
use fieldsync_tests::Laptop;
use fieldsync_tests::server::TestServer;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_fieldsync-e2e-laptop");

fn laptop(server: &TestServer, user: &str, password: &str) -> Laptop {
    let laptop = Laptop::new(BIN, user, &format!("laptop-{user}"));
    laptop.login(&server.url(), user, password);
    laptop
}

/// A minimal HTTP/1.1 exchange (the test crate has no HTTP client): status and body.
fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connects");
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{auth}\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("sends");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("reads");
    let (head, body) = answer.split_once("\r\n\r\n").expect("a complete answer");
    assert!(!head.to_ascii_lowercase().contains("chunked"), "{head}");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    (status, body.to_string())
}

fn server_login(server: &TestServer, user: &str, password: &str) -> String {
    let body = json!({"user": user, "password": password, "device": "report-test",
                      "actor": "0123456789abcdef0123456789abcdef"})
    .to_string();
    let (status, body) = http(server.addr, "POST", "/v1/login", None, &body);
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).expect("JSON");
    body["token"].as_str().expect("token").to_string()
}

/// A customer in `region` with a visit today, and a quotation sent and turned into a confirmed
/// order of `qty` × `price` (and a second, draft quotation that must not count).
fn sell(laptop: &Laptop, region: &str, name: &str, qty: &str, price: &str, today: &str) {
    let customer = laptop.create(&["customer", "add", name, "--region", region]);
    laptop.create(&[
        "visit",
        "add",
        "--customer",
        &customer,
        "--at",
        &format!("{today} 10:00"),
    ]);
    let quote = laptop.create(&["quote", "new", "--customer", &customer]);
    laptop.ok(&[
        "quote",
        "add-line",
        &quote,
        "--product",
        "BEER",
        "--qty",
        qty,
        "--price",
        price,
    ]);
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
    laptop.ok(&["quote", "edit", &quote, "--status", "sent"]);
    let order = laptop.create(&["order", "from-quote", &quote]);
    laptop.ok(&["order", "edit", &order, "--status", "confirmed"]);
    let draft = laptop.create(&["quote", "new", "--customer", &customer]);
    laptop.ok(&[
        "quote",
        "add-line",
        &draft,
        "--product",
        "BEER",
        "--qty",
        "1",
        "--price",
        "5",
    ]);
}

#[test]
fn a_managers_laptop_reports_what_the_server_reports() {
    let server = TestServer::start();
    // Creation instants are "now"; the reporting zone is Shanghai, UTC+8 all year.
    let today = (Utc::now() + Duration::hours(8)).date_naive().to_string();
    let zhang = laptop(&server, "zhang.wei", "pw-zhang");
    let li = laptop(&server, "li.na", "pw-li");
    let chen = laptop(&server, "chen.hz", "pw-chen");
    let wang = laptop(&server, "wang.gz", "pw-wang");
    sell(&zhang, "EAST-SH", "上海甲公司", "3", "1000.10", &today);
    sell(&zhang, "EAST-SH", "上海乙公司", "1", "19.99", &today);
    sell(&li, "EAST-SH", "上海丙公司", "2", "2500", &today);
    sell(&chen, "EAST-HZ", "杭州丁公司", "7", "100", &today);
    sell(&wang, "SOUTH-GZ", "广州戊公司", "1", "999", &today);
    for laptop in [&zhang, &li, &chen, &wang] {
        laptop.sync();
    }
    let boss = laptop(&server, "east.boss", "pw-boss");
    boss.sync();
    let token = server_login(&server, "east.boss", "pw-boss");

    for node in ["EAST-SH", "EAST-HZ"] {
        let query = format!("node={node}&period=month&date={today}");
        let (status, body) = http(
            server.addr,
            "GET",
            &format!("/v1/reports/rollup?{query}"),
            Some(&token),
            "",
        );
        assert_eq!(status, 200, "{body}");
        let from_server: Value = serde_json::from_str(&body).expect("JSON");
        let args = [
            "report", "--node", node, "--period", "month", "--date", &today,
        ];
        let mut offline = boss.json(&args);
        // The laptop holds no territory names: its nodes are named by their codes. Every
        // figure must be equal.
        assert_eq!(offline["node_name"], node);
        offline["node_name"] = from_server["node_name"].clone();
        assert_eq!(offline, from_server, "{node}");
        // The CSV carries no names: it is equal byte for byte.
        let (status, csv) = http(
            server.addr,
            "GET",
            &format!("/v1/reports/rollup?{query}&format=csv"),
            Some(&token),
            "",
        );
        assert_eq!(status, 200);
        let mut csv_args = args.to_vec();
        csv_args.push("--csv");
        assert_eq!(boss.ok(&csv_args), csv, "{node}");
    }

    // The figures themselves, against totals computed here.
    let sh = boss.json(&[
        "report", "--node", "EAST-SH", "--period", "month", "--date", &today,
    ]);
    assert_eq!(sh["visits"], 3);
    assert_eq!(sh["new_customers"], 3);
    assert_eq!(sh["quotations"]["count"], 3, "drafts do not count");
    assert_eq!(sh["orders"]["count"], 3);
    let d = |text: &str| rust_decimal::Decimal::from_str_exact(text).expect("decimal");
    let zhang_total = d("3") * d("1000.10") + d("0.1") + d("19.99") + d("0.1");
    let li_total = d("2") * d("2500") + d("0.1");
    let amount = |value: &Value| d(value.as_str().expect("an amount"));
    assert_eq!(
        amount(&sh["orders"]["amounts"]["CNY"]),
        zhang_total + li_total
    );
    assert_eq!(amount(&sh["ranking"]["CNY"][1]["amount"]), zhang_total);
    assert_eq!(sh["ranking"]["CNY"][0]["salesperson"], "li.na");
    // The manager's laptop holds nothing of the south; the whole of what it holds is EAST's.
    let all = boss.json(&[
        "report", "--node", "ALL", "--period", "month", "--date", &today,
    ]);
    assert_eq!(all["orders"]["count"], 4);
    assert!(
        boss.fails(&["report", "--node", "SOUTH-GZ"])
            .contains("SOUTH-GZ")
    );
    let table = boss.ok(&["report", "--node", "EAST-SH", "--date", &today]);
    assert!(
        table.contains("li.na") && table.contains(&(zhang_total + li_total).to_string()),
        "{table}"
    );
}

/// A 窜货 flag involves two regions and is one flag document filed under both: the offline
/// warning names it before sync, and after sync the laptop's rollups count it as the server's
/// do — once under each region, once in the totals.
#[test]
fn a_flag_in_two_regions_counts_once_on_the_laptop_as_on_the_server() {
    let server = TestServer::start();
    let today = (Utc::now() + Duration::hours(8)).date_naive().to_string();
    // Head office records the dealer and the regions it may sell into (no manager may).
    let hq = laptop(&server, "hq", "pw-hq");
    let dealer = hq.create(&[
        "dealer",
        "add",
        "杭州经销商",
        "--region",
        "EAST-HZ",
        "--authorised",
        "EAST-HZ",
    ]);
    assert_eq!(hq.sync()["rejected"], 0);
    let boss = laptop(&server, "east.boss", "pw-boss");
    boss.sync();
    boss.create(&["customer", "add", "杭州甲公司", "--region", "EAST-HZ"]);
    let customer = boss.create(&["customer", "add", "上海甲公司", "--region", "EAST-SH"]);
    let quote = boss.create(&["quote", "new", "--customer", &customer]);
    boss.ok(&[
        "quote",
        "add-line",
        &quote,
        "--product",
        "BEER",
        "--qty",
        "2",
        "--price",
        "50",
    ]);
    let order = boss.json(&["order", "from-quote", &quote, "--dealer", &dealer]);
    assert_eq!(order["warnings"][0]["type"], "cross_region_sale", "{order}");
    boss.ok(&[
        "order",
        "edit",
        order["id"].as_str().expect("id"),
        "--status",
        "confirmed",
    ]);
    boss.sync();
    boss.sync();
    let token = server_login(&server, "east.boss", "pw-boss");
    let from_server = |node: &str| -> Value {
        let path = format!("/v1/reports/rollup?node={node}&period=month&date={today}");
        let (status, body) = http(server.addr, "GET", &path, Some(&token), "");
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).expect("JSON")
    };
    let offline = |node: &str| {
        boss.json(&[
            "report", "--node", node, "--period", "month", "--date", &today,
        ])
    };
    for node in ["EAST-SH", "EAST-HZ"] {
        let (server, laptop) = (from_server(node), offline(node));
        assert_eq!(laptop["flag_totals"], server["flag_totals"], "{node}");
        assert_eq!(laptop["flags"], server["flags"], "{node}");
        assert_eq!(laptop["flag_totals"]["cross_region_sale"], 1, "{node}");
    }
    // The laptop has no large-region node; its root holds exactly what EAST holds.
    let (east, all) = (from_server("EAST"), offline("ALL"));
    assert_eq!(east["flag_totals"]["cross_region_sale"], 1, "{east}");
    assert_eq!(all["flag_totals"], east["flag_totals"]);
    assert_eq!(all["flags"], east["flags"]);
}

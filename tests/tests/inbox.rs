//! Flags on the laptop end to end: offline warnings at the moment of entry, the server's flags
//! arriving by sync, handling them (ack/resolve) and seeing another laptop's handling, field
//! conflicts in the same inbox, and the flags section of an offline report equal to the
//! server's.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Output;

use chrono::{Duration, Utc};
use fieldsync_tests::Laptop;
use fieldsync_tests::server::TestServer;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_fieldsync-e2e-laptop");
const TAX_ID: &str = "91310000132200821H";

fn laptop(server: &TestServer, user: &str, password: &str) -> Laptop {
    let laptop = Laptop::new(BIN, user, &format!("laptop-{user}"));
    laptop.login(&server.url(), user, password);
    laptop
}

/// A minimal HTTP/1.1 exchange (the test crate has no HTTP client): status and body.
fn http(addr: SocketAddr, method: &str, path: &str, token: Option<&str>, body: &str) -> String {
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
    assert!(head.starts_with("HTTP/1.1 200"), "{head}\n{body}");
    body.to_string()
}

/// The flags this laptop lists (`--all` includes resolved ones).
fn flags(laptop: &Laptop, all: bool) -> Vec<Value> {
    let mut args = vec!["flags", "list"];
    if all {
        args.push("--all");
    }
    laptop.json(&args).as_array().cloned().unwrap_or_default()
}

fn of_kind(rows: &[Value], kind: &str) -> Vec<Value> {
    rows.iter().filter(|f| f["kind"] == kind).cloned().collect()
}

fn inbox(laptop: &Laptop) -> Vec<Value> {
    laptop
        .json(&["inbox"])
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn flags_reach_the_inbox_are_handled_and_counted_in_reports() {
    let server = TestServer::start();
    let zhang = laptop(&server, "zhang.wei", "pw-zhang");
    let li = laptop(&server, "li.na", "pw-li");

    // Offline: the same customer entered twice on one laptop warns at once (a near-miss with a
    // different tax id and name does not), and a discount beyond a salesperson's 10 % warns on
    // the line, before any sync; both records are saved.
    let mine = zhang.create(&[
        "customer",
        "add",
        "上海华东食品有限公司",
        "--region",
        "EAST-SH",
        "--tax-id",
        TAX_ID,
    ]);
    let near = zhang.json(&[
        "customer",
        "add",
        "上海华南食品",
        "--region",
        "EAST-SH",
        "--tax-id",
        "91310000132200822J",
    ]);
    assert_eq!(near["warnings"], json!([]), "{near}");
    let quote = zhang.create(&["quote", "new", "--customer", &mine]);
    let line = [
        "quote",
        "add-line",
        &quote,
        "--product",
        "BEER",
        "--qty",
        "10",
        "--price",
        "100",
        "--discount",
        "18",
    ];
    let output = zhang.run(&line);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("provisional") && stderr(&output).contains("Beyond authority"),
        "{}",
        stderr(&output)
    );
    let shown = zhang.json(&["quote", "show", &quote]);
    assert_eq!(shown["lines"][0]["discount_pct"], "18", "the line is saved");
    let again = zhang.json(&["quote", "edit", &quote, "--status", "sent"]);
    assert_eq!(again["warnings"][0]["type"], "beyond_authority", "{again}");
    assert_eq!(again["warnings"][0]["provisional"], true);

    // Offline on the other laptop: the same company, by tax id. Li's laptop does not hold
    // Zhang's customer yet, so no warning there; the server's verdict counts.
    let theirs = li.json(&[
        "customer",
        "add",
        "上海华东食品",
        "--region",
        "EAST-SH",
        "--tax-id",
        TAX_ID,
    ]);
    assert_eq!(theirs["warnings"], json!([]), "{theirs}");
    let theirs = theirs["id"].as_str().expect("id").to_string();

    for laptop in [&zhang, &li, &zhang] {
        laptop.sync();
    }
    // After sync: the server's duplicate flag on both laptops (flags list and inbox), and its
    // authority flag for the quotation.
    for laptop in [&zhang, &li] {
        let dup = of_kind(&flags(laptop, false), "duplicate_customer");
        assert_eq!(dup.len(), 1, "{dup:?}");
        let records: Vec<&str> = dup[0]["records"]
            .as_array()
            .expect("records")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(records.contains(&mine.as_str()) && records.contains(&theirs.as_str()));
        assert_eq!(dup[0]["status"], "open");
        assert!(
            inbox(laptop)
                .iter()
                .any(|i| i["type"] == "flag" && i["id"] == dup[0]["id"])
        );
    }
    let authority = of_kind(&flags(&zhang, false), "beyond_authority");
    assert_eq!(authority.len(), 1, "the server flags the quotation too");
    assert_eq!(authority[0]["records"][0], quote.as_str());

    // Zhang, a salesperson, may not rule on the dispute: resolved on the laptop, it is refused
    // on sync with a reason in both languages, and the flag stays open.
    let dup_id = of_kind(&flags(&zhang, false), "duplicate_customer")[0]["id"]
        .as_str()
        .expect("flag id")
        .to_string();
    zhang.ok(&["flags", "resolve", &dup_id, "--note", "我的客户"]);
    zhang.sync();
    let refused = zhang.json(&["rejected", "list"]);
    let refused = refused.as_array().expect("rows");
    assert!(
        refused.iter().any(|r| r["code"] == "flag_not_allowed"
            && r["reason"]
                .as_str()
                .is_some_and(|t| t.contains("只有") && t.contains("only"))),
        "{refused:?}"
    );
    // The region's manager resolves it with a note (a note is required); Li sees it resolved.
    let boss = laptop(&server, "east.boss", "pw-boss");
    boss.sync();
    assert!(
        boss.fails(&["flags", "resolve", &dup_id, "--note", " "])
            .contains("note")
    );
    boss.ok(&["flags", "ack", &dup_id]);
    boss.ok(&[
        "flags",
        "resolve",
        &dup_id,
        "--note",
        "同一家公司：保留张伟的档案",
    ]);
    assert!(of_kind(&flags(&boss, false), "duplicate_customer").is_empty());
    boss.sync();
    li.sync();
    assert!(of_kind(&flags(&li, false), "duplicate_customer").is_empty());
    let resolved = of_kind(&flags(&li, true), "duplicate_customer");
    assert_eq!(resolved[0]["status"], "resolved");
    assert_eq!(resolved[0]["handled_by"], "east.boss");
    assert_eq!(resolved[0]["note"], "同一家公司：保留张伟的档案");
    assert!(li.fails(&["flags", "ack", &dup_id]).contains("resolved"));

    // A field conflict: zhang and the manager both edit the phone of zhang's customer offline
    // (a colleague cannot: rule 2 keeps li.na's laptop to her own customers). It shows in the
    // inbox next to the open authority flag.
    let boss = laptop(&server, "east.boss", "pw-boss");
    boss.sync();
    zhang.ok(&["customer", "edit", &mine, "--phone", "021-11111111"]);
    boss.ok(&["customer", "edit", &mine, "--phone", "021-22222222"]);
    for laptop in [&zhang, &boss, &zhang] {
        laptop.sync();
    }
    let items = inbox(&zhang);
    let conflict = items
        .iter()
        .find(|i| i["type"] == "conflict")
        .unwrap_or_else(|| panic!("no conflict in {items:?}"));
    assert_eq!(conflict["id"], mine.as_str());
    assert_eq!(conflict["field"], "basics.phone");
    assert!(
        items
            .iter()
            .any(|i| i["type"] == "flag" && i["kind"] == "beyond_authority")
    );
    let table = zhang.ok(&["inbox"]);
    assert!(
        table.contains("field conflict") && table.contains("flag"),
        "{table}"
    );

    // The manager's laptop reports the same flags as the server for the same node.
    boss.sync();
    let login = json!({"user": "east.boss", "password": "pw-boss", "device": "inbox-test",
                       "actor": "0123456789abcdef0123456789abcdef"});
    let login: Value = serde_json::from_str(&http(
        server.addr,
        "POST",
        "/v1/login",
        None,
        &login.to_string(),
    ))
    .expect("JSON");
    let token = login["token"].as_str().expect("token");
    let today = (Utc::now() + Duration::hours(8)).date_naive().to_string();
    let path = format!("/v1/reports/rollup?node=EAST-SH&period=month&date={today}");
    let from_server: Value =
        serde_json::from_str(&http(server.addr, "GET", &path, Some(token), "")).expect("JSON");
    let offline = boss.json(&[
        "report", "--node", "EAST-SH", "--period", "month", "--date", &today,
    ]);
    assert_eq!(offline["flag_totals"], from_server["flag_totals"]);
    assert_eq!(offline["flags"], from_server["flags"]);
    assert_eq!(offline["flag_totals"]["duplicate_customer"], 1, "{offline}");
    assert_eq!(offline["flag_totals"]["beyond_authority"], 1, "{offline}");
    let zhang_report = zhang.json(&[
        "report", "--node", "EAST-SH", "--period", "month", "--date", &today,
    ]);
    assert_eq!(zhang_report["flags"], from_server["flags"]);
}

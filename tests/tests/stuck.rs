//! No laptop stuck for good: a pulled change a laptop cannot apply is set aside in quarantine
//! with its reason, the rest of the page applies and the cursor moves; a page too large for the
//! laptop is asked for again in smaller pages. Real server, real laptops; the bad changes are
//! made by real means (a damaged local store, changes written into the server's log).

#![allow(clippy::unwrap_used)] // Test helpers outside #[test] functions unwrap too.

use automerge::{AutoCommit, ObjType, ROOT, ReadDoc, transaction::Transactable};
use fieldsync_tests::Laptop;
use fieldsync_tests::server::TestServer;
use rusqlite::Connection;
use serde_json::Value;
use server::store::log::{self, Author};

const BIN: &str = env!("CARGO_BIN_EXE_fieldsync-e2e-laptop");

/// Two laptops of one salesperson, so that each sees the other's records whatever the scope
/// rules say.
fn two_laptops(server: &TestServer) -> (Laptop, Laptop) {
    let make = |device: &str| {
        let laptop = Laptop::new(BIN, "zhang.wei", device);
        laptop.login(&server.url(), "zhang.wei", "pw-zhang");
        laptop
    };
    (make("zhang-desk"), make("zhang-road"))
}

fn add_customer(laptop: &Laptop, name: &str) -> String {
    laptop.create(&["customer", "add", name, "--region", "EAST-SH"])
}

fn phone(laptop: &Laptop, id: &str) -> Value {
    laptop.json(&["customer", "show", id])["basics"]["phone"].clone()
}

/// Writes a change into the server's log as if it had been accepted.
fn append_to_log(server: &TestServer, doc_id: &str, hash: &[u8], bytes: &[u8]) {
    let conn = Connection::open(server.db_path()).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .unwrap();
    let author = Author {
        actor: "00",
        user: "zhang.wei",
        device: "zhang-desk",
    };
    log::append_change(&conn, hash, doc_id, "EAST-SH", author, bytes).unwrap();
    // The server files a document's owner beside its territory (rule 2: zhang.wei's customer).
    conn.execute(
        "UPDATE changes SET owner = 'zhang.wei' WHERE hash = ?1",
        [hash],
    )
    .unwrap();
}

/// A second change by the author and with the sequence number of the document's latest change
/// (what a server writing without a transaction once produced): Automerge refuses it.
fn same_sequence_number(server: &TestServer, doc_id: &str) -> (Vec<u8>, Vec<u8>) {
    let conn = Connection::open(server.db_path()).unwrap();
    let snapshot: Vec<u8> = conn
        .query_row(
            "SELECT snapshot FROM documents WHERE doc_id = ?1",
            [doc_id],
            |r| r.get(0),
        )
        .unwrap();
    let mut document = AutoCommit::load(&snapshot).unwrap();
    let latest = document.get_changes(&[]).last().cloned().unwrap();
    let mut fork = document
        .fork_at(latest.deps())
        .unwrap()
        .with_actor(latest.actor_id().clone());
    let basics = match fork.get(ROOT, "basics").unwrap() {
        Some((automerge::Value::Object(ObjType::Map), id)) => id,
        other => panic!("no basics map: {other:?}"),
    };
    fork.put(&basics, "phone", "021-0000-forged").unwrap();
    fork.commit();
    let forged = fork.get_last_local_change().unwrap();
    assert_eq!(forged.seq(), latest.seq());
    assert_ne!(forged.hash(), latest.hash());
    (forged.hash().0.to_vec(), forged.raw_bytes().to_vec())
}

fn quarantined_changes(laptop: &Laptop) -> Vec<Value> {
    laptop
        .json(&["inbox"])
        .as_array()
        .unwrap()
        .iter()
        .filter(|row| row["type"] == "quarantined_change")
        .cloned()
        .collect()
}

fn server_last_seq(server: &TestServer) -> u64 {
    let conn = Connection::open(server.db_path()).unwrap();
    conn.query_row("SELECT MAX(seq) FROM changes", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn changes_that_cannot_be_applied_are_set_aside_and_the_rest_of_the_page_applies() {
    let server = TestServer::start();
    let (desk, road) = two_laptops(&server);
    let twice = add_customer(&desk, "上海浦江贸易有限公司");
    let garbled = add_customer(&desk, "上海徐汇食品有限公司");
    desk.ok(&["customer", "edit", &twice, "--phone", "021-1111"]);
    desk.sync();
    road.sync();

    // Two bad changes in the log: one reusing an author's sequence number, one unparsable.
    let (hash, bytes) = same_sequence_number(&server, &twice);
    append_to_log(&server, &twice, &hash, &bytes);
    append_to_log(&server, &garbled, &[0xab; 32], b"not an automerge change");
    // Good changes after them, in the same page, to the same documents too.
    desk.ok(&["customer", "edit", &twice, "--address", "上海市浦东新区"]);
    desk.ok(&["customer", "edit", &garbled, "--phone", "021-2222"]);
    let later = add_customer(&desk, "上海静安商贸有限公司");
    desk.sync();

    let report = road.sync();
    assert_eq!(report["quarantined"], 2, "{report}");
    assert_eq!(phone(&road, &garbled), "021-2222");
    assert!(road.customer_ids().contains(&later));
    assert_eq!(
        phone(&road, &twice),
        "021-1111",
        "the clashing change is not applied"
    );
    let shown = road.json(&["customer", "show", &twice]);
    assert_eq!(
        shown["basics"]["address"], "上海市浦东新区",
        "its good sibling is"
    );
    let status = road.json(&["status"]);
    assert_eq!(
        status["cursor"],
        server_last_seq(&server),
        "the cursor moved"
    );
    assert_eq!(status["quarantined_changes"], 2);
    let held = quarantined_changes(&road);
    let reason_of = |id: &str| {
        held.iter()
            .find(|row| row["id"] == id)
            .map(|row| row["kind"].clone())
    };
    assert_eq!(
        reason_of(&twice),
        Some("conflicting_change".into()),
        "{held:?}"
    );
    assert_eq!(
        reason_of(&garbled),
        Some("unreadable_change".into()),
        "{held:?}"
    );
    // The bytes are kept.
    let conn = Connection::open(road.home().join("fieldsync.db")).unwrap();
    let kept: Vec<u8> = conn
        .query_row(
            "SELECT bytes FROM quarantined_changes WHERE doc_id = ?1",
            [&twice],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(kept, bytes);

    // Later syncs go on, and the other records keep flowing both ways.
    desk.ok(&["customer", "edit", &later, "--phone", "021-3333"]);
    desk.sync();
    let report = road.sync();
    assert_eq!(report["quarantined"], 0, "{report}");
    assert_eq!(phone(&road, &later), "021-3333");
    road.ok(&["customer", "edit", &garbled, "--phone", "021-4444"]);
    road.sync();
    desk.sync();
    assert_eq!(phone(&desk, &garbled), "021-4444");
    assert_eq!(
        quarantined_changes(&road).len(),
        2,
        "set aside, never dropped"
    );
}

#[test]
fn a_record_this_laptop_cannot_read_does_not_stop_the_pull_and_catches_up_once_repaired() {
    let server = TestServer::start();
    let (desk, road) = two_laptops(&server);
    let damaged = add_customer(&desk, "苏州姑苏食品有限公司");
    let healthy = add_customer(&desk, "无锡太湖饮料有限公司");
    desk.sync();
    road.sync();

    // Damage the road laptop's copy of one record.
    let db = road.home().join("fieldsync.db");
    let conn = Connection::open(&db).unwrap();
    let snapshot: Vec<u8> = conn
        .query_row(
            "SELECT snapshot FROM documents WHERE doc_id = ?1",
            [&damaged],
            |r| r.get(0),
        )
        .unwrap();
    conn.execute(
        "UPDATE documents SET snapshot = substr(snapshot, 1, 40) WHERE doc_id = ?1",
        [&damaged],
    )
    .unwrap();
    drop(conn);

    desk.ok(&["customer", "edit", &damaged, "--phone", "0512-1"]);
    desk.ok(&["customer", "edit", &healthy, "--phone", "0510-1"]);
    desk.sync();
    let report = road.sync();
    assert_eq!(report["quarantined"], 1, "{report}");
    assert_eq!(phone(&road, &healthy), "0510-1");
    let status = road.json(&["status"]);
    assert_eq!(status["cursor"], server_last_seq(&server));
    assert_eq!(status["quarantined"], 1);
    let inbox = road.json(&["inbox"]);
    let types: Vec<&str> = inbox
        .as_array()
        .unwrap()
        .iter()
        .filter(|row| row["id"] == damaged.as_str())
        .filter_map(|row| row["type"].as_str())
        .collect();
    assert!(types.contains(&"quarantined_record"), "{inbox}");
    assert!(types.contains(&"quarantined_change"), "{inbox}");
    desk.ok(&["customer", "edit", &healthy, "--phone", "0510-2"]);
    desk.sync();
    road.sync();
    assert_eq!(phone(&road, &healthy), "0510-2");

    // Once the copy is repaired, the next sync applies what was set aside.
    let conn = Connection::open(&db).unwrap();
    conn.execute(
        "UPDATE documents SET snapshot = ?2 WHERE doc_id = ?1",
        rusqlite::params![damaged, snapshot],
    )
    .unwrap();
    conn.execute("DELETE FROM quarantine WHERE doc_id = ?1", [&damaged])
        .unwrap();
    drop(conn);
    let report = road.sync();
    assert_eq!(report["recovered"], 1, "{report}");
    assert_eq!(phone(&road, &damaged), "0512-1");
    assert!(quarantined_changes(&road).is_empty());
}

#[test]
fn a_change_for_a_record_never_seen_waits_for_its_first_change_and_is_never_guessed() {
    let server = TestServer::start();
    let (desk, road) = two_laptops(&server);
    add_customer(&desk, "杭州西湖茶业有限公司");
    desk.sync();
    road.sync();
    let records_before = road.json(&["status"])["records"].clone();

    // The desk makes a customer and edits it offline; only the edit reaches the log.
    let orphan = add_customer(&desk, "南京金陵贸易有限公司");
    desk.ok(&["customer", "edit", &orphan, "--phone", "025-1"]);
    let conn = Connection::open(desk.home().join("fieldsync.db")).unwrap();
    let queued: Vec<Vec<u8>> = conn
        .prepare("SELECT bytes FROM outbox WHERE doc_id = ?1 ORDER BY id")
        .unwrap()
        .query_map([&orphan], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    drop(conn);
    assert_eq!(queued.len(), 2);
    let edit = automerge::Change::from_bytes(queued[1].clone()).unwrap();
    append_to_log(&server, &orphan, &edit.hash().0, &queued[1]);

    let report = road.sync();
    let status = road.json(&["status"]);
    assert_eq!(
        status["records"], records_before,
        "no record guessed into being"
    );
    assert_eq!(report["quarantined"], 1, "{report}");
    assert_eq!(status["cursor"], server_last_seq(&server));
    assert!(!road.customer_ids().contains(&orphan));
    let held = quarantined_changes(&road);
    assert_eq!(held.len(), 1);
    assert_eq!(held[0]["id"], orphan.as_str());
    assert_eq!(held[0]["kind"], "unknown_kind");

    // The first change arrives: the record appears with the edit that waited for it.
    desk.sync();
    road.sync();
    assert!(road.customer_ids().contains(&orphan));
    assert_eq!(phone(&road, &orphan), "025-1");
    assert!(quarantined_changes(&road).is_empty());
}

/// Printable ASCII from a fixed-seed generator: text that hardly compresses.
fn noise(seed: u64, len: usize) -> String {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            char::from(b'!' + (state % 94) as u8)
        })
        .collect()
}

#[test]
fn a_page_larger_than_the_laptop_accepts_is_asked_for_again_in_smaller_pages() {
    // The server will send pages up to 64 MiB; the laptop accepts at most 32 MiB inflated.
    let server = TestServer::start_with(server::Config {
        pull_budget_max: 64 * 1024 * 1024,
        ..server::Config::default()
    });
    let (desk, road) = two_laptops(&server);
    // Sixteen customers of about 3 MiB each: together well past 32 MiB.
    let mut store = client::store::Store::open_home(desk.home()).unwrap();
    let mut ids = Vec::new();
    for n in 0..16u64 {
        let mut customer =
            shared::domain::Customer::new(format!("上海大件{n}号有限公司"), chrono::Utc::now());
        customer.region = Some("EAST-SH".into());
        customer.salesperson = Some("zhang.wei".into());
        customer.basics.address = Some(noise(n + 1, 3 * 1024 * 1024));
        ids.push(store.create(&customer, "add customer").unwrap().to_string());
    }
    drop(store);
    desk.sync();

    let report = road.json(&["sync", "--page-bytes", "67108864"]);
    assert!(report["retries"].as_u64().unwrap() >= 1, "{report}");
    assert!(report["round_trips"].as_u64().unwrap() >= 2, "{report}");
    let mut held = road.customer_ids();
    ids.sort();
    held.retain(|id| ids.contains(id));
    assert_eq!(held, ids);
    assert_eq!(road.json(&["status"])["cursor"], server_last_seq(&server));
}

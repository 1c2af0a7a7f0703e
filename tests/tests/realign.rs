//! Realignment end to end: a salesperson moved to another region while offline with edits, and
//! a duplicate customer merged while a laptop was offline editing it. Real server, real laptops.

#![allow(clippy::unwrap_used)] // Test helpers outside #[test] functions unwrap too.

use fieldsync_tests::Laptop;
use fieldsync_tests::server::TestServer;
use serde_json::Value;
use shared::RecordId;

const BIN: &str = env!("CARGO_BIN_EXE_fieldsync-e2e-laptop");

fn laptop(server: &TestServer, user: &str, password: &str) -> Laptop {
    let laptop = Laptop::new(BIN, user, &format!("{user}-laptop"));
    laptop.login(&server.url(), user, password);
    laptop
}

fn len(value: &Value) -> usize {
    value.as_array().map_or(0, Vec::len)
}

#[test]
fn a_salesperson_moved_while_offline_has_edits_judged_then_the_old_region_purged() {
    let server = TestServer::start();
    let zhang = laptop(&server, "zhang.wei", "pw-zhang");
    let li = laptop(&server, "li.na", "pw-li");
    let chen = laptop(&server, "chen.hz", "pw-chen");
    let shanghai = zhang.create(&[
        "customer",
        "add",
        "上海东方贸易有限公司",
        "--region",
        "EAST-SH",
    ]);
    zhang.create(&["visit", "add", "--customer", &shanghai, "--purpose", "首访"]);
    let hangzhou = chen.create(&[
        "customer",
        "add",
        "杭州西湖茶业有限公司",
        "--region",
        "EAST-HZ",
    ]);
    chen.ok(&["customer", "edit", &hangzhou, "--phone", "0571-1"]);
    zhang.sync();
    chen.sync();
    li.sync();

    // Offline, zhang edits the Shanghai customer; head office moves zhang to Hangzhou.
    zhang.ok(&["customer", "edit", &shanghai, "--phone", "021-9999"]);
    assert_eq!(zhang.json(&["status"])["pending_changes"], 1);
    let moved = server
        .state()
        .admin()
        .move_user("zhang.wei", "EAST-HZ", None)
        .unwrap();
    assert!(moved);

    // On sync the edit is judged by the rule in force (refused: no longer in scope) and shown;
    // only then is the old region purged. Hangzhou's customers are chen.hz's (rule 2: 客户归属)
    // until the manager hands one to zhang; then it arrives whole.
    let report = zhang.sync();
    assert_eq!(report["rejected"], 1, "{report}");
    assert_eq!(report["purged"], 2, "the customer and its visit: {report}");
    let refused = zhang.json(&["rejected", "list"]);
    assert_eq!(refused[0]["id"], shanghai.as_str());
    assert_eq!(refused[0]["code"], "out_of_scope");
    assert!(zhang.customer_ids().is_empty());
    let state = server.state();
    let admin = state.admin();
    admin
        .assign_customer(hangzhou.parse().unwrap(), "zhang.wei")
        .unwrap();
    zhang.sync();
    assert_eq!(zhang.customer_ids(), vec![hangzhou.clone()]);
    assert_eq!(
        zhang.json(&["customer", "show", &hangzhou])["basics"]["phone"],
        "0571-1"
    );
    assert_eq!(len(&zhang.json(&["history", &hangzhou])), 2);
    assert_eq!(zhang.json(&["status"])["pending_changes"], 0);

    // The refused edit did not reach the server; Shanghai's records stay with Shanghai, and
    // reach li.na's laptop when the manager hands them over (业务交接).
    li.sync();
    assert!(li.customer_ids().is_empty());
    admin
        .assign_customer(shanghai.parse().unwrap(), "li.na")
        .unwrap();
    li.sync();
    assert_eq!(li.customer_ids(), vec![shanghai.clone()]);
    assert_eq!(
        li.json(&["customer", "show", &shanghai])["basics"]["phone"],
        Value::Null
    );

    // zhang now works the Hangzhou customer; chen.hz no longer holds it, the manager sees it.
    zhang.ok(&["customer", "edit", &hangzhou, "--address", "杭州市西湖区"]);
    assert_eq!(zhang.sync()["rejected"], 0);
    chen.sync();
    assert!(chen.customer_ids().is_empty());
    let boss = laptop(&server, "east.boss", "pw-boss");
    boss.sync();
    assert_eq!(
        boss.json(&["customer", "show", &hangzhou])["basics"]["address"],
        "杭州市西湖区"
    );
    // A laptop set up afresh for zhang gets the same scope.
    let fresh = laptop(&server, "zhang.wei", "pw-zhang");
    fresh.sync();
    assert_eq!(fresh.customer_ids(), vec![hangzhou]);
}

#[test]
fn a_merge_while_a_laptop_is_offline_resolves_the_old_id_and_loses_nothing() {
    let server = TestServer::start();
    let zhang = laptop(&server, "zhang.wei", "pw-zhang");
    // zhang's second laptop: a colleague's would not hold zhang's customers (rule 2), and a
    // merge across owners gives the survivor's owner the duplicate's records.
    let li = laptop(&server, "zhang.wei", "pw-zhang");
    let survivor = zhang.create(&[
        "customer",
        "add",
        "上海华东食品有限公司",
        "--region",
        "EAST-SH",
        "--phone",
        "021-1000",
    ]);
    let duplicate = li.create(&[
        "customer",
        "add",
        "上海华东食品股份有限公司",
        "--region",
        "EAST-SH",
        "--address",
        "上海市浦东新区",
    ]);
    zhang.sync();
    li.sync();

    // li.na, offline, keeps working on the duplicate: an edit and a visit.
    li.ok(&["customer", "edit", &duplicate, "--phone", "021-2000"]);
    let visit = li.create(&[
        "visit",
        "add",
        "--customer",
        &duplicate,
        "--purpose",
        "回访",
    ]);

    // Head office merges the duplicate into the survivor.
    let summary = server
        .state()
        .admin()
        .merge_customers(
            survivor.parse::<RecordId>().unwrap(),
            duplicate.parse::<RecordId>().unwrap(),
        )
        .unwrap();
    assert_eq!(summary.filled, vec!["basics.address"]);

    // li.na syncs: the edit and the visit are judged by the rules (accepted: still in scope).
    let report = li.sync();
    assert_eq!(report["rejected"], 0, "{report}");
    assert_eq!(li.json(&["status"])["pending_changes"], 0);
    zhang.sync();

    for laptop in [&li, &zhang] {
        // The old id resolves to the survivor, with a note saying so.
        let shown = laptop.json(&["customer", "show", &duplicate]);
        assert_eq!(shown["id"], survivor.as_str());
        assert_eq!(shown["basics"]["address"], "上海市浦东新区");
        assert_eq!(shown["basics"]["phone"], "021-1000");
        let output = laptop.run(&["customer", "show", &duplicate]);
        let note = String::from_utf8_lossy(&output.stderr);
        assert!(note.contains("merged into"), "{note}");

        // Both documents and both histories are kept: the duplicate's history holds li.na's
        // offline edit and the merge; nothing is lost.
        let history = laptop.json(&["history", &duplicate]);
        let messages: Vec<&str> = history
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["message"].as_str())
            .collect();
        assert_eq!(messages.len(), 3, "{history}");
        assert!(
            messages.iter().any(|m| m.contains("merged into")),
            "{history}"
        );
        let survivor_history = laptop.json(&["history", &survivor]);
        assert_eq!(len(&survivor_history), 2, "{survivor_history}");
        let visit_shown = laptop.json(&["visit", "show", &visit]);
        assert_eq!(visit_shown["customer_id"], duplicate.as_str());
    }
    // The two laptops agree on everything.
    assert_eq!(li.snapshot(), zhang.snapshot());

    // Editing the old id now edits the survivor.
    zhang.ok(&["customer", "edit", &duplicate, "--owner", "王总"]);
    assert_eq!(zhang.sync()["rejected"], 0);
    li.sync();
    assert_eq!(
        li.json(&["customer", "show", &survivor])["basics"]["owner"],
        "王总"
    );
}

//! Sync end to end: a real server on a loopback port and real `fieldsync` laptops.

#![allow(clippy::unwrap_used)] // Test helpers outside #[test] functions unwrap too.

use fieldsync_tests::Laptop;
use fieldsync_tests::server::TestServer;

const BIN: &str = env!("CARGO_BIN_EXE_fieldsync-e2e-laptop");

fn laptop(server: &TestServer, user: &str, password: &str) -> Laptop {
    let laptop = Laptop::new(BIN, user, &format!("{user}-laptop"));
    laptop.login(&server.url(), user, password);
    laptop
}

/// Three laptops in two territories, offline, one customer field edited on two of them: the
/// salesperson's and their manager's (a colleague's laptop does not hold the customer: rule 2).
fn offline_week(server: &TestServer) -> (Laptop, Laptop, Laptop, String) {
    let a = laptop(server, "zhang.wei", "pw-zhang");
    let b = laptop(server, "east.boss", "pw-boss");
    let c = laptop(server, "wang.gz", "pw-wang");
    let shared = a.create(&[
        "customer",
        "add",
        "上海华东食品有限公司",
        "--region",
        "EAST-SH",
        "--phone",
        "021-1000",
    ]);
    a.sync();
    b.sync();
    // Offline from here: each works alone.
    a.ok(&[
        "customer",
        "edit",
        &shared,
        "--phone",
        "021-2222",
        "--address",
        "上海市浦东新区",
    ]);
    b.ok(&[
        "customer", "edit", &shared, "--phone", "021-3333", "--grade", "key",
    ]);
    let visit = a.create(&[
        "visit",
        "add",
        "--customer",
        &shared,
        "--purpose",
        "回访",
        "--stock",
        "BEER:B1:10",
    ]);
    let quote = b.create(&["quote", "new", "--customer", &shared]);
    b.ok(&[
        "quote",
        "add-line",
        &quote,
        "--product",
        "BEER",
        "--qty",
        "100",
        "--price",
        "4.5",
        "--discount",
        "5",
    ]);
    a.create(&[
        "customer",
        "add",
        "杭州西湖茶业有限公司",
        "--region",
        "EAST-SH",
    ]);
    c.create(&[
        "customer",
        "add",
        "广州珠江啤酒经销有限公司",
        "--region",
        "SOUTH-GZ",
    ]);
    let _ = visit;
    (a, b, c, shared)
}

#[test]
fn three_laptops_in_two_territories_converge_in_any_order() {
    for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0]] {
        let server = TestServer::start();
        let (a, b, c, shared) = offline_week(&server);
        let laptops = [&a, &b, &c];
        for _ in 0..2 {
            for i in order {
                laptops[i].sync();
            }
        }
        assert_eq!(
            a.snapshot(),
            b.snapshot(),
            "the two Shanghai laptops differ (order {order:?})"
        );
        let shown = a.json(&["customer", "show", &shared]);
        assert_eq!(shown["basics"]["address"], "上海市浦东新区");
        assert_eq!(shown["grade"], "key");
        let conflicts = b.json(&["conflicts", "list"]);
        assert_eq!(conflicts.as_array().unwrap().len(), 1, "{conflicts}");
        assert_eq!(conflicts[0]["path"], "basics.phone");
        let human = a.ok(&["conflicts", "list"]);
        assert!(
            human.contains("zhang.wei@zhang.wei-laptop")
                && human.contains("east.boss@east.boss-laptop"),
            "{human}"
        );
        // Guangzhou sees only its own territory.
        assert_eq!(c.customer_ids().len(), 1);
        assert_eq!(a.customer_ids().len(), 2);
        assert!(
            a.customer_ids()
                .iter()
                .all(|id| !c.customer_ids().contains(id))
        );

        // Head office reads everything, and its copy agrees with the laptops'.
        let hq = laptop(&server, "hq", "pw-hq");
        hq.sync();
        assert_eq!(hq.customer_ids().len(), 3);
        assert_eq!(
            hq.json(&["customer", "show", &shared]),
            a.json(&["customer", "show", &shared])
        );
        assert_eq!(
            hq.json(&["conflicts", "list"]),
            a.json(&["conflicts", "list"])
        );

        // Resolving on one laptop resolves it everywhere after the next syncs.
        b.ok(&[
            "conflicts",
            "resolve",
            &shared,
            "basics.phone",
            "--pick",
            "1",
        ]);
        b.sync();
        a.sync();
        assert_eq!(a.json(&["conflicts", "list"]).as_array().unwrap().len(), 0);
        assert_eq!(a.snapshot(), b.snapshot());
    }
}

#[test]
fn territory_scope_is_enforced_on_pull_and_push() {
    let server = TestServer::start();
    let a = laptop(&server, "zhang.wei", "pw-zhang");
    let c = laptop(&server, "wang.gz", "pw-wang");
    let east = a.create(&[
        "customer",
        "add",
        "南京金陵贸易有限公司",
        "--region",
        "EAST-SH",
    ]);
    a.sync();
    c.sync();
    assert!(
        c.customer_ids().is_empty(),
        "Guangzhou pulled a Shanghai customer"
    );

    // Guangzhou claims a customer in Shanghai's territory: refused, rolled back, kept visible.
    let claimed = c.create(&[
        "customer",
        "add",
        "苏州姑苏食品有限公司",
        "--region",
        "EAST-SH",
    ]);
    let report = c.sync();
    assert_eq!(report["rejected"], 1, "{report}");
    assert!(
        c.customer_ids().is_empty(),
        "the refused record should be rolled back"
    );
    let refused = c.json(&["rejected", "list"]);
    assert_eq!(refused[0]["id"], claimed.as_str());
    assert_eq!(refused[0]["code"], "out_of_scope");
    assert!(refused[0]["reason"].as_str().unwrap().contains("wang.gz"));
    assert_eq!(c.json(&["status"])["pending_changes"], 0);

    // Head office reads everything and writes only master data: its credit limit is accepted,
    // its edit of the customer's file is refused and rolled back to the server's state.
    let hq = laptop(&server, "hq", "pw-hq");
    hq.sync();
    assert_eq!(hq.customer_ids(), vec![east.clone()]);
    hq.ok(&["customer", "edit", &east, "--credit-limit", "80000"]);
    assert_eq!(hq.sync()["rejected"], 0);
    hq.ok(&[
        "customer",
        "edit",
        &east,
        "--credit-limit",
        "999999",
        "--phone",
        "021-1",
    ]);
    let report = hq.sync();
    assert_eq!(report["rejected"], 1, "{report}");
    assert_eq!(
        hq.json(&["customer", "show", &east])["credit"]["limit"],
        "80000"
    );
    a.sync();
    assert_eq!(
        a.json(&["customer", "show", &east])["credit"]["limit"],
        "80000"
    );
    assert_ne!(
        a.json(&["customer", "show", &east])["basics"]["phone"],
        "021-1"
    );
}

#[test]
fn a_customer_moving_region_purges_after_pending_edits_and_arrives_whole() {
    let server = TestServer::start();
    let sh = laptop(&server, "zhang.wei", "pw-zhang");
    let hz = laptop(&server, "chen.hz", "pw-chen");
    let boss = laptop(&server, "east.boss", "pw-boss");
    let customer = sh.create(&[
        "customer",
        "add",
        "宁波港口物流有限公司",
        "--region",
        "EAST-SH",
    ]);
    sh.create(&[
        "visit",
        "add",
        "--customer",
        &customer,
        "--purpose",
        "首次拜访",
    ]);
    sh.sync();
    hz.sync();
    boss.sync();
    assert!(hz.customer_ids().is_empty());

    // The Shanghai salesperson edits offline while the manager moves the customer to Hangzhou.
    sh.ok(&["customer", "edit", &customer, "--phone", "0574-1"]);
    boss.ok(&["customer", "edit", &customer, "--region", "EAST-HZ"]);
    boss.sync();

    // The offline edit is judged by the rule in force (Shanghai may no longer write it), shown
    // as refused, and only then is the customer removed from the Shanghai laptop.
    let report = sh.sync();
    assert_eq!(report["rejected"], 1, "{report}");
    assert_eq!(
        report["purged"], 2,
        "the customer and its visit leave: {report}"
    );
    assert!(sh.customer_ids().is_empty());
    assert_eq!(sh.json(&["rejected", "list"])[0]["id"], customer.as_str());

    // Hangzhou's salesperson receives the customer with its whole history, and its visit,
    // once it is assigned to them (rule 2: a salesperson holds only their own customers).
    server
        .state()
        .admin()
        .assign_customer(customer.parse().unwrap(), "chen.hz")
        .unwrap();
    hz.sync();
    assert_eq!(hz.customer_ids(), vec![customer.clone()]);
    assert_eq!(
        hz.json(&["customer", "show", &customer])["region"],
        "EAST-HZ"
    );
    assert_eq!(
        hz.json(&["history", &customer]).as_array().unwrap().len(),
        2
    );
    assert_eq!(hz.json(&["visit", "list"]).as_array().unwrap().len(), 1);
}

//! Scope end to end (rule 2): a salesperson's laptop holds only their own customers; a
//! customer reassigned leaves the old owner's laptop (after its pending edit is judged) and
//! reaches the new owner's whole; a revoked laptop is wiped on its next sync and locked out.
//! Real server, real laptops.

#![allow(clippy::unwrap_used)] // Test helpers outside #[test] functions unwrap too.

use std::io::Write;
use std::process::{Command, Stdio};

use fieldsync_tests::Laptop;
use fieldsync_tests::server::TestServer;

const BIN: &str = env!("CARGO_BIN_EXE_fieldsync-e2e-laptop");

fn laptop(server: &TestServer, user: &str, password: &str) -> Laptop {
    let laptop = Laptop::new(BIN, user, &format!("{user}-laptop"));
    laptop.login(&server.url(), user, password);
    laptop
}

/// Tries to log in again from `laptop`; returns whether it worked and what it said.
fn login_again(laptop: &Laptop, url: &str, user: &str, password: &str) -> (bool, String) {
    let mut child = Command::new(BIN)
        .arg("--home")
        .arg(laptop.home())
        .args(["login", "--server", url, "--user", user, "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    let output = child.wait_with_output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn colleagues_hold_only_their_own_customers_and_a_reassigned_one_moves_whole() {
    let server = TestServer::start();
    let zhang = laptop(&server, "zhang.wei", "pw-zhang");
    let li = laptop(&server, "li.na", "pw-li");
    let boss = laptop(&server, "east.boss", "pw-boss");
    let mine = zhang.create(&[
        "customer",
        "add",
        "上海东方贸易有限公司",
        "--region",
        "EAST-SH",
    ]);
    let visit = zhang.create(&["visit", "add", "--customer", &mine, "--purpose", "首访"]);
    let hers = li.create(&["customer", "add", "上海西区商行", "--region", "EAST-SH"]);
    zhang.sync();
    li.sync();
    boss.sync();
    assert_eq!(zhang.customer_ids(), vec![mine.clone()]);
    assert_eq!(li.customer_ids(), vec![hers.clone()]);
    let mut both = vec![mine.clone(), hers.clone()];
    both.sort();
    assert_eq!(boss.customer_ids(), both);

    // Offline, zhang edits the customer; meanwhile it is handed to li.na.
    zhang.ok(&["customer", "edit", &mine, "--phone", "021-9999"]);
    let moved = server
        .state()
        .admin()
        .assign_customer(mine.parse().unwrap(), "li.na")
        .unwrap();
    assert_eq!(moved, 2, "the customer and its visit");

    // zhang's pending edit is judged first (no longer theirs: refused and kept in the
    // rejected list), then the customer and its visit are purged from zhang's laptop.
    let report = zhang.sync();
    assert_eq!(report["rejected"], 1, "{report}");
    assert_eq!(report["purged"], 2, "{report}");
    assert_eq!(zhang.json(&["rejected", "list"])[0]["code"], "out_of_scope");
    assert!(zhang.customer_ids().is_empty());
    assert_eq!(zhang.json(&["status"])["pending_changes"], 0);

    // li.na receives both whole and works on them.
    li.sync();
    assert_eq!(li.customer_ids(), both);
    assert_eq!(
        li.json(&["visit", "show", &visit])["customer_id"],
        mine.as_str()
    );
    li.ok(&["customer", "edit", &mine, "--phone", "021-1234"]);
    assert_eq!(li.sync()["rejected"], 0);
}

#[test]
fn a_revoked_laptop_is_wiped_on_its_next_sync_and_locked_out() {
    let server = TestServer::start();
    let zhang = laptop(&server, "zhang.wei", "pw-zhang");
    let mine = zhang.create(&[
        "customer",
        "add",
        "上海东方贸易有限公司",
        "--region",
        "EAST-SH",
    ]);
    zhang.create(&["visit", "add", "--customer", &mine, "--purpose", "首访"]);
    zhang.sync();
    zhang.ok(&["customer", "edit", &mine, "--phone", "021-9999"]);

    let revoked = server
        .state()
        .admin()
        .revoke_devices("zhang.wei", Some("zhang.wei-laptop"))
        .unwrap();
    assert_eq!(revoked, 1);

    // The next sync refuses the pending edit and purges everything the laptop holds.
    let report = zhang.sync();
    assert_eq!(report["rejected"], 1, "{report}");
    assert!(report["purged"].as_u64().unwrap() >= 2, "{report}");
    assert_eq!(
        zhang.json(&["rejected", "list"])[0]["code"],
        "device_revoked"
    );
    assert!(zhang.customer_ids().is_empty());
    assert_eq!(
        zhang.json(&["visit", "list", "--all"]),
        serde_json::json!([])
    );

    // After that the token no longer works, and neither does a password login from it.
    let refused = zhang.fails(&["sync"]);
    assert!(refused.contains("revoked"), "{refused}");
    let (ok, said) = login_again(&zhang, &server.url(), "zhang.wei", "pw-zhang");
    assert!(!ok, "{said}");
    assert!(said.contains("revoked"), "{said}");

    // zhang's records are safe on the server: a new laptop of theirs receives them.
    let fresh = laptop(&server, "zhang.wei", "pw-zhang");
    fresh.sync();
    assert_eq!(fresh.customer_ids(), vec![mine]);
}

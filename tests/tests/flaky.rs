//! Sync over connections that drop and a server that restarts: nothing lost, nothing twice.

#![allow(clippy::unwrap_used)] // Test helpers outside #[test] functions unwrap too.

use std::time::{Duration, Instant};

use fieldsync_tests::Laptop;
use fieldsync_tests::proxy::Proxy;
use fieldsync_tests::server::TestServer;

const BIN: &str = env!("CARGO_BIN_EXE_fieldsync-e2e-laptop");

fn customers(laptop: &Laptop, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            laptop.create(&[
                "customer",
                "add",
                &format!("客户{i:03} 贸易有限公司"),
                "--region",
                "EAST-SH",
            ])
        })
        .collect()
}

#[test]
fn responses_cut_mid_way_lose_nothing_and_duplicate_nothing() {
    let server = TestServer::start();
    let proxy = Proxy::start(server.addr);
    let a = Laptop::new(BIN, "zhang.wei", "a");
    a.login(&proxy.url(), "zhang.wei", "pw-zhang");
    let ids = customers(&a, 20);

    // Every attempt's answer breaks off after 120 bytes: the server got the push, the laptop
    // never heard back. The sync fails as a network error, and the edits stay queued.
    proxy.cut_next(100, 120);
    let output = a.run(&["sync"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("network") && stderr.contains("nothing was lost"),
        "{stderr}"
    );
    assert_eq!(a.json(&["status"])["pending_changes"], 20);
    let stored = server.change_count();
    assert!(stored <= 20);

    // With the connection healthy again, the same changes are pushed again and stored once.
    proxy.heal();
    let report = a.sync();
    assert_eq!(report["acknowledged"], 20, "{report}");
    assert_eq!(a.json(&["status"])["pending_changes"], 0);
    assert_eq!(
        server.change_count(),
        20,
        "a change was stored twice or lost"
    );

    // A second laptop pulls through the same flaky link: two broken answers, then success
    // within one `fieldsync sync` thanks to the retries.
    // The office manager reads every customer of the office (a colleague holds only their own).
    let b = Laptop::new(BIN, "east.boss", "b");
    b.login(&proxy.url(), "east.boss", "pw-boss");
    proxy.cut_next(2, 300);
    let report = b.sync();
    assert!(report["retries"].as_u64().unwrap() >= 1, "{report}");
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(b.customer_ids(), expected);
    assert_eq!(b.sync()["pulled"], 0, "nothing is applied twice");
}

#[test]
fn a_server_restart_in_the_middle_of_a_sync_is_survived() {
    let mut server = TestServer::start();
    let a = Laptop::new(BIN, "zhang.wei", "a");
    a.login(&server.url(), "zhang.wei", "pw-zhang");
    let ids = customers(&a, 150);
    a.sync();

    // The second laptop pulls in small pages, many round trips; the server dies part-way and
    // comes back on the same address.
    // The office manager reads every customer of the office (a colleague holds only their own).
    let b = Laptop::new(BIN, "east.boss", "b");
    b.login(&server.url(), "east.boss", "pw-boss");
    let mut child = std::process::Command::new(BIN)
        .arg("--home")
        .arg(b.home())
        .args(["--json", "sync", "--page-bytes", "100"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let db = b.home().join("fieldsync.db");
    let started = Instant::now();
    let cursor = || -> u64 {
        rusqlite::Connection::open(&db)
            .and_then(|c| {
                c.query_row("SELECT value FROM meta WHERE key = 'cursor'", [], |r| {
                    r.get::<_, String>(0)
                })
            })
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    while cursor() == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the sync never started"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "the sync finished before the restart; make it longer"
    );
    server.kill();
    std::thread::sleep(Duration::from_millis(300));
    server.restart();

    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "sync did not survive the restart: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(report["retries"].as_u64().unwrap() >= 1, "{report}");
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(b.customer_ids(), expected);
    assert_eq!(b.sync()["pulled"], 0);
    assert_eq!(server.change_count(), 150);
}

//! Admin commands on the live database: `admin customer merge` runs as a second process (here,
//! a second connection) while laptops sync, and neither overwrites the other's changes.

#![allow(clippy::unwrap_used)] // Test helpers outside #[test] functions unwrap too.

use std::collections::HashSet;

use fieldsync_tests::Laptop;
use fieldsync_tests::server::TestServer;
use shared::RecordId;

const BIN: &str = env!("CARGO_BIN_EXE_fieldsync-e2e-laptop");

/// A logged change: its document, hash and bytes, and its document's stored snapshot.
type Logged = (String, Vec<u8>, Vec<u8>, Vec<u8>);

/// Every change in the server's log is in its document's stored snapshot (nothing was
/// overwritten), and no two stored changes to a document share an actor and sequence number.
fn assert_nothing_overwritten(server: &TestServer) {
    let conn = rusqlite::Connection::open(server.db_path()).unwrap();
    let mut statement = conn
        .prepare(
            "SELECT c.doc_id, c.hash, c.bytes, d.snapshot FROM changes c
             JOIN documents d ON d.doc_id = c.doc_id WHERE c.hash IS NOT NULL",
        )
        .unwrap();
    let rows: Vec<Logged> = statement
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(!rows.is_empty());
    let mut seen = HashSet::new();
    for (doc_id, hash, bytes, snapshot) in rows {
        let change = automerge::Change::from_bytes(bytes).unwrap();
        assert_eq!(change.hash().0.as_slice(), hash.as_slice());
        let key = (
            doc_id.clone(),
            change.actor_id().to_hex_string(),
            change.seq(),
        );
        assert!(seen.insert(key.clone()), "two changes share {key:?}");
        let mut document = automerge::AutoCommit::load(&snapshot).unwrap();
        assert!(
            document.get_change_by_hash(&change.hash()).is_some(),
            "document {doc_id} lost change {} (overwritten)",
            change.hash()
        );
    }
}

#[test]
fn customer_merges_run_safely_while_laptops_sync() {
    let server = TestServer::start();
    let sh = Laptop::new(BIN, "zhang.wei", "zhang-laptop");
    sh.login(&server.url(), "zhang.wei", "pw-zhang");
    let li = Laptop::new(BIN, "east.boss", "li-laptop"); // the manager: rule 2 keeps a colleague to her own customers
    li.login(&server.url(), "east.boss", "pw-boss");
    let pairs: Vec<(String, String)> = (0..24)
        .map(|i| {
            let survivor = sh.create(&[
                "customer",
                "add",
                &format!("并发客户{i}"),
                "--region",
                "EAST-SH",
            ]);
            let duplicate = sh.create(&[
                "customer",
                "add",
                &format!("并发客户{i}（重复）"),
                "--region",
                "EAST-SH",
                "--address",
                &format!("上海市{i}号"),
            ]);
            (survivor, duplicate)
        })
        .collect();
    sh.sync();
    li.sync();

    // Head office merges every pair from a second connection on the live database while both
    // laptops keep editing the survivors and syncing.
    let state = server.state();
    let to_merge = pairs.clone();
    let merging = std::thread::spawn(move || {
        for (survivor, duplicate) in to_merge {
            let survivor = survivor.parse::<RecordId>().unwrap();
            let duplicate = duplicate.parse::<RecordId>().unwrap();
            state.admin().merge_customers(survivor, duplicate).unwrap();
            // Spread the merges over the laptops' syncs (a pace, not an assertion).
            std::thread::sleep(std::time::Duration::from_millis(40));
        }
    });
    let mut round = 0;
    // Until the merges are over (or one failed, which `join` reports below).
    while round < 2 || !merging.is_finished() {
        for (laptop, prefix) in [(&sh, "021"), (&li, "022")] {
            for (survivor, _) in pairs.iter().skip(round % 3).step_by(3) {
                laptop.ok(&[
                    "customer",
                    "edit",
                    survivor,
                    "--phone",
                    &format!("{prefix}-{round}"),
                ]);
            }
            let report = laptop.sync();
            assert_eq!(report["rejected"], 0, "{report}");
        }
        round += 1;
    }
    merging.join().expect("every merge succeeded");
    sh.sync();
    li.sync();
    assert_nothing_overwritten(&server);
    // Every merge reached the laptops: each survivor took its duplicate's address.
    for (survivor, _) in &pairs {
        let shown = sh.json(&["customer", "show", survivor]).to_string();
        assert!(shown.contains("上海市"), "{shown}");
    }
}

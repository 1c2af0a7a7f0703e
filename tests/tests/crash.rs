//! A writer killed with SIGKILL in the middle of writes, many times over: the store always opens,
//! passes SQLite's integrity check, and holds every write that had returned success.

#![allow(clippy::unwrap_used)] // Test helpers outside #[test] functions unwrap too.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use client::Store;
use shared::RecordId;
use shared::domain::Customer;

const WRITER: &str = env!("CARGO_BIN_EXE_fieldsync-e2e-writer");

#[test]
fn killed_writers_lose_nothing_that_was_committed() {
    let home = tempfile::tempdir().unwrap();
    let mut created: Vec<RecordId> = Vec::new();
    let mut phones: BTreeMap<RecordId, String> = BTreeMap::new();
    for round in 0..25u64 {
        let mut child = Command::new(WRITER)
            .arg(home.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        // Let each round run for a different number of writes, so the kill lands at varied
        // points: inside a transaction, between two, during a compaction.
        let writes = 5 + (round * 7919) % 60;
        let started = Instant::now();
        let mut lines = BufReader::new(stdout).lines();
        let mut seen = 0;
        while seen < writes && started.elapsed() < Duration::from_secs(30) {
            let Some(Ok(line)) = lines.next() else { break };
            let parts: Vec<&str> = line.split_whitespace().collect();
            match parts.as_slice() {
                ["created", id] => created.push(id.parse().unwrap()),
                ["edited", id, phone] => {
                    phones.insert(id.parse().unwrap(), phone.to_string());
                }
                other => panic!("unexpected writer output {other:?}"),
            }
            seen += 1;
        }
        child.kill().unwrap();
        child.wait().unwrap();
    }
    assert!(
        created.len() > 25,
        "the writer made too few writes to test anything"
    );

    let store = Store::open_home(home.path()).expect("the store opens after every crash");
    store
        .integrity_check()
        .expect("PRAGMA integrity_check is ok");
    for id in &created {
        let customer: Customer = store
            .get(*id)
            .unwrap_or_else(|e| panic!("committed record {id} lost: {e}"));
        if let Some(phone) = phones.get(id) {
            // A later edit may have committed after the last one reported; it can only be newer.
            let stored = customer.basics.phone.unwrap_or_default();
            let number = |p: &str| p.trim_start_matches("phone-").parse::<u64>().unwrap_or(0);
            assert!(
                number(&stored) >= number(phone),
                "edit to {id} lost: {stored} < {phone}"
            );
        }
    }
    // Every local change is still queued for the server.
    assert!(store.pending_count().unwrap() >= (created.len() + phones.len()) as u64);
}

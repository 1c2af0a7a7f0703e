//! `admin recheck` is a second process on the live database: run while laptops sync edits to
//! the same deals, the server and the re-check never write two different changes with one
//! (actor, sequence number) to a document, and laptops keep syncing.

mod common;

use std::collections::{BTreeMap, HashMap};

use automerge::AutoCommit;
use common::flags::*;
use shared::RecordId;
use shared::domain::Quotation;

/// Salespeople may give no discount at all: every deal below becomes beyond authority, so the
/// re-check and the server both have flags to write for the same deals.
const TIGHT: &str = r#"
[[limits]]
role = "salesperson"
max_discount_pct = "0"
max_amount = { CNY = "500000" }
"#;

/// Every (document, actor, seq) of the log with the hashes of its changes.
fn changes_by_actor_seq(
    server: &common::TestServer,
) -> BTreeMap<(String, String, u64), Vec<Vec<u8>>> {
    let rows: Vec<(String, Vec<u8>, Vec<u8>)> = server
        .state
        .store
        .blocking(|c| {
            let mut stmt = c.prepare(
                "SELECT doc_id, hash, bytes FROM changes WHERE hash IS NOT NULL ORDER BY seq",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .expect("reads the log");
    let mut out: BTreeMap<_, Vec<Vec<u8>>> = BTreeMap::new();
    for (doc, hash, bytes) in rows {
        let change = shared::doc::parse_change(&bytes).expect("a stored change parses");
        out.entry((doc, change.actor_id().to_hex_string(), change.seq()))
            .or_default()
            .push(hash);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_recheck_while_laptops_sync_never_reuses_a_sequence_number() {
    let server = start().await;
    let sh1 = server.login("sh1").await;
    let mgr = server.login("sh.mgr").await;
    let c = make(&sh1, &customer("并发客户", "EAST-SH", "sh1"));
    push_ok(&server, &sh1, vec![c.push]).await;
    let mut deals: Vec<Made> = (0..24)
        .map(|_| make(&sh1, &quotation(c.id, "sh1", "100", "5")))
        .collect();
    push_ok(
        &server,
        &sh1,
        deals.iter().map(|d| d.push.clone()).collect(),
    )
    .await;
    server
        .state
        .admin()
        .set_limits_toml(TIGHT)
        .expect("sets limits");

    // The re-check runs as its own process, three times over, while sh1 edits every deal (each
    // edit makes the server write the deal's flag) and the manager keeps syncing.
    let binary = env!("CARGO_BIN_EXE_fieldsync-server");
    let db = server.db_path.clone();
    let rechecks = std::thread::spawn(move || {
        (0..3)
            .map(|_| {
                std::process::Command::new(binary)
                    .args(["admin", "--db"])
                    .arg(&db)
                    .arg("recheck")
                    .output()
                    .expect("runs admin recheck")
            })
            .collect::<Vec<_>>()
    });
    let mut cursor = 0;
    let mut laptop: HashMap<RecordId, AutoCommit> = HashMap::new();
    for round in 0..4 {
        for deal in deals.iter_mut() {
            let change = edit::<Quotation>(deal, &sh1.actor, |q| {
                q.notes = Some(format!("第{round}轮"));
            });
            push_ok(&server, &sh1, vec![change]).await;
        }
        let (pages, next) = server.pull_all(&mgr, cursor).await;
        cursor = next;
        for change in pages.iter().flat_map(|p| &p.changes) {
            let doc = laptop.entry(change.doc_id).or_default();
            shared::doc::apply_incremental(doc, &change.bytes).expect("the laptop applies it");
        }
    }
    for output in rechecks.join().expect("re-checks ran") {
        assert!(
            output.status.success(),
            "admin recheck failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    // No (document, actor, seq) carries two different changes.
    let reused: Vec<_> = changes_by_actor_seq(&server)
        .into_iter()
        .filter(|(_, hashes)| hashes.len() > 1)
        .collect();
    assert!(reused.is_empty(), "{reused:?}");

    // The manager's laptop, syncing all along, catches up and holds what the server holds.
    let (pages, _) = server.pull_all(&mgr, cursor).await;
    for change in pages.iter().flat_map(|p| &p.changes) {
        let doc = laptop.entry(change.doc_id).or_default();
        shared::doc::apply_incremental(doc, &change.bytes).expect("the laptop applies it");
    }
    let flags = laptop
        .values()
        .filter(|d| shared::doc::read_as::<shared::domain::Flag>(d).is_ok())
        .count();
    assert_eq!(flags, deals.len(), "one authority flag per deal");
    for (id, doc) in laptop.iter_mut() {
        assert!(doc.get_missing_deps(&[]).is_empty(), "{id} lacks changes");
        assert!(shared::doc::read(doc).is_ok(), "{id} does not read");
    }
    server.stop().await;
}

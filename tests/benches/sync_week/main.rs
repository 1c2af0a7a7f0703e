//! Scenario benchmark: one salesperson's week offline, then one sync.
//!
//! A real server (in-process, tokio, port 0, temporary SQLite) holds a territory of about 11,000
//! documents that the benchmark laptop already holds. The laptop then works a week offline
//! (125 new visits, 50 new quotations of 5 lines, 25 new orders, 75 edits to existing customers)
//! while another salesperson of the same territory pushes about 300 changes. Only the laptop's
//! final `client::sync::sync` is measured: round trips, messages, bytes up and down on the wire.
//!
//! Beside it, from the same run:
//! - the floor: the changes that had to cross, concatenated raw in one envelope per direction
//!   and compressed with zstd level 3 (as the client and server compress);
//! - Automerge's own per-document sync protocol over every document (one `sync::State` per
//!   document on each side, all documents' messages of a round batched into one exchange).
//!
//! ```text
//! cargo bench -p fieldsync-tests --bench sync_week                 # readable table
//! cargo bench -p fieldsync-tests --bench sync_week -- --json       # one JSON object
//! cargo bench -p fieldsync-tests --bench sync_week -- --docs 500   # a quick, smaller territory
//! ```
//!
//! Territory mix (scaled by `--docs`, default 11,000): 2/11 customers, 6/11 visits, 2/11
//! quotations (5 lines each), the rest orders (made from quotations) — 2,000 / 6,000 / 2,000 /
//! 1,000 at the default size. Each seeded document has the history of its creating change only.
//! The other salesperson's ~300 changes: 120 new visits, 30 new quotations, 10 new orders,
//! 100 customer edits and 40 visit edits.

mod per_doc;
mod records;
mod report;
mod setup;
mod wire;
mod workload;

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use client::Store;
use client::sync::SyncOptions;

use crate::records::Rng;
use crate::report::Figures;
use crate::setup::{SEED_PUSH_BUDGET, laptop, start_server, sync_checked};
use crate::wire::{Floor, breakdown, laptop_documents, server_documents};
use crate::workload::{WEEK_ORDERS, WEEK_QUOTES, WEEK_VISITS};

/// Command-line options.
struct Args {
    docs: usize,
    json: bool,
}

/// Reads `--json` and `--docs N` (or `--docs=N`); anything else is ignored.
fn parse_args() -> Result<Args> {
    let mut args = Args {
        docs: 11_000,
        json: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--json" => args.json = true,
            "--docs" => {
                let n = it.next().context("--docs needs a number")?;
                args.docs = n.parse().context("--docs needs a number")?;
            }
            other if other.starts_with("--docs=") => {
                args.docs = other["--docs=".len()..]
                    .parse()
                    .context("--docs needs a number")?;
            }
            // `cargo bench` passes `--bench`; filters and other harness flags mean nothing here.
            _ => {}
        }
    }
    if args.docs < 22 {
        bail!("--docs must be at least 22");
    }
    Ok(args)
}

/// Progress goes to standard error, so that `--json` leaves standard output one JSON object.
fn log(started: Instant, message: &str) {
    eprintln!("[{:>6.1}s] {message}", started.elapsed().as_secs_f64());
}

/// Whether the laptop converged with the server: every server document's heads must match the
/// laptop's copy.
fn level_with_server(laptop: &Store, db_path: &Path) -> Result<bool> {
    let after_laptop = laptop_documents(laptop)?;
    let after_server = server_documents(db_path)?;
    let heads = |b: Option<&Vec<u8>>| per_doc::load(b).map(|mut d| d.get_heads());
    for (id, bytes) in &after_server {
        if heads(Some(bytes))? != heads(after_laptop.get(id))? {
            eprintln!(
                "document {id} differs between the laptop and the server (the laptop holds it: {})",
                after_laptop.contains_key(id)
            );
            return Ok(false);
        }
    }
    Ok(true)
}

fn main() -> Result<()> {
    let args = parse_args()?;
    let started = Instant::now();
    let say = |m: &str| log(started, m);
    let dir = tempfile::tempdir()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let server = start_server(&rt, dir.path())?;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);

    // --- Setup, not measured: the territory, seeded by the other salesperson's laptop. ---
    let (mut other, other_http) = laptop(&dir.path().join("sh2"), &server.url, "sh2")?;
    let seeding = SyncOptions {
        push_budget: SEED_PUSH_BUDGET,
        ..SyncOptions::default()
    };
    let seeded = workload::seed(&mut other, args.docs, &mut rng)?;
    say(&format!("seeding laptop made {} documents", args.docs));
    let report = sync_checked(&mut other, &other_http, &seeding)?;
    say(&format!(
        "seeding laptop pushed {} changes in {} round trips",
        report.pushed, report.round_trips
    ));

    // The benchmark laptop's initial sync: it now holds the whole territory.
    let (mut bench, bench_http) = laptop(&dir.path().join("sh1"), &server.url, "sh1")?;
    let report = sync_checked(&mut bench, &bench_http, &SyncOptions::default())?;
    say(&format!(
        "benchmark laptop's initial sync pulled {} changes in {} round trips",
        report.pulled, report.round_trips
    ));
    if report.pulled < args.docs as u64 {
        bail!("the benchmark laptop pulled only {} changes", report.pulled);
    }
    let pre_week = server_documents(&server.db_path)?;

    // --- The week offline, not measured. ---
    workload::week(&mut bench, &seeded, &mut rng)?;
    // Meanwhile the other salesperson works and syncs.
    workload::others_week(&mut other, &seeded, &mut rng)?;
    let others_changes = other.outbox_batch(usize::MAX)?.len();
    let report = sync_checked(&mut other, &other_http, &SyncOptions::default())?;
    say(&format!(
        "the other salesperson pushed {} changes",
        report.pushed
    ));

    // What had to cross, and both sides' documents, just before the measured sync.
    let laptop_outbox = bench.outbox_batch(usize::MAX)?;
    let laptop_changes: Vec<Vec<u8>> = laptop_outbox.iter().map(|o| o.bytes.clone()).collect();
    let cursor_before = bench.cursor()?;
    let laptop_docs = laptop_documents(&bench)?;
    let server_docs = server_documents(&server.db_path)?;

    // --- Measured: the laptop's sync. ---
    let clock = Instant::now();
    let ours = client::sync::sync(&mut bench, &bench_http, &SyncOptions::default(), |_| {})?;
    let ours_time = clock.elapsed();
    say(&format!(
        "measured sync: {} round trips, {} B up, {} B down",
        ours.round_trips, ours.bytes_up, ours.bytes_down
    ));
    let breakdown = breakdown(&server.db_path, &laptop_outbox, cursor_before)?;
    let down_changes = &breakdown.down_changes;
    let level = level_with_server(&bench, &server.db_path)?;
    let complete = level
        && ours.acknowledged == laptop_changes.len() as u64
        && ours.rejected == 0
        && ours.pulled == down_changes.len() as u64;
    server.stop(&rt)?;

    // --- The floor. ---
    let floor = Floor::of(&laptop_changes, down_changes)?;

    // --- Automerge's per-document protocol: fresh states, then persisted ones. ---
    let per_doc = per_doc::fresh(&laptop_docs, &server_docs)?;
    say(&format!(
        "per-document protocol (fresh states): {} messages in {} round trips",
        per_doc.messages(),
        per_doc.round_trips
    ));
    let per_doc_persisted = per_doc::persisted(&pre_week, &laptop_docs, &server_docs)?;
    say(&format!(
        "per-document protocol (persisted states): {} messages in {} round trips",
        per_doc_persisted.messages(),
        per_doc_persisted.round_trips
    ));

    // --- Figures and targets. ---
    let figures = Figures {
        territory: laptop_docs.len() - WEEK_VISITS - WEEK_QUOTES - WEEK_ORDERS,
        laptop_docs: laptop_docs.len(),
        server_docs: server_docs.len(),
        laptop_changes: laptop_changes.len(),
        others_changes,
        ours: &ours,
        ours_time,
        complete,
        floor: &floor,
        breakdown: &breakdown,
        per_doc: &per_doc,
        persisted: &per_doc_persisted,
    };
    if args.json {
        report::print_json(&figures, started);
    } else {
        report::print_text(&figures, started);
    }
    if !complete {
        bail!("the measured sync did not leave the laptop level with the server");
    }
    Ok(())
}

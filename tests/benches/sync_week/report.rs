//! The report: the measured sync beside the floor and the per-document protocol, the targets,
//! as a readable table or as one JSON object.

use std::time::{Duration, Instant};

use client::sync::SyncReport;
use serde_json::json;

use crate::per_doc::PerDoc;
use crate::wire::{Breakdown, Floor};

/// Everything the report shows, from one run.
pub struct Figures<'a> {
    pub territory: usize,
    pub laptop_docs: usize,
    pub server_docs: usize,
    pub laptop_changes: usize,
    pub others_changes: usize,
    pub ours: &'a SyncReport,
    pub ours_time: Duration,
    /// The laptop is level with the server after the measured sync.
    pub complete: bool,
    pub floor: &'a Floor,
    pub breakdown: &'a Breakdown,
    pub per_doc: &'a PerDoc,
    pub persisted: &'a PerDoc,
}

/// `a / b`, infinite when `b` is zero.
fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        f64::INFINITY
    } else {
        a as f64 / b as f64
    }
}

impl Figures<'_> {
    fn down_changes(&self) -> usize {
        self.breakdown.down_changes.len()
    }
    fn ours_bytes(&self) -> u64 {
        self.ours.bytes_up + self.ours.bytes_down
    }
    fn ours_messages(&self) -> u64 {
        2 * self.ours.round_trips
    }
    fn vs_floor(&self) -> f64 {
        ratio(self.ours_bytes(), self.floor.total())
    }
    fn fewer_bytes(&self) -> f64 {
        ratio(self.per_doc.batched(), self.ours_bytes())
    }
    fn fewer_bytes_raw(&self) -> f64 {
        ratio(self.per_doc.raw(), self.ours_bytes())
    }
    fn fewer_messages(&self) -> f64 {
        ratio(self.per_doc.messages(), self.ours_messages())
    }
    /// Our bytes without the hex acknowledgements in the response.
    fn without_acks(&self) -> u64 {
        self.ours.bytes_up + self.breakdown.response_without_acks
    }

    /// The targets and whether each was met.
    fn targets(&self) -> [(&'static str, bool); 4] {
        [
            ("round trips <= 2", self.ours.round_trips <= 2),
            (
                "bytes on the wire <= 1.25x the floor",
                self.vs_floor() <= 1.25,
            ),
            (
                ">= 10x fewer bytes than the per-document protocol",
                self.fewer_bytes() >= 10.0,
            ),
            (
                ">= 1,000x fewer messages than the per-document protocol",
                self.fewer_messages() >= 1000.0,
            ),
        ]
    }
}

/// One JSON object on standard output.
pub fn print_json(f: &Figures<'_>, started: Instant) {
    let (ours, floor, breakdown) = (f.ours, f.floor, f.breakdown);
    let out = json!({
        "scenario": {
            "territory_documents": f.territory,
            "laptop_documents_at_sync": f.laptop_docs,
            "server_documents_at_sync": f.server_docs,
            "laptop_changes": f.laptop_changes,
            "others_changes": f.others_changes,
            "server_changes": f.down_changes() - f.others_changes,
            "changes_down": f.down_changes(),
        },
        "ours": {
            "round_trips": ours.round_trips,
            "messages": f.ours_messages(),
            "bytes_up": ours.bytes_up,
            "bytes_down": ours.bytes_down,
            "bytes": f.ours_bytes(),
            "pushed": ours.pushed,
            "acknowledged": ours.acknowledged,
            "rejected": ours.rejected,
            "pulled": ours.pulled,
            "seconds": f.ours_time.as_secs_f64(),
            "converged": f.complete,
        },
        "floor": {
            "bytes_raw_up": floor.raw_up,
            "bytes_raw_down": floor.raw_down,
            "bytes_up": floor.up,
            "bytes_down": floor.down,
            "bytes": floor.total(),
        },
        "breakdown": {
            "request_rebuilt_zstd": breakdown.request,
            "response_rebuilt_zstd": breakdown.response,
            "response_without_acks_zstd": breakdown.response_without_acks,
            "floor_with_doc_ids_up": breakdown.floor_with_ids_up,
            "floor_with_doc_ids_down": breakdown.floor_with_ids_down,
            "floor_with_doc_ids": breakdown.floor_with_ids(),
            "ours_without_acks": f.without_acks(),
        },
        "per_document": f.per_doc.json(),
        "per_document_persisted_states": f.persisted.json(),
        "ratios": {
            "ours_over_floor": f.vs_floor(),
            "per_document_batched_bytes_over_ours": f.fewer_bytes(),
            "per_document_raw_bytes_over_ours": f.fewer_bytes_raw(),
            "per_document_messages_over_ours": f.fewer_messages(),
        },
        "targets": f.targets().iter().map(|(name, met)| json!({"target": name, "met": met})).collect::<Vec<_>>(),
        "total_seconds": started.elapsed().as_secs_f64(),
    });
    println!("{out}");
}

/// The readable report on standard output.
pub fn print_text(f: &Figures<'_>, started: Instant) {
    print_table(f);
    let (ours, breakdown) = (f.ours, f.breakdown);
    println!();
    println!(
        "ours / floor: {:.2}x   per-document / ours: {:.1}x bytes (batched, zstd), {:.1}x bytes (raw), {:.0}x messages",
        f.vs_floor(),
        f.fewer_bytes(),
        f.fewer_bytes_raw(),
        f.fewer_messages()
    );
    println!();
    let with_ids = breakdown.floor_with_ids();
    let without_acks = f.without_acks();
    println!("where our bytes go (request and response rebuilt from the same data):");
    println!(
        "  request rebuilt {} B (measured {}); response rebuilt {} B (measured {})",
        breakdown.request, ours.bytes_up, breakdown.response, ours.bytes_down
    );
    println!(
        "  response without the hex acknowledgements: {} B ({} B of acks)",
        breakdown.response_without_acks,
        breakdown
            .response
            .saturating_sub(breakdown.response_without_acks)
    );
    println!(
        "  floor with each change's 16-byte document id: {} B up, {} B down, {} B total",
        breakdown.floor_with_ids_up, breakdown.floor_with_ids_down, with_ids
    );
    println!(
        "  ours without acks: {without_acks} B = {:.2}x the floor, {:.2}x the floor with ids",
        ratio(without_acks, f.floor.total()),
        ratio(without_acks, with_ids)
    );
    println!();
    println!("targets:");
    for (name, met) in &f.targets() {
        println!("  [{}] {name}", if *met { "met" } else { "MISSED" });
    }
    println!();
    println!("total run time {:.0} s", started.elapsed().as_secs_f64());
}

/// One row of the table: name, round trips, messages, bytes up, bytes down.
type Row = (&'static str, String, String, u64, u64);

/// The per-document protocol's two rows (batched and compressed, raw), named `names`.
fn per_doc_rows(names: [&'static str; 2], p: &PerDoc) -> [Row; 2] {
    let (trips, messages) = (p.round_trips.to_string(), p.messages().to_string());
    [
        (
            names[0],
            trips.clone(),
            messages.clone(),
            p.batched_up,
            p.batched_down,
        ),
        (names[1], trips, messages, p.raw_up, p.raw_down),
    ]
}

fn print_table(t: &Figures<'_>) {
    println!("Sync: one salesperson's week");
    println!(
        "territory {} documents; laptop holds {} at sync, server {}; {} changes up, {} down \
         ({} from the other salesperson, {} written by the server itself, e.g. flags)",
        t.territory,
        t.laptop_docs,
        t.server_docs,
        t.laptop_changes,
        t.down_changes(),
        t.others_changes,
        t.down_changes().saturating_sub(t.others_changes)
    );
    println!(
        "measured sync took {:.2} s (wall clock, noisy); laptop level with the server: {}",
        t.ours_time.as_secs_f64(),
        if t.complete { "yes" } else { "NO" }
    );
    println!();
    let mut rows: Vec<Row> = vec![
        (
            "ours (change log)",
            t.ours.round_trips.to_string(),
            t.ours_messages().to_string(),
            t.ours.bytes_up,
            t.ours.bytes_down,
        ),
        (
            "floor (raw changes, zstd)",
            "-".into(),
            "-".into(),
            t.floor.up,
            t.floor.down,
        ),
        (
            "floor (raw changes, uncompressed)",
            "-".into(),
            "-".into(),
            t.floor.raw_up,
            t.floor.raw_down,
        ),
    ];
    rows.extend(per_doc_rows(
        [
            "per-document, fresh, batched zstd",
            "per-document, fresh, raw",
        ],
        t.per_doc,
    ));
    rows.extend(per_doc_rows(
        [
            "per-document, persisted, batched zstd",
            "per-document, persisted, raw",
        ],
        t.persisted,
    ));
    println!(
        "{:<40} {:>11} {:>9} {:>11} {:>11} {:>11}",
        "", "round trips", "messages", "bytes up", "bytes down", "bytes total"
    );
    for (name, trips, messages, up, down) in &rows {
        let total = up + down;
        println!("{name:<40} {trips:>11} {messages:>9} {up:>11} {down:>11} {total:>11}");
    }
}

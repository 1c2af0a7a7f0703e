//! The report: each round and the medians, the rules' cost per change, the flags raised and
//! the target, as a readable table or as one JSON object.

use serde_json::json;

use crate::org::{PER_REGION, REGIONS};
use crate::run::Round;
use crate::workload::{BATCH, Workload};

/// The target from issue 4: rules-on time at most this many times rules-off time.
const TARGET: f64 = 1.5;

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

/// One line of the table: seconds and changes per second each way, and the ratio.
fn row(label: &str, on: f64, off: f64, ratio: f64, changes: f64) {
    println!(
        "{label:<7} {on:>12.2} {:>14.0} {off:>12.2} {:>14.0} {ratio:>8.3}",
        changes / on,
        changes / off,
    );
}

/// Prints the report: one JSON object with `json_out`, else the table.
pub fn report(work: &Workload, rounds: &[Round], build_secs: f64, json_out: bool) {
    let changes = work.changes as f64;
    let ratios: Vec<f64> = rounds.iter().map(Round::ratio).collect();
    let on: Vec<f64> = rounds.iter().map(|r| r.on.as_secs_f64()).collect();
    let off: Vec<f64> = rounds.iter().map(|r| r.off.as_secs_f64()).collect();
    let ratio = median(ratios.clone());
    let (lo, hi) = ratios
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        });
    let (on_med, off_med) = (median(on), median(off));
    let flags = rounds.last().map(|r| r.flags.clone()).unwrap_or_default();
    let flag_total: u64 = flags.values().sum();
    let met = ratio <= TARGET;
    let per_change_ms = median(
        rounds
            .iter()
            .map(|r| (r.on.as_secs_f64() - r.off.as_secs_f64()) * 1000.0 / changes)
            .collect(),
    );
    if json_out {
        let out = json!({
            "bench": "ingest",
            "changes": work.changes,
            "requests": work.batches.len(),
            "batch_max": BATCH,
            "salespeople": REGIONS.len() * PER_REGION,
            "workload": work.mix.counts,
            "build_secs": build_secs,
            "rounds": rounds.iter().map(|r| json!({
                "rules_on_secs": r.on.as_secs_f64(),
                "rules_off_secs": r.off.as_secs_f64(),
                "rules_on_changes_per_sec": changes / r.on.as_secs_f64(),
                "rules_off_changes_per_sec": changes / r.off.as_secs_f64(),
                "ratio": r.ratio(),
            })).collect::<Vec<_>>(),
            "median_rules_on_secs": on_med,
            "median_rules_off_secs": off_med,
            "ratio_median": ratio,
            "rules_ms_per_change_median": per_change_ms,
            "ratio_min": lo,
            "ratio_max": hi,
            "flags_raised": flags,
            "target": TARGET,
            "target_met": met,
        });
        println!("{out}");
        return;
    }
    println!();
    println!("Ingest: rules on vs off");
    println!(
        "workload: {} changes in {} requests (≤{BATCH} changes each), {} salespeople; built in {build_secs:.1} s",
        work.changes,
        work.batches.len(),
        REGIONS.len() * PER_REGION
    );
    for (what, n) in &work.mix.counts {
        println!("  {n:>6}  {what}");
    }
    println!();
    println!(
        "{:<7} {:>12} {:>14} {:>12} {:>14} {:>8}",
        "round", "rules on s", "on changes/s", "rules off s", "off changes/s", "on/off"
    );
    for (i, r) in rounds.iter().enumerate() {
        let (on, off) = (r.on.as_secs_f64(), r.off.as_secs_f64());
        row(&(i + 1).to_string(), on, off, r.ratio(), changes);
    }
    row("median*", on_med, off_med, ratio, changes);
    println!("* each column's own median; the ratio is the median of the rounds' ratios");
    println!(
        "rules' cost: {per_change_ms:.3} ms per change (median over rounds of (on − off) / changes)"
    );
    println!();
    println!(
        "flags raised by the rules-on server (last round): {flag_total} ({})",
        flags
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "ratio rules-on / rules-off: median {ratio:.3} (min {lo:.3}, max {hi:.3} over {} rounds); target ≤ {TARGET}: {}",
        rounds.len(),
        if met { "met" } else { "NOT met" }
    );
}

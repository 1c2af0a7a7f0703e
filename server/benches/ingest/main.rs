//! Ingest benchmark: push throughput with the flag rules on vs off.
//!
//! Issue 4 asks that rule checks be incremental: ingest with rules on must stay within 1.5× of
//! ingest with rules off. This benchmark starts TWO real servers in this process (tokio, port 0,
//! temporary SQLite, the same organisation), one with [`Config::rules_enabled`] true and one
//! with it false, builds one workload once, and pushes the same changes to both through
//! `/v1/sync`, batch by batch, alternating which server gets each batch first. Each round uses
//! fresh servers; the ratio reported is the median over rounds, with the spread.
//!
//! ```text
//! cargo bench -p fieldsync-server --bench ingest                  # readable table
//! cargo bench -p fieldsync-server --bench ingest -- --json        # one JSON object
//! cargo bench -p fieldsync-server --bench ingest -- --rounds 5    # more rounds (default 3)
//! ```
//!
//! Workload (deterministic, seeded): 8 regions in 4 large regions, 5 salespeople per region
//! (40; grades probation / regular / supervisor) and a region manager each. Managers create 3
//! dealers per region (some authorised for a neighbouring region too). Each salesperson creates
//! 50 customers (2,000; a third with a credit limit), a few duplicating another salesperson's
//! customer by tax id, phone or name with another company suffix; then 75 visits (some with
//! stock seen), 20 quotations of 3 lines (some with discounts or amounts beyond authority, two
//! on colleagues' customers), 10 orders (most from those quotations, with dealers, one supplied
//! by another large region's dealer), and edits: 10 customers, 5 quotations re-priced. Pushed
//! in the order a sync would need (dealers, customers, then each salesperson's week), one
//! salesperson per request, at most 200 changes per request.

mod customers;
mod org;
mod report;
mod run;
mod server;
mod week;
mod workload;

use std::time::Instant;

use anyhow::{Context, Result};

/// Reads `--json` and `--rounds N` (default 3, at least 1); anything else is ignored.
fn parse_args() -> Result<(bool, usize)> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let json_out = args.iter().any(|a| a == "--json");
    let rounds = match args.iter().position(|a| a == "--rounds") {
        Some(i) => args
            .get(i + 1)
            .context("--rounds needs a number")?
            .parse::<usize>()
            .context("--rounds needs a number")?
            .max(1),
        None => 3,
    };
    Ok((json_out, rounds))
}

fn main() -> Result<()> {
    let (json_out, rounds) = parse_args()?;
    let built = Instant::now();
    let work = workload::build()?;
    let build_secs = built.elapsed().as_secs_f64();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("tokio runtime")?;
    let mut results = Vec::new();
    for n in 0..rounds {
        let r = runtime.block_on(run::round(&work, n))?;
        if !json_out {
            eprintln!(
                "round {}: rules on {:.2} s, off {:.2} s, ratio {:.3}",
                n + 1,
                r.on.as_secs_f64(),
                r.off.as_secs_f64(),
                r.ratio()
            );
        }
        results.push(r);
    }
    report::report(&work, &results, build_secs, json_out);
    Ok(())
}

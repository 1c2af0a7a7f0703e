//! `fieldsync-demo`: the whole story on one machine. Starts a real sync server on its embedded
//! SQLite, seeds a realistic organisation, lets every salesperson's laptop work offline for a
//! week (with a cross-region dealer sale and a customer created twice planted in it), syncs
//! everyone, prints what head office sees, and leaves the server running.

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use fieldsync_tests::demo::{self, Org};
use fieldsync_tests::server::TestServer;

/// Run the Fieldsync demo.
#[derive(Debug, Parser)]
#[command(name = "fieldsync-demo", about)]
struct Args {
    /// Directory for the server's database and the laptops' stores (recreated on each run).
    #[arg(long, default_value = "fieldsync-demo")]
    dir: PathBuf,
    /// Address the server listens on.
    #[arg(long, default_value = "127.0.0.1:8440")]
    listen: String,
    /// Salespeople per region.
    #[arg(long, default_value_t = 4)]
    per_region: usize,
    /// Exit after printing instead of serving until Ctrl-C.
    #[arg(long)]
    no_serve: bool,
}

/// A file that marks a directory as the demo's own, so a rerun only ever deletes what it made.
const MARKER: &str = ".fieldsync-demo";

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.dir.exists() {
        anyhow::ensure!(
            args.dir.join(MARKER).exists(),
            "{} exists and was not made by the demo; choose another --dir",
            args.dir.display()
        );
        std::fs::remove_dir_all(&args.dir)?;
    }
    std::fs::create_dir_all(&args.dir)?;
    std::fs::write(args.dir.join(MARKER), "made by fieldsync-demo\n")?;

    let org = Org::build(args.per_region);
    let server = TestServer::start_in(args.dir.join("server"), &args.listen, &org.to_toml())
        .with_context(|| format!("starting the server on {}", args.listen))?;
    let url = server.url();
    println!(
        "Fieldsync server on {url} (database {})",
        server.db_path().display()
    );
    println!(
        "Organisation: {} people in {} regions; every password is `{}`",
        org.people.len(),
        demo::org::REGIONS.len(),
        demo::org::PASSWORD
    );

    let (outcome, laptops) = demo::run_week(&url, &org, &args.dir.join("laptops"))?;
    println!("\nA week in the field, synced:");
    for (kind, n) in &outcome.created {
        println!("  {kind:<10} {n:>5} created");
    }
    println!(
        "  changes pushed {}, pulled {}",
        outcome.pushed, outcome.pulled
    );
    demo::print::head_office(&url, &laptops, &outcome)?;

    if let Some(salesperson) = org.salespeople().next() {
        println!("\nTry a laptop (offline-first; sync when you like):");
        println!(
            "  cargo run -q -p fieldsync-client --bin fieldsync -- --home {} customer list",
            args.dir.join("laptops").join(&salesperson.user).display()
        );
        println!(
            "  … or sign in a fresh one: fieldsync --home /tmp/me login --server {url} --user {}",
            salesperson.user
        );
    }
    if args.no_serve {
        return Ok(());
    }
    println!("\nServing on {url}; press Ctrl-C to stop.");
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    ctrlc_wait(stop)?;
    let _ = stopped.recv();
    drop(server);
    Ok(())
}

/// Waits for Ctrl-C on a small runtime of its own.
fn ctrlc_wait(stop: std::sync::mpsc::Sender<()>) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::spawn(move || {
        runtime.block_on(async {
            let _ = tokio::signal::ctrl_c().await;
        });
        let _ = stop.send(());
    });
    Ok(())
}

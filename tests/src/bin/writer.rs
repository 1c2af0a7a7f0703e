//! Writes to a store as fast as it can and prints `committed <id> <n>` after each write has
//! returned, so that a test can kill it at any moment and check that every reported write
//! survived.

use std::io::Write;

use anyhow::Context;
use shared::domain::Customer;

fn main() -> anyhow::Result<()> {
    let home = std::env::args()
        .nth(1)
        .context("usage: fieldsync-e2e-writer HOME")?;
    let mut store = client::Store::open_home(std::path::Path::new(&home))?;
    let mut stdout = std::io::stdout().lock();
    let mut last = None;
    for n in 0u64.. {
        // Alternate creating records and editing the last one, so both paths are exercised.
        match last {
            Some(id) if n % 2 == 1 => {
                store.update::<Customer>(id, "edit", |c| {
                    c.basics.phone = Some(format!("phone-{n}"));
                    Ok(())
                })?;
                writeln!(stdout, "edited {id} phone-{n}")?;
            }
            _ => {
                let id = store.create(
                    &Customer::new(format!("客户 {n}"), chrono::Utc::now()),
                    "add",
                )?;
                writeln!(stdout, "created {id}")?;
                last = Some(id);
            }
        }
        stdout.flush()?;
    }
    Ok(())
}

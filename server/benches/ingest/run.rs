//! The measured run: one round pushes every batch to a fresh rules-on server and a fresh
//! rules-off server, alternating which goes first, and checks both ended where they should.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Result, bail};

use crate::server::start;
use crate::workload::Workload;

/// One round's figures.
pub struct Round {
    pub on: Duration,
    pub off: Duration,
    pub flags: BTreeMap<String, u64>,
}

impl Round {
    /// Rules-on time over rules-off time.
    pub fn ratio(&self) -> f64 {
        self.on.as_secs_f64() / self.off.as_secs_f64()
    }
}

/// Round `n` (from 0) on fresh servers.
pub async fn round(work: &Workload, n: usize) -> Result<Round> {
    let on = start(work, true).await?;
    let off = start(work, false).await?;
    let (mut t_on, mut t_off) = (Duration::ZERO, Duration::ZERO);
    for (i, batch) in work.batches.iter().enumerate() {
        // Alternate which server goes first, so neither always meets a warmer machine.
        if (i + n).is_multiple_of(2) {
            t_on += on.push(batch).await?;
            t_off += off.push(batch).await?;
        } else {
            t_off += off.push(batch).await?;
            t_on += on.push(batch).await?;
        }
    }
    let (flags, docs_on) = on.counts()?;
    let (flags_off, docs_off) = off.counts()?;
    if docs_on != docs_off || docs_on as usize != docs_expected(work) {
        bail!("documents differ: rules on {docs_on}, off {docs_off}");
    }
    if flags.values().sum::<u64>() == 0 {
        bail!("the rules-on server raised no flags: the measurement would be meaningless");
    }
    if !flags_off.is_empty() {
        bail!("the rules-off server raised flags: {flags_off:?}");
    }
    on.stop().await?;
    off.stop().await?;
    Ok(Round {
        on: t_on,
        off: t_off,
        flags,
    })
}

/// Documents the workload creates (edits make none).
fn docs_expected(work: &Workload) -> usize {
    ["dealers", "customers", "visits", "quotations", "orders"]
        .iter()
        .map(|k| work.mix.counts.get(k).copied().unwrap_or(0))
        .sum()
}

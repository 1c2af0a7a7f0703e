//! The offline window: how far before the server received a record its laptop's clock is
//! believed ([`shared::clock`], [`crate::clock`]).

use shared::clock::ClockPolicy;

use crate::error::ServerError;

use super::Admin;

impl Admin<'_> {
    /// Sets how many days laptops may work offline: their clocks are believed that far before
    /// the server received their records, and never after. It applies to every rule run and
    /// report from then on; run [`Admin::recheck`] for the flags already raised (a flag keeps
    /// the period it was first raised in until it re-opens).
    pub fn set_max_offline_days(&self, days: u64) -> Result<ClockPolicy, ServerError> {
        let policy = ClockPolicy::new(days).map_err(|e| ServerError::malformed(e.to_string()))?;
        self.store
            .blocking(|c| crate::clock::set_policy(c, policy))?;
        Ok(policy)
    }

    /// The offline window in force (the one set, else the default).
    pub fn clock_policy(&self) -> Result<ClockPolicy, ServerError> {
        self.store.blocking(|c| crate::clock::policy(c))
    }
}

//! What keeps the server up for everyone: bounds on the work one caller can make it do.
//!
//! - Password checks run on a bounded pool ([`PasswordPool`]), outside the database lock.
//! - Failed logins are limited per user name and per client address ([`login`]): 429.
//! - Syncs reserve their memory from one budget before they use it, and one device has only a
//!   few in flight ([`budget`]): 503 and 429. Their bodies are inflated on a few dedicated
//!   threads ([`decoders`]), so the memory freed after a burst is reused rather than kept.
//!
//! Every refusal carries `Retry-After`; the laptop waits that long and tries again. The knobs are
//! in [`crate::Config`] (`login_*`, `sync_*`).

pub mod budget;
pub mod decoders;
pub mod login;

use std::time::Duration;

use crate::Config;
use crate::accounts::passwords::PasswordPool;
use crate::error::ServerError;
use budget::SyncBudget;
use decoders::Decoders;
use login::LoginLimits;

/// The server's shared limits, built once from the configuration.
#[derive(Debug)]
pub struct Limits {
    /// The password-check pool.
    pub passwords: PasswordPool,
    /// Failed-login buckets.
    pub logins: LoginLimits,
    /// The in-flight sync budget.
    pub syncs: SyncBudget,
    /// The threads sync bodies are inflated and decoded on.
    pub decoders: Decoders,
}

impl Limits {
    /// The limits `config` asks for. One decoding thread per largest sync the budget holds:
    /// more could not run at once anyway.
    pub fn new(config: &Config) -> Result<Limits, ServerError> {
        let decoders = config.sync_inflight_bytes / config.min_sync_inflight_bytes().max(1);
        Ok(Limits {
            passwords: PasswordPool::new(
                config.login_concurrency(),
                Duration::from_millis(config.login_wait_ms),
            ),
            logins: LoginLimits::new(
                config.login_attempts_per_user,
                config.login_attempts_per_address,
            ),
            syncs: SyncBudget::new(
                config.sync_inflight_bytes,
                config.sync_per_device,
                Duration::from_millis(config.sync_wait_ms),
            ),
            decoders: Decoders::new(usize::try_from(decoders).unwrap_or(1))?,
        })
    }
}

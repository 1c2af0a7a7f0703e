//! Password checks on a bounded pool, each in a reused block of memory.
//!
//! An argon2 check costs about 19 MiB of memory (the default `m_cost`) and tens of milliseconds
//! of CPU. Run one per request without a bound, and a flood of wrong passwords takes every core
//! and, worse, the memory: glibc hands each blocking thread its own arena, a freed 19 MiB block
//! stays in the arena that held it, and the process grew past 1.6 GiB under 8 connections and
//! never shrank. So at most `slots` checks run at once (more wait a moment, then get 503 with
//! `Retry-After`), and each runs in a block of memory taken from a small pool and put back: the
//! memory the checks use is allocated once, at most `slots` blocks, and never churns.
//!
//! An unknown user is checked against a dummy hash with the same parameters, so a wrong name
//! costs what a wrong password costs and answers the same: the time taken does not tell an
//! outsider which names exist.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use argon2::password_hash::{Output, PasswordHash};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::Semaphore;

use crate::error::ServerError;

/// The largest argon2 memory cost (in 1 KiB blocks) a stored hash may ask for: 256 MiB. Our
/// hashes use 19 MiB; anything larger is refused rather than allocated.
const MAX_BLOCKS: usize = 256 * 1024;

/// Seconds a caller is asked to wait when every slot stayed busy.
const BUSY_RETRY_AFTER: u64 = 1;

/// The bounded pool of password checks. Cloning shares the pool.
#[derive(Debug, Clone)]
pub struct PasswordPool {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    slots: Arc<Semaphore>,
    wait: Duration,
    /// Memory blocks not in use; never more than `slots` of them exist.
    memory: Mutex<Vec<Vec<Block>>>,
    dummy: OnceLock<String>,
    checks: AtomicU64,
}

impl PasswordPool {
    /// A pool running at most `slots` checks at once (at least one); a check waits at most
    /// `wait` for a slot.
    pub fn new(slots: usize, wait: Duration) -> PasswordPool {
        PasswordPool {
            inner: Arc::new(Inner {
                slots: Arc::new(Semaphore::new(slots.max(1))),
                wait,
                memory: Mutex::new(Vec::new()),
                dummy: OnceLock::new(),
                checks: AtomicU64::new(0),
            }),
        }
    }

    /// Checks `password` against `stored`, or, when the user is unknown (`None`), against a
    /// dummy hash (and answers false): both cost one full argon2 check.
    pub async fn verify(
        &self,
        password: String,
        stored: Option<String>,
    ) -> Result<bool, ServerError> {
        let busy = || ServerError::Busy {
            message: "the server is checking too many passwords; try again shortly".into(),
            retry_after: BUSY_RETRY_AFTER,
        };
        let slots = Arc::clone(&self.inner.slots);
        let permit = tokio::time::timeout(self.inner.wait, slots.acquire_owned())
            .await
            .map_err(|_| busy())?
            .map_err(|_| busy())?;
        let inner = Arc::clone(&self.inner);
        // The permit moves into the blocking task: if the client goes away, the check still
        // holds its slot until it really ends.
        tokio::task::spawn_blocking(move || {
            let verdict = inner.check(&password, stored);
            drop(permit);
            verdict
        })
        .await?
    }

    /// How many checks have run (known and unknown users alike).
    pub fn checks(&self) -> u64 {
        self.inner.checks.load(Ordering::Relaxed)
    }
}

impl Inner {
    fn check(&self, password: &str, stored: Option<String>) -> Result<bool, ServerError> {
        let known = stored.is_some();
        let hash = match stored {
            Some(hash) => hash,
            None => self.dummy()?.to_string(),
        };
        let mut memory = self
            .memory
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop()
            .unwrap_or_default();
        let matched = verify_in(password, &hash, &mut memory);
        self.memory
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(memory);
        self.checks.fetch_add(1, Ordering::Relaxed);
        Ok(known && matched)
    }

    fn dummy(&self) -> Result<&str, ServerError> {
        if let Some(hash) = self.dummy.get() {
            return Ok(hash);
        }
        // Hashing a random password gives a hash with exactly the parameters real ones have.
        let hash = super::hash_password(&hex::encode(rand::random::<[u8; 16]>()))?;
        Ok(self.dummy.get_or_init(|| hash))
    }
}

/// Checks `password` against the PHC string `stored`, filling `memory` (grown as needed, and
/// kept by the caller for the next check) instead of allocating. False for anything unreadable.
pub fn verify_in(password: &str, stored: &str, memory: &mut Vec<Block>) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let (Ok(algorithm), Some(Ok(version)), Ok(params)) = (
        Algorithm::try_from(parsed.algorithm),
        parsed
            .version
            .map(Version::try_from)
            .or(Some(Ok(Version::default()))),
        Params::try_from(&parsed),
    ) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let blocks = params.block_count();
    if blocks > MAX_BLOCKS {
        return false;
    }
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    let mut out = vec![0u8; expected.len()];
    let hashed = Argon2::new(algorithm, version, params).hash_password_into_with_memory(
        password.as_bytes(),
        salt,
        &mut out,
        &mut memory[..blocks],
    );
    // `Output`'s equality is constant-time.
    hashed.is_ok() && Output::new(&out).is_ok_and(|out| out == expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn unknown_users_cost_a_check_and_memory_is_reused() {
        let hash = super::super::hash_password("s3cret").expect("hashes");
        let pool = PasswordPool::new(2, Duration::from_secs(5));
        assert!(
            pool.verify("s3cret".into(), Some(hash.clone()))
                .await
                .expect("runs")
        );
        assert!(
            !pool
                .verify("wrong".into(), Some(hash.clone()))
                .await
                .expect("runs")
        );
        assert!(!pool.verify("s3cret".into(), None).await.expect("runs"));
        assert!(
            !pool
                .verify("s3cret".into(), Some("garbage".into()))
                .await
                .expect("runs")
        );
        // The unknown user was checked like the others (against the dummy hash).
        assert_eq!(pool.checks(), 4);
        let pooled = pool.inner.memory.lock().expect("lock").len();
        assert_eq!(pooled, 1, "checks in turn share one block of memory");
    }

    #[tokio::test]
    async fn a_full_pool_answers_busy() {
        let pool = PasswordPool::new(1, Duration::from_millis(1));
        let held = pool.inner.slots.acquire().await.expect("slot");
        let answer = pool.verify("x".into(), None).await;
        assert!(matches!(answer, Err(ServerError::Busy { .. })));
        drop(held);
        assert!(!pool.verify("x".into(), None).await.expect("runs"));
    }
}

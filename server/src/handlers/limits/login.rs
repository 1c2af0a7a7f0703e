//! Login attempts per user name and per client address: a keyed token bucket.
//!
//! Each key (a user name, an address) has a bucket of `per_minute` attempts that refills
//! continuously at `per_minute` a minute. An attempt takes one from the user's bucket and one from
//! the address's before any password is checked; an empty bucket answers 429 with `Retry-After`
//! (the seconds until it holds one again) and costs the server nothing. A successful login gives
//! its attempts back, so only failures count: an honest user who types their password right is
//! never limited, and an office behind one address is limited only by its wrong guesses.
//!
//! The table is bounded: past [`MAX_KEYS`] keys, full buckets (keys not seen for a minute) are
//! dropped; if it is still full, a new key is not tracked (its attempts still count against the
//! address), so a spray of made-up names cannot grow the server's memory.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use crate::error::ServerError;

/// The most keys one table tracks.
const MAX_KEYS: usize = 100_000;

/// The longest key kept (longer user names are cut; real ones are far shorter).
const MAX_KEY_BYTES: usize = 128;

/// One table of buckets. `per_minute == 0` turns it off.
#[derive(Debug)]
pub struct Buckets {
    per_minute: u32,
    table: Mutex<HashMap<String, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Buckets {
    /// A table allowing `per_minute` attempts a minute per key, all of them at once if saved.
    pub fn new(per_minute: u32) -> Buckets {
        Buckets {
            per_minute,
            table: Mutex::new(HashMap::new()),
        }
    }

    fn capacity(&self) -> f64 {
        f64::from(self.per_minute)
    }

    /// Tokens per second.
    fn rate(&self) -> f64 {
        self.capacity() / 60.0
    }

    /// Takes one attempt for `key`, or says how many seconds until one is there.
    pub fn take(&self, key: &str, now: Instant) -> Result<(), u64> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let key = cut(key);
        let mut table = self.table.lock().unwrap_or_else(|p| p.into_inner());
        if !table.contains_key(key) && table.len() >= MAX_KEYS {
            table.retain(|_, bucket| self.refilled(*bucket, now) < self.capacity());
            if table.len() >= MAX_KEYS {
                return Ok(());
            }
        }
        let bucket = table.entry(key.to_string()).or_insert(Bucket {
            tokens: self.capacity(),
            at: now,
        });
        bucket.tokens = self.refilled(*bucket, now);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Ok(());
        }
        let seconds = (1.0 - bucket.tokens) / self.rate();
        // A whole number of seconds, at least one; the float is small and positive.
        Err(seconds.ceil().max(1.0) as u64)
    }

    /// Gives back an attempt taken for `key` (the login succeeded).
    pub fn give_back(&self, key: &str) {
        if self.per_minute == 0 {
            return;
        }
        let mut table = self.table.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(bucket) = table.get_mut(cut(key)) {
            bucket.tokens = (bucket.tokens + 1.0).min(self.capacity());
        }
    }

    fn refilled(&self, bucket: Bucket, now: Instant) -> f64 {
        let seconds = now.saturating_duration_since(bucket.at).as_secs_f64();
        (bucket.tokens + seconds * self.rate()).min(self.capacity())
    }
}

/// `key` cut to at most [`MAX_KEY_BYTES`] on a character boundary.
fn cut(key: &str) -> &str {
    let mut end = key.len().min(MAX_KEY_BYTES);
    while !key.is_char_boundary(end) {
        end -= 1;
    }
    &key[..end]
}

/// The login limits: one table per user name, one per client address.
#[derive(Debug)]
pub struct LoginLimits {
    users: Buckets,
    addresses: Buckets,
}

/// An admitted attempt; [`Attempt::succeeded`] gives its tokens back.
#[derive(Debug)]
pub struct Attempt<'a> {
    limits: &'a LoginLimits,
    user: String,
    address: String,
}

impl LoginLimits {
    /// Limits of `per_user` and `per_address` failed attempts a minute (0: no limit).
    pub fn new(per_user: u32, per_address: u32) -> LoginLimits {
        LoginLimits {
            users: Buckets::new(per_user),
            addresses: Buckets::new(per_address),
        }
    }

    /// Admits an attempt to sign in as `user` from `address`, or answers 429.
    pub fn admit(&self, user: &str, address: &str) -> Result<Attempt<'_>, ServerError> {
        let now = Instant::now();
        let limited = |retry_after| ServerError::RateLimited {
            message: "too many failed sign-in attempts; try again later".into(),
            retry_after,
        };
        self.addresses.take(address, now).map_err(limited)?;
        if let Err(seconds) = self.users.take(user, now) {
            self.addresses.give_back(address);
            return Err(limited(seconds));
        }
        Ok(Attempt {
            limits: self,
            user: user.to_string(),
            address: address.to_string(),
        })
    }
}

impl Attempt<'_> {
    /// The password was right: this attempt does not count.
    pub fn succeeded(self) {
        self.limits.users.give_back(&self.user);
        self.limits.addresses.give_back(&self.address);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn buckets_refill_at_their_rate() {
        let buckets = Buckets::new(2);
        let start = Instant::now();
        assert_eq!(buckets.take("a", start), Ok(()));
        assert_eq!(buckets.take("a", start), Ok(()));
        // Two a minute: the next one is 30 seconds away.
        assert_eq!(buckets.take("a", start), Err(30));
        assert_eq!(buckets.take("b", start), Ok(()), "keys are separate");
        assert_eq!(buckets.take("a", start + Duration::from_secs(31)), Ok(()));
        buckets.give_back("a");
        assert_eq!(buckets.take("a", start + Duration::from_secs(31)), Ok(()));
        assert_eq!(Buckets::new(0).take("a", start), Ok(()), "0 is no limit");
    }

    #[test]
    fn success_gives_attempts_back() {
        let limits = LoginLimits::new(1, 10);
        limits.admit("alice", "x").expect("first").succeeded();
        let failed = limits.admit("alice", "x").expect("second");
        drop(failed);
        let answer = limits.admit("alice", "x");
        assert!(matches!(answer, Err(ServerError::RateLimited { .. })));
        assert!(limits.admit("bob", "x").is_ok(), "another user still may");
    }

    #[test]
    fn long_keys_are_cut_on_a_character_boundary() {
        let name = "名".repeat(100);
        assert!(cut(&name).len() <= MAX_KEY_BYTES);
        assert!(name.starts_with(cut(&name)));
    }
}

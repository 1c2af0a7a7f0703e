//! The memory a sync may take, reserved before it is used: per device and overall.
//!
//! A sync body is small on the wire and large in memory: 1 KiB of zstd can inflate to the 32 MiB
//! cap, and the decoded request holds about as much again. Sixteen such bodies at once took the
//! server to 0.94 GB. So every sync reserves bytes from one server-wide budget before it holds
//! them: the body it is about to read when it is admitted, then, step by step, the buffer its
//! body inflates into, the decoded request, and the response it may build. A reservation is
//! released when the request ends. Admission waits briefly for room, then answers 503 with
//! `Retry-After`; growing never waits (a request that cannot grow gives back what it holds and
//! answers 503), so two requests can never wait on each other.
//!
//! One device may have only `per_device` syncs in flight; more answer 429 with `Retry-After`. A
//! laptop syncs one round trip at a time, so this only stops one token from holding the whole
//! budget.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::ServerError;

/// Reservations are counted in units of this many bytes.
const UNIT: usize = 64 * 1024;

/// Seconds a refused sync is asked to wait.
const RETRY_AFTER: u64 = 1;

/// How many idle device entries may pile up before they are swept.
const SWEEP_AT: usize = 1024;

/// The server-wide in-flight sync budget and the per-device limit.
#[derive(Debug)]
pub struct SyncBudget {
    bytes: Arc<Semaphore>,
    units: usize,
    per_device: usize,
    wait: Duration,
    devices: Mutex<HashMap<String, Arc<Semaphore>>>,
}

/// Bytes reserved for one sync, given back when dropped.
#[derive(Debug)]
pub struct Reservation {
    held: OwnedSemaphorePermit,
    bytes: Arc<Semaphore>,
    _device: OwnedSemaphorePermit,
}

fn units(bytes: usize) -> usize {
    bytes.div_ceil(UNIT).max(1)
}

fn busy() -> ServerError {
    ServerError::Busy {
        message: "the server is busy with other syncs; retrying shortly is safe".into(),
        retry_after: RETRY_AFTER,
    }
}

impl SyncBudget {
    /// A budget of `total_bytes` in flight, `per_device` syncs at once per device (at least
    /// one), admission waiting at most `wait`.
    pub fn new(total_bytes: u64, per_device: u32, wait: Duration) -> SyncBudget {
        let total = usize::try_from(total_bytes).unwrap_or(usize::MAX);
        let units = units(total).min(Semaphore::MAX_PERMITS);
        SyncBudget {
            bytes: Arc::new(Semaphore::new(units)),
            units,
            per_device: usize::try_from(per_device).unwrap_or(usize::MAX).max(1),
            wait,
            devices: Mutex::new(HashMap::new()),
        }
    }

    /// Admits a sync from `device` holding `bytes` to start with (the body it will read).
    pub async fn admit(&self, device: &str, bytes: usize) -> Result<Reservation, ServerError> {
        let slots = self.device_slots(device);
        let device = slots
            .try_acquire_owned()
            .map_err(|_| ServerError::RateLimited {
                message: "this device already has syncs in flight; one at a time is enough".into(),
                retry_after: RETRY_AFTER,
            })?;
        let wanted = u32::try_from(units(bytes).min(self.units)).map_err(|_| busy())?;
        let held = tokio::time::timeout(
            self.wait,
            Arc::clone(&self.bytes).acquire_many_owned(wanted),
        )
        .await
        .map_err(|_| busy())?
        .map_err(|_| busy())?;
        Ok(Reservation {
            held,
            bytes: Arc::clone(&self.bytes),
            _device: device,
        })
    }

    /// Bytes not reserved right now (for tests and logs).
    pub fn available(&self) -> usize {
        self.bytes.available_permits() * UNIT
    }

    fn device_slots(&self, device: &str) -> Arc<Semaphore> {
        let mut devices = self.devices.lock().unwrap_or_else(|p| p.into_inner());
        if devices.len() >= SWEEP_AT {
            // An entry nobody holds a permit of is idle (the table's own Arc is the only one).
            devices.retain(|_, slots| Arc::strong_count(slots) > 1);
        }
        Arc::clone(
            devices
                .entry(device.to_string())
                .or_insert_with(|| Arc::new(Semaphore::new(self.per_device))),
        )
    }
}

impl Reservation {
    /// Makes sure `bytes` in all are reserved for this sync, or answers 503 (without waiting).
    pub fn ensure(&mut self, bytes: usize) -> Result<(), ServerError> {
        let have = self.held.num_permits();
        let want = units(bytes);
        if want <= have {
            return Ok(());
        }
        let more = u32::try_from(want - have).map_err(|_| busy())?;
        let extra = Arc::clone(&self.bytes)
            .try_acquire_many_owned(more)
            .map_err(|_| busy())?;
        self.held.merge(extra);
        Ok(())
    }

    /// The bytes reserved.
    pub fn bytes(&self) -> usize {
        self.held.num_permits() * UNIT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reservations_are_bounded_and_given_back() {
        let budget = SyncBudget::new(10 * UNIT as u64, 1, Duration::from_millis(1));
        let mut first = budget.admit("a", 3 * UNIT).await.expect("admitted");
        assert_eq!(first.bytes(), 3 * UNIT);
        first.ensure(8 * UNIT).expect("grows within the budget");
        let answer = budget.admit("a", UNIT).await;
        assert!(
            matches!(answer, Err(ServerError::RateLimited { .. })),
            "one at a time per device"
        );
        let mut second = budget.admit("b", UNIT).await.expect("room for a small one");
        assert!(matches!(
            second.ensure(3 * UNIT),
            Err(ServerError::Busy { .. })
        ));
        let answer = budget.admit("c", 2 * UNIT).await;
        assert!(
            matches!(answer, Err(ServerError::Busy { .. })),
            "waits, then 503"
        );
        drop(first);
        second.ensure(3 * UNIT).expect("room again");
        drop(second);
        assert_eq!(budget.available(), 10 * UNIT);
    }
}

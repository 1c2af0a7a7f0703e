//! The time rules and reports believe for a record: its laptop's claim, checked against when the
//! server received it.
//!
//! A laptop stamps what it creates (a customer's or a deal's `created_at`, a visit's time) with
//! its own clock, and a laptop's clock is the word of the person using it: it can be wrong by
//! days, or set back on purpose to win a 撞单 dispute about who registered a customer first, or
//! to move a deal into another month for the rankings. The server knows one thing for certain:
//! when it received the record. So:
//!
//! **Policy.** The laptop's time is believed when it lies within a window before the server's
//! receive time — at most [`ClockPolicy::max_offline_days`] before it — and never after it.
//! Outside that window the receive time is the record's time.
//!
//! - *A week offline keeps its real dates.* Field work is offline for days, so a record made on
//!   Monday and synced on Friday is binned on Monday, where it belongs.
//! - *A backdated or wrong clock cannot move a record beyond the window.* A claim further back
//!   than the window is not clamped to the window's edge (that would still reward backdating
//!   with the largest advantage there is) but replaced by the receive time: a clock that far off
//!   says nothing about when the record was made.
//! - *Nothing can be dated in the future.* A record cannot have been made after the server
//!   received it, so a claim after the receive time is the receive time.
//!
//! Within the window a claim cannot be told from honest offline work, which is why the window
//! is an organisation's setting (how long its people may really work offline) and short by
//! default. Both times stay recorded: the laptop's claim in the record, the receive time beside
//! it on the server, so history shows what the laptop said and what the server saw.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// How long laptops may work offline unless the organisation says otherwise, in days.
pub const DEFAULT_MAX_OFFLINE_DAYS: u32 = 31;

/// The longest window an organisation may set, in days (about ten years): a longer one would
/// believe every clock and is surely a typing mistake.
pub const MAX_OFFLINE_DAYS_LIMIT: u32 = 3660;

/// A window the policy cannot take.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "max_offline_days must be between 0 and {MAX_OFFLINE_DAYS_LIMIT} (got {0}); \
     最长离线天数须在 0 到 {MAX_OFFLINE_DAYS_LIMIT} 之间（收到 {0}）"
)]
pub struct ClockPolicyError(pub u64);

/// How far a laptop's clock is believed: the organisation's offline window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u64", into = "u64")]
pub struct ClockPolicy {
    max_offline_days: u32,
}

impl ClockPolicy {
    /// A policy believing laptops up to `max_offline_days` before the server received their
    /// records (0: never before it, so the server's time always wins).
    pub fn new(max_offline_days: u64) -> Result<Self, ClockPolicyError> {
        match u32::try_from(max_offline_days) {
            Ok(days) if days <= MAX_OFFLINE_DAYS_LIMIT => Ok(Self {
                max_offline_days: days,
            }),
            _ => Err(ClockPolicyError(max_offline_days)),
        }
    }

    /// The window, in days.
    pub fn max_offline_days(&self) -> u32 {
        self.max_offline_days
    }

    /// The window.
    pub fn window(&self) -> Duration {
        Duration::days(i64::from(self.max_offline_days))
    }
}

impl Default for ClockPolicy {
    fn default() -> Self {
        Self {
            max_offline_days: DEFAULT_MAX_OFFLINE_DAYS,
        }
    }
}

impl TryFrom<u64> for ClockPolicy {
    type Error = ClockPolicyError;

    fn try_from(days: u64) -> Result<Self, Self::Error> {
        Self::new(days)
    }
}

impl From<ClockPolicy> for u64 {
    fn from(policy: ClockPolicy) -> u64 {
        u64::from(policy.max_offline_days)
    }
}

/// When the server received what carries a laptop's time. A time written when the record is
/// created (`created_at`) was received with the record's first change: [`Receipt::at`]. A time
/// that may be written by a later edit (a planned visit marked done) was received no later than
/// the record's latest change, and the record cannot predate its first one by more than the
/// window: [`Receipt::between`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receipt {
    /// The server's time when it received the record's first change.
    pub first: DateTime<Utc>,
    /// The server's time when it received the change that wrote the time (or a later one).
    pub last: DateTime<Utc>,
}

impl Receipt {
    /// Received once, at `at`.
    pub fn at(at: DateTime<Utc>) -> Self {
        Self {
            first: at,
            last: at,
        }
    }

    /// First received at `first`, last at `last` (taken in order whichever way they are given).
    pub fn between(first: DateTime<Utc>, last: DateTime<Utc>) -> Self {
        Self {
            first: first.min(last),
            last: first.max(last),
        }
    }
}

/// The time to believe for a laptop's `claimed` time (see the module's policy): the claim when
/// it lies between the window before the first receipt and the last receipt; the last receipt
/// when it is later (nothing is dated in the future); the first receipt when it is earlier than
/// the window allows.
pub fn trusted_time(
    claimed: DateTime<Utc>,
    receipt: Receipt,
    policy: ClockPolicy,
) -> DateTime<Utc> {
    let receipt = Receipt::between(receipt.first, receipt.last);
    if claimed > receipt.last {
        receipt.last
    } else if claimed < receipt.first - policy.window() {
        receipt.first
    } else {
        claimed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, day, hour, 0, 0).unwrap()
    }

    #[test]
    fn the_laptop_is_believed_only_within_the_window_and_never_after_receipt() {
        let received = t(20, 9);
        let days = |n: i64| Duration::days(n);
        let second = Duration::seconds(1);
        let policy = ClockPolicy::default();
        // (case, claimed, believed time)
        let table = [
            ("made while online", received, received),
            (
                "a week offline keeps its date",
                received - days(5),
                received - days(5),
            ),
            (
                "the window's first instant",
                received - days(31),
                received - days(31),
            ),
            (
                "just beyond the window",
                received - days(31) - second,
                received,
            ),
            ("backdated a year", received - days(365), received),
            ("a second in the future", received + second, received),
            ("a clock a year ahead", received + days(365), received),
        ];
        for (case, claimed, expected) in table {
            assert_eq!(
                trusted_time(claimed, Receipt::at(received), policy),
                expected,
                "{case}"
            );
        }
    }

    #[test]
    fn a_time_written_by_a_later_edit_is_bounded_by_both_receipts() {
        // A visit synced (planned) on the 1st and marked done on the 10th.
        let receipt = Receipt::between(t(1, 9), t(10, 9));
        let policy = ClockPolicy::default();
        let table = [
            ("done between the syncs", t(8, 3), t(8, 3)),
            (
                "done before it was first synced, within the window",
                t(1, 2),
                t(1, 2),
            ),
            ("after the last receipt", t(11, 0), t(10, 9)),
            (
                "far before the first receipt",
                t(1, 9) - Duration::days(40),
                t(1, 9),
            ),
        ];
        for (case, claimed, expected) in table {
            assert_eq!(trusted_time(claimed, receipt, policy), expected, "{case}");
        }
        assert_eq!(Receipt::between(t(10, 9), t(1, 9)), receipt, "order-free");
    }

    #[test]
    fn the_window_is_the_organisations_and_bounded() {
        let received = t(20, 9);
        let none = ClockPolicy::new(0).unwrap();
        assert_eq!(
            trusted_time(received - Duration::hours(1), Receipt::at(received), none),
            received,
            "a window of 0 days believes the server alone"
        );
        let week = ClockPolicy::new(7).unwrap();
        assert_eq!(
            trusted_time(received - Duration::days(10), Receipt::at(received), week),
            received
        );
        assert_eq!(ClockPolicy::default().max_offline_days(), 31);
        assert!(ClockPolicy::new(u64::from(MAX_OFFLINE_DAYS_LIMIT)).is_ok());
        let error = ClockPolicy::new(u64::from(MAX_OFFLINE_DAYS_LIMIT) + 1).unwrap_err();
        assert!(error.to_string().contains("最长离线天数"), "{error}");
        assert!(ClockPolicy::new(u64::MAX).is_err());
        let policy: ClockPolicy = serde_json::from_str("14").unwrap();
        assert_eq!(policy.max_offline_days(), 14);
        assert!(serde_json::from_str::<ClockPolicy>("99999").is_err());
    }
}

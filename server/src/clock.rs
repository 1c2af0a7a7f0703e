//! Whose clock the rules and reports believe: the organisation's offline window
//! ([`shared::clock`]), kept in `settings`, and the trusted times of the records the server
//! holds, judged against `documents.received_at` (when the server first received the record)
//! and `documents.updated_at` (when it last received a change to it).
//!
//! The window is a setting in the database rather than a process's configuration because it
//! decides verdicts that are stored (which customer of a 撞单 came first, in which period a flag
//! counts): the server and an `admin recheck` run as a second process on the same database must
//! judge alike.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use shared::clock::{ClockPolicy, Receipt, trusted_time};

use crate::error::ServerError;

/// The settings key under which the offline window (in days) is kept.
pub const SETTING: &str = "max_offline_days";

/// The offline window in force: the one set with `admin clock set`, else the default.
pub fn policy(conn: &Connection) -> Result<ClockPolicy, ServerError> {
    let stored: Option<String> = conn
        .prepare_cached("SELECT value FROM settings WHERE key = ?1")?
        .query_row([SETTING], |r| r.get(0))
        .optional()?;
    match stored {
        // The stored value was written by `set_policy` from a checked policy.
        Some(text) => text
            .parse::<u64>()
            .ok()
            .and_then(|days| ClockPolicy::new(days).ok())
            .ok_or_else(|| ServerError::Internal(format!("stored {SETTING}: {text:?}"))),
        None => Ok(ClockPolicy::default()),
    }
}

/// Sets the offline window for every rule run and report from now on.
pub fn set_policy(conn: &Connection, policy: ClockPolicy) -> Result<(), ServerError> {
    conn.execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![SETTING, policy.max_offline_days().to_string()],
    )?;
    Ok(())
}

/// A stored RFC 3339 instant.
pub fn instant(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|at| at.with_timezone(&Utc))
}

/// The time to believe for a laptop's `claimed` time (stored text), received first at `first`
/// and last at `last` (stored text; `last` defaults to `first`). `None` when the claim cannot be
/// read. A record whose receipt is unknown (none the server holds lacks one) is judged as if it
/// had been received now, so that even then no laptop clock is believed beyond the window.
pub fn trusted(
    policy: ClockPolicy,
    claimed: &str,
    first: Option<&str>,
    last: Option<&str>,
) -> Option<DateTime<Utc>> {
    let claimed = instant(claimed)?;
    let first = first.and_then(instant).unwrap_or_else(Utc::now);
    let last = last.and_then(instant).unwrap_or(first);
    Some(trusted_time(claimed, Receipt::between(first, last), policy))
}

/// The time to believe for document `doc_id`'s creation, which its laptop claims was `claimed`:
/// judged against when the server first received the document.
pub fn created(
    conn: &Connection,
    policy: ClockPolicy,
    doc_id: &str,
    claimed: DateTime<Utc>,
) -> Result<DateTime<Utc>, ServerError> {
    let received: Option<Option<String>> = conn
        .prepare_cached("SELECT received_at FROM documents WHERE doc_id = ?1")?
        .query_row([doc_id], |r| r.get(0))
        .optional()?;
    let received = received.flatten().as_deref().and_then(instant);
    Ok(trusted_time(
        claimed,
        Receipt::at(received.unwrap_or_else(Utc::now)),
        policy,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_times_are_judged_by_the_policy() {
        let policy = ClockPolicy::default();
        let at = |text: &str| instant(text).unwrap();
        let received = "2026-12-04T09:00:00+00:00";
        let table = [
            (
                "2026-12-01T09:00:00Z",
                Some(received),
                at("2026-12-01T09:00:00Z"),
            ),
            ("2025-12-01T09:00:00Z", Some(received), at(received)),
            ("2027-12-01T09:00:00Z", Some(received), at(received)),
        ];
        for (claimed, first, expected) in table {
            assert_eq!(
                trusted(policy, claimed, first, None),
                Some(expected),
                "{claimed}"
            );
        }
        assert_eq!(trusted(policy, "yesterday", Some(received), None), None);
        let unknown = trusted(policy, "2000-01-01T00:00:00Z", None, None).unwrap();
        assert!(
            unknown > at("2026-01-01T00:00:00Z"),
            "judged as received now"
        );
    }

    #[test]
    fn the_window_is_read_from_settings() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::store::migrate_for_tests(&mut conn);
        assert_eq!(policy(&conn).unwrap(), ClockPolicy::default());
        set_policy(&conn, ClockPolicy::new(7).unwrap()).unwrap();
        assert_eq!(policy(&conn).unwrap().max_offline_days(), 7);
    }
}

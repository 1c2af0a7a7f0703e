//! Settling one sync response: acknowledgements, refusals, pulled changes, purges and the new
//! cursor, all in one transaction. If the laptop dies before it commits, the next sync pushes the
//! same changes again (the server ignores what it has) and pulls again from the old cursor (this
//! side ignores changes it has), so nothing is lost and nothing is applied twice.

use chrono::Utc;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use shared::protocol::SyncResponse;

use super::records::write_tx;
use super::{Store, documents, outbox, pull, set_meta};
use crate::error::ClientError;

/// What settling one response did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Settled {
    /// Changes the server acknowledged.
    pub acked: u64,
    /// Changes the server stored but holds until what they build on arrives; they stay in the
    /// outbox and are pushed again, so their final verdict reaches this laptop.
    pub held: Vec<String>,
    /// Changes filed as refused (including local edits built on them).
    pub rejected: u64,
    /// Pulled changes this laptop did not have.
    pub pulled: u64,
    /// Pulled changes that could not be applied and were set aside (see `fieldsync inbox`).
    pub quarantined: u64,
    /// Documents removed from this laptop.
    pub purged: u64,
}

impl Store {
    /// The highest log sequence applied from the server.
    pub fn cursor(&self) -> Result<u64, ClientError> {
        Ok(self
            .meta("cursor")?
            .and_then(|c| c.parse().ok())
            .unwrap_or(0))
    }

    /// Applies one sync response, to a request that pushed the changes `pushed` (their hashes,
    /// in order), in a single transaction.
    pub fn settle(
        &mut self,
        pushed: &[String],
        response: &SyncResponse,
    ) -> Result<Settled, ClientError> {
        let answer = Answer::read(pushed, response)?;
        let actor = self.device.actor.clone();
        let tx = write_tx(&mut self.conn)?;
        let mut settled = Settled::default();
        outbox::acknowledge(&tx, &answer.acked)?;
        settled.acked = answer.acked.len() as u64;
        settled.held = answer.held;
        settled.rejected = outbox::reject(&tx, &actor, &answer.refused)? as u64;
        let applied = pull::apply_pulled(&tx, &actor, &response.changes)?;
        settled.pulled = applied.applied;
        settled.quarantined = applied.held;
        for info in &response.actors {
            tx.execute(
                "INSERT INTO actors (actor, user_name, device) VALUES (?1, ?2, ?3)
                 ON CONFLICT (actor) DO UPDATE SET user_name = excluded.user_name, device = excluded.device",
                params![info.actor, info.user, info.device],
            )?;
        }
        // A record the server sends again is in this user's scope again: a purge postponed
        // for it (its local edits were waiting) is cancelled, or it would be deleted later and
        // never sent again. A purge in this same answer still stands.
        for change in &response.changes {
            if !response.purge.contains(&change.doc_id) {
                tx.execute(
                    "DELETE FROM pending_purges WHERE doc_id = ?1",
                    [change.doc_id.to_string()],
                )?;
            }
        }
        for id in &response.purge {
            tx.execute(
                "INSERT OR IGNORE INTO pending_purges (doc_id, at) VALUES (?1, ?2)",
                params![id.to_string(), Utc::now().to_rfc3339()],
            )?;
        }
        settled.purged = run_purges(&tx)?;
        set_meta(&tx, "cursor", &response.next_cursor.to_string())?;
        set_meta(&tx, "last_sync", &Utc::now().to_rfc3339())?;
        tx.commit()?;
        Ok(settled)
    }
}

/// The server's answer about the pushed changes, each named by this laptop's own hash.
struct Answer<'a> {
    acked: Vec<String>,
    held: Vec<String>,
    refused: Vec<outbox::Refused<'a>>,
}

impl<'a> Answer<'a> {
    /// Reads the answer by position: every pushed change must be answered exactly once, as
    /// held, refused or (the rest) acknowledged; anything else is a malformed answer and
    /// nothing is settled.
    fn read(pushed: &'a [String], response: &'a SyncResponse) -> Result<Self, ClientError> {
        let malformed = |what: String| Err(ClientError::Protocol(what));
        let answered = response.acked as usize + response.held.len() + response.rejected.len();
        if answered != pushed.len() {
            return malformed(format!(
                "pushed {} changes but the server answered for {answered}",
                pushed.len()
            ));
        }
        let mut named = vec![false; pushed.len()];
        let mut name = |index: u32| -> Result<&'a str, ClientError> {
            match named.get_mut(index as usize) {
                Some(seen) if !*seen => {
                    *seen = true;
                    Ok(pushed[index as usize].as_str())
                }
                _ => Err(ClientError::Protocol(format!(
                    "the server's answer names pushed change {index} twice or out of range"
                ))),
            }
        };
        let held = response
            .held
            .iter()
            .map(|&i| name(i).map(str::to_string))
            .collect::<Result<Vec<_>, _>>()?;
        let refused = response
            .rejected
            .iter()
            .map(|r| Ok((name(r.index)?, r)))
            .collect::<Result<Vec<_>, ClientError>>()?;
        let acked = pushed
            .iter()
            .zip(&named)
            .filter(|(_, named)| !**named)
            .map(|(hash, _)| hash.clone())
            .collect();
        Ok(Answer {
            acked,
            held,
            refused,
        })
    }
}

/// Carries out purges whose documents have no local edit waiting for the server.
fn run_purges(conn: &Connection) -> Result<u64, ClientError> {
    let mut statement = conn.prepare("SELECT doc_id FROM pending_purges")?;
    let ids: Vec<String> = statement
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    let mut purged = 0;
    for key in ids {
        let waiting: Option<i64> = conn
            .query_row(
                "SELECT 1 FROM outbox WHERE doc_id = ?1 LIMIT 1",
                [&key],
                |row| row.get(0),
            )
            .optional()?;
        if waiting.is_some() {
            continue;
        }
        if let Ok(id) = key.parse() {
            documents::remove(conn, id)?;
            purged += 1;
        }
        conn.execute("DELETE FROM pending_purges WHERE doc_id = ?1", [&key])?;
    }
    Ok(purged)
}

//! Held changes: a pushed change whose dependencies the server lacks (earlier changes to its
//! document, or the customer a visit or deal is for) is not refused but held, and applied as
//! its author when they arrive, from the same laptop or another. Temporary gaps are normal in
//! an offline-first system (two laptops merged offline, one syncs first), and refusing such a
//! change would roll back an edit that is perfectly good.
//!
//! Holding and releasing run inside the push's own `BEGIN IMMEDIATE` transaction, so a change,
//! the held changes it releases and the flags they raise are stored together or not at all.

use rusqlite::Connection;
use shared::RecordId;
use shared::protocol::PushChange;

use crate::accounts::Caller;
use crate::error::ServerError;
use crate::store::{accounts, pending};
use crate::sync::apply;
use crate::territory::Tree;

/// Holds `push` (pushed by `caller`) until document `waits_for` arrives.
pub(crate) fn hold(
    tx: &Connection,
    caller: &Caller,
    push: &PushChange,
    hash: &[u8],
    waits_for: &str,
) -> Result<(), ServerError> {
    let held = pending::Held {
        seq: 0,
        hash: hash.to_vec(),
        doc_id: push.doc_id.to_string(),
        actor: caller.actor.clone(),
        user: caller.user.name.clone(),
        device: caller.device.clone(),
        bytes: push.bytes.clone(),
    };
    pending::hold(tx, &held, waits_for)
}

/// Applies the held changes that were waiting for `arrived`, and then those waiting for the
/// documents they changed, until nothing more can apply. A held change refused for good is
/// dropped here: its laptop still has it and hears the refusal when it pushes it again.
pub(crate) fn release(
    tx: &Connection,
    tree: &Tree,
    arrived: RecordId,
    rules_enabled: bool,
) -> Result<(), ServerError> {
    let mut arrivals = vec![arrived.to_string()];
    while let Some(doc_id) = arrivals.pop() {
        for held in pending::waiting_for(tx, &doc_id)? {
            let Some(caller) = author(tx, &held)? else {
                pending::remove(tx, held.seq)?;
                continue;
            };
            let Ok(id) = held.doc_id.parse::<RecordId>() else {
                pending::remove(tx, held.seq)?;
                continue;
            };
            let push = PushChange {
                doc_id: id,
                bytes: held.bytes,
            };
            match apply::retry(tx, tree, &caller, &push, rules_enabled)? {
                Ok(()) => {
                    pending::remove(tx, held.seq)?;
                    // Its document changed: what waited for that may apply now (and the same
                    // document again, for held changes that were behind this one).
                    arrivals.push(held.doc_id);
                }
                Err(Some(waits_for)) if waits_for != doc_id => {
                    pending::rewait(tx, held.seq, &waits_for)?
                }
                Err(Some(_)) => {}
                Err(None) => pending::remove(tx, held.seq)?,
            }
        }
    }
    Ok(())
}

/// The author of a held change, as they are now (their current role and territory judge it).
fn author(tx: &Connection, held: &pending::Held) -> Result<Option<Caller>, ServerError> {
    Ok(
        accounts::user_with_hash(tx, &held.user)?.map(|(user, _)| Caller {
            user,
            device: held.device.clone(),
            actor: held.actor.clone(),
            token_hash: Vec::new(),
        }),
    )
}

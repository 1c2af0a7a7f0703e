//! Applying one pushed change: check, apply to a copy, validate, authorise, store.

use std::panic::{AssertUnwindSafe, catch_unwind};

use automerge::{AutoCommit, Change};
use rusqlite::Connection;
use shared::protocol::{PushChange, Rejection};
use shared::record::Record;
use shared::{RecordId, RecordKind};

use crate::accounts::Caller;
use crate::error::ServerError;
use crate::store::log::{self, Author};
use crate::sync::chunk;
use crate::territory::{GLOBAL, Tree};

/// What became of one pushed change.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Stored (now or before); the hash in hex.
    Acked(String),
    /// Stored, but held until what it builds on arrives.
    Held,
    /// Refused, with a reason.
    Rejected(Rejection),
}

/// Runs `f`, turning a panic into `None`: Automerge may panic on crafted input.
pub fn guarded<T>(f: impl FnOnce() -> T) -> Option<T> {
    catch_unwind(AssertUnwindSafe(f)).ok()
}

struct Refusal(&'static str, String);

fn refuse<T>(code: &'static str, reason: impl Into<String>) -> Result<T, Refusal> {
    Err(Refusal(code, reason.into()))
}

/// Checks, authorises and stores one pushed change, the `index`-th of its request (a refusal
/// names it by that position). Database failures are errors; everything wrong with the change
/// itself is a rejection. With `rules_enabled` false (measurement only,
/// see [`crate::Config::rules_enabled`]) the flag rules are not run on the accepted change.
pub fn push_one(
    conn: &mut Connection,
    tree: &Tree,
    caller: &Caller,
    index: u32,
    push: &PushChange,
    rules_enabled: bool,
) -> Result<Outcome, ServerError> {
    let rejected = |code: &str, reason: String| rejected(index, push.doc_id, code, reason);
    let checked = match chunk::check(&push.bytes) {
        Ok(checked) => checked,
        Err(reason) => return Ok(rejected("malformed", reason)),
    };
    let change = match guarded(|| Change::from_bytes(checked.plain)) {
        Some(Ok(change)) => change,
        Some(Err(e)) => return Ok(rejected("malformed", format!("not a change: {e}"))),
        None => {
            let reason = "the change could not be decoded".to_string();
            return Ok(rejected("malformed", reason));
        }
    };
    let hash = change.hash();
    let hash_hex = hash.to_string();
    if log::has_change(conn, &hash.0)? {
        return Ok(Outcome::Acked(hash_hex));
    }
    match accept(conn, tree, caller, push, change, rules_enabled) {
        Ok(Ok(())) => Ok(Outcome::Acked(hash_hex)),
        Ok(Err(Refusal(code, reason))) => Ok(rejected(code, reason)),
        Err(e) => Err(e),
    }
}

fn rejected(index: u32, doc_id: RecordId, code: &str, reason: impl Into<String>) -> Outcome {
    Outcome::Rejected(Rejection {
        index,
        doc_id,
        code: code.to_string(),
        reason: reason.into(),
    })
}

fn accept(
    conn: &mut Connection,
    tree: &Tree,
    caller: &Caller,
    push: &PushChange,
    change: Change,
    rules_enabled: bool,
) -> Result<Result<(), Refusal>, ServerError> {
    if change.actor_id().to_hex_string() != caller.actor {
        return Ok(refuse(
            "not_your_change",
            "the change was made by another device's actor",
        ));
    }
    let doc_id = push.doc_id.to_string();
    let existing = log::document(conn, &doc_id)?;
    let hash = change.hash();

    // Apply to a copy of the server's document, off the async threads, panics caught.
    // Flags, quotations and orders are also checked against the record as it was before the
    // change (who may change which fields, approvals, credit holds), so read that first.
    let wants_before = existing.as_ref().is_some_and(|row| {
        row.kind == RecordKind::Flag.as_str() || row.kind == "quotation" || row.kind == "order"
    });
    let applied = guarded(|| -> Result<_, automerge::AutomergeError> {
        let mut doc = match &existing {
            Some(row) => AutoCommit::load(&row.snapshot)?,
            None => AutoCommit::new(),
        };
        let before = if wants_before {
            shared::doc::read(&doc).ok()
        } else {
            None
        };
        doc.apply_changes([change])?;
        let missing = doc.get_missing_deps(&[]);
        Ok((doc, missing, before))
    });
    let (mut doc, missing, before) = match applied {
        Some(Ok(applied)) => applied,
        Some(Err(e)) => {
            return Ok(refuse(
                "malformed",
                format!("the change does not apply: {e}"),
            ));
        }
        None => return Ok(refuse("malformed", "the change could not be applied")),
    };
    if !missing.is_empty() {
        return Ok(refuse(
            "missing_dependency",
            "the server does not yet hold the changes this one builds on; push them first",
        ));
    }
    let record = match guarded(|| shared::doc::read(&doc).map_err(|e| e.to_string())) {
        Some(Ok(record)) => record,
        Some(Err(e)) => return Ok(refuse("invalid_record", e)),
        None => return Ok(refuse("invalid_record", "the document could not be read")),
    };
    if !names_itself(&doc, push.doc_id) {
        return Ok(refuse(
            "invalid_record",
            "the document names a different id than the one it was pushed under",
        ));
    }
    if let Err(e) = record.validate() {
        return Ok(refuse("invalid_record", e.to_string()));
    }
    let kind = record.kind();
    if let Some(row) = &existing
        && row.kind != kind.as_str()
    {
        return Ok(refuse("invalid_record", "a record cannot change its kind"));
    }

    let old_territory = existing.as_ref().map(|row| row.territory.clone());
    let (territory, customer_id) =
        match derive_territory(conn, tree, caller, &record, &old_territory)? {
            Ok(derived) => derived,
            Err(refusal) => return Ok(Err(refusal)),
        };
    if !tree.can_write(&caller.user, kind, &territory)
        || old_territory
            .as_deref()
            .is_some_and(|old| !tree.can_write(&caller.user, kind, old))
    {
        return Ok(refuse(
            "out_of_scope",
            format!(
                "{} may not write this {} (territory {territory})",
                caller.user.name,
                kind.as_str()
            ),
        ));
    }
    if let Some((code, reason)) = crate::flags::guard::check_push(
        conn,
        tree,
        caller,
        push.doc_id,
        before.as_ref(),
        &record,
        &territory,
    )? {
        return Ok(refuse(code, reason));
    }
    let Some(snapshot) = guarded(|| doc.save()) else {
        return Ok(refuse("malformed", "the document could not be saved"));
    };

    let tx = conn.transaction()?;
    if let Some(old) = old_territory.as_deref()
        && old != territory
    {
        // Moves are logged before the change, so a reader entering the scope receives the
        // history up to the move and then this change as an ordinary log entry.
        log::append_move(&tx, &doc_id, old, &territory)?;
        if kind == RecordKind::Customer {
            for (dependent, their_territory) in log::dependents(&tx, &doc_id)? {
                if their_territory != territory {
                    log::append_move(&tx, &dependent, &their_territory, &territory)?;
                }
            }
        }
    }
    let author = Author {
        actor: &caller.actor,
        user: &caller.user.name,
        device: &caller.device,
    };
    log::append_change(&tx, &hash.0, &doc_id, &territory, author, &push.bytes)?;
    log::save_document(
        &tx,
        &doc_id,
        kind.as_str(),
        &territory,
        customer_id.as_deref(),
        &snapshot,
    )?;
    log::reproject(&tx, push.doc_id, &record)?;
    // The rules run on the projections just written, in the same transaction: a change and
    // the flags it raises are stored together or not at all.
    if rules_enabled {
        crate::flags::on_change(&tx, tree, push.doc_id, &record, &territory)?;
    }
    tx.commit()?;
    Ok(Ok(()))
}

/// Whether the document's `$id` root key, when present, is `id`.
fn names_itself(doc: &AutoCommit, id: RecordId) -> bool {
    use automerge::{ROOT, ReadDoc, ScalarValue, Value};
    match guarded(|| doc.get(ROOT, "$id")) {
        Some(Ok(Some((Value::Scalar(s), _)))) => match s.as_ref() {
            ScalarValue::Str(text) => text.parse::<RecordId>().ok() == Some(id),
            _ => false,
        },
        Some(Ok(None)) => true,
        _ => false,
    }
}

/// The territory the server gives a record, and the customer it hangs from.
type Derived = (String, Option<String>);

fn derive_territory(
    conn: &Connection,
    tree: &Tree,
    caller: &Caller,
    record: &Record,
    old_territory: &Option<String>,
) -> Result<Result<Derived, Refusal>, ServerError> {
    let region = |region: &Option<String>| -> Result<Derived, Refusal> {
        match region.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
            Some(code) if tree.exists(code) => Ok((code.to_string(), None)),
            Some(code) => refuse("invalid_record", format!("unknown region {code:?}")),
            // No region given: the record stays where it is, or a new one goes to the
            // territory of the person creating it.
            None => Ok((
                old_territory
                    .clone()
                    .unwrap_or_else(|| caller.user.territory.clone()),
                None,
            )),
        }
    };
    let customer = |id: &RecordId| -> Result<Result<Derived, Refusal>, ServerError> {
        // A merged duplicate's records count as the survivor's (its territory, its deals).
        let id = crate::store::realign::resolve_customer(conn, &id.to_string())?;
        Ok(match log::kind_and_territory(conn, &id)? {
            Some((kind, territory)) if kind == RecordKind::Customer.as_str() => {
                Ok((territory, Some(id)))
            }
            _ => refuse(
                "unknown_customer",
                format!("the server holds no customer {id}"),
            ),
        })
    };
    Ok(match record {
        Record::Customer(c) => region(&c.region),
        Record::Dealer(d) => region(&d.region),
        Record::Product(_) => Ok((GLOBAL.to_string(), None)),
        Record::Visit(v) => customer(&v.customer_id)?,
        Record::Quotation(q) => customer(&q.customer_id)?,
        Record::Order(o) => customer(&o.customer_id)?,
        // Flags are raised by the server in their region's territory; a pushed edit keeps it,
        // and nobody but the server may create one.
        Record::Flag(_) => match old_territory {
            Some(territory) => Ok((territory.clone(), None)),
            None => refuse(
                "flag_readonly",
                "flags are raised by the server, not created",
            ),
        },
    })
}

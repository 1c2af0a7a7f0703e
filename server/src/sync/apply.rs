//! Applying one pushed change: check, apply to a copy, validate, authorise, store.

use std::panic::{AssertUnwindSafe, catch_unwind};

use automerge::{AutoCommit, Change};
use rusqlite::{Connection, TransactionBehavior};
use shared::protocol::{PushChange, Rejection};
use shared::record::Record;
use shared::{RecordId, RecordKind};

use crate::accounts::Caller;
use crate::error::ServerError;
use crate::store::log::{self, Author};
use crate::store::owners;
use crate::sync::{chunk, pending};
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

/// Why a change is not applied now. A refusal with `waits_for` is temporary: the change builds
/// on a document the server does not hold yet (earlier changes to its own document, or the
/// customer a visit or deal is for), so it is held until that document arrives.
struct Refusal {
    code: &'static str,
    reason: String,
    waits_for: Option<String>,
}

fn refuse<T>(code: &'static str, reason: impl Into<String>) -> Result<T, Refusal> {
    Err(Refusal {
        code,
        reason: reason.into(),
        waits_for: None,
    })
}

/// A temporary refusal: the change waits for document `doc_id` to arrive.
fn wait_for<T>(
    doc_id: String,
    code: &'static str,
    reason: impl Into<String>,
) -> Result<T, Refusal> {
    Err(Refusal {
        code,
        reason: reason.into(),
        waits_for: Some(doc_id),
    })
}

/// A pushed change parsed and bounded, not yet checked against anything stored.
struct Parsed {
    change: Change,
    hash_hex: String,
}

fn parse(bytes: &[u8]) -> Result<Parsed, (&'static str, String)> {
    let checked = chunk::check(bytes).map_err(|reason| ("malformed", reason))?;
    let change = match guarded(|| Change::from_bytes(checked.plain)) {
        Some(Ok(change)) => change,
        Some(Err(e)) => return Err(("malformed", format!("not a change: {e}"))),
        None => return Err(("malformed", "the change could not be decoded".to_string())),
    };
    let hash_hex = change.hash().to_string();
    Ok(Parsed { change, hash_hex })
}

/// Checks, authorises and stores one pushed change, the `index`-th of its request (a refusal
/// names it by that position). Database failures are errors; everything wrong with the change
/// itself is a rejection, and a change that builds on what the server does not hold yet is
/// held (see [`pending`]). Reading the document, applying the change and writing the result
/// is one `BEGIN IMMEDIATE` transaction, so another writer (another request, or an admin
/// command run as a second process on the live database) can never slip in between and be
/// overwritten. With `rules_enabled` false (measurement only, see
/// [`crate::Config::rules_enabled`]) the flag rules are not run on the accepted change.
pub fn push_one(
    conn: &mut Connection,
    tree: &Tree,
    caller: &Caller,
    index: u32,
    push: &PushChange,
    rules_enabled: bool,
) -> Result<Outcome, ServerError> {
    let parsed = match parse(&push.bytes) {
        Ok(parsed) => parsed,
        Err((code, reason)) => return Ok(rejected(index, push.doc_id, code, reason)),
    };
    let hash = parsed.change.hash();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if log::has_change(&tx, &hash.0)? {
        return Ok(Outcome::Acked(parsed.hash_hex));
    }
    let outcome = match accept(&tx, tree, caller, push, parsed.change, rules_enabled)? {
        Ok(()) => {
            pending::release(&tx, tree, push.doc_id, rules_enabled)?;
            Outcome::Acked(parsed.hash_hex)
        }
        Err(Refusal {
            waits_for: Some(waits_for),
            ..
        }) => {
            pending::hold(&tx, caller, push, &hash.0, &waits_for)?;
            Outcome::Held
        }
        Err(Refusal { code, reason, .. }) => {
            return Ok(rejected(index, push.doc_id, code, reason));
        }
    };
    tx.commit()?;
    Ok(outcome)
}

/// Applies a held change again now that what it waited for may have arrived, inside the
/// caller's transaction. `Ok(Ok(()))`: applied; `Ok(Err(Some(doc)))`: still waiting, now for
/// `doc`; `Ok(Err(None))`: refused for good (its author hears why when the laptop pushes it
/// again, as it does until the server answers other than "held").
pub(crate) fn retry(
    tx: &Connection,
    tree: &Tree,
    caller: &Caller,
    push: &PushChange,
    rules_enabled: bool,
) -> Result<Result<(), Option<String>>, ServerError> {
    let parsed = match parse(&push.bytes) {
        Ok(parsed) => parsed,
        Err(_) => return Ok(Err(None)),
    };
    if log::has_change(tx, &parsed.change.hash().0)? {
        return Ok(Ok(()));
    }
    Ok(
        match accept(tx, tree, caller, push, parsed.change, rules_enabled)? {
            Ok(()) => Ok(()),
            Err(refusal) => {
                tracing::info!(
                    user = %caller.user.name,
                    doc = %push.doc_id,
                    code = %refusal.code,
                    reason = %refusal.reason,
                    "held change not applied"
                );
                Err(refusal.waits_for)
            }
        },
    )
}

fn rejected(index: u32, doc_id: RecordId, code: &str, reason: impl Into<String>) -> Outcome {
    Outcome::Rejected(Rejection {
        index,
        doc_id,
        code: code.to_string(),
        reason: reason.into(),
    })
}

/// A change applied to a copy of its document, checked and ready to store.
struct Checked {
    snapshot: Vec<u8>,
    record: Record,
    territory: String,
    old_territory: Option<String>,
    customer_id: Option<String>,
    /// The owner the server gives the record (客户归属), and the one it had.
    owner: Option<String>,
    old_owner: Option<String>,
}

/// Checks one change against the stored document and, if it passes, stores it (inside the
/// caller's transaction, which reads and writes).
fn accept(
    tx: &Connection,
    tree: &Tree,
    caller: &Caller,
    push: &PushChange,
    change: Change,
    rules_enabled: bool,
) -> Result<Result<(), Refusal>, ServerError> {
    let hash = change.hash();
    let checked = match check(tx, tree, caller, push, change)? {
        Ok(checked) => checked,
        Err(refusal) => return Ok(Err(refusal)),
    };
    store(tx, tree, caller, push, &hash.0, checked, rules_enabled)?;
    Ok(Ok(()))
}

fn check(
    conn: &Connection,
    tree: &Tree,
    caller: &Caller,
    push: &PushChange,
    change: Change,
) -> Result<Result<Checked, Refusal>, ServerError> {
    if change.actor_id().to_hex_string() != caller.actor {
        return Ok(refuse(
            "not_your_change",
            "the change was made by another device's actor",
        ));
    }
    let doc_id = push.doc_id.to_string();
    let existing = log::document(conn, &doc_id)?;

    // Apply to a copy of the server's document, off the async threads, panics caught.
    // Every change is checked against the record as it was before the change (who may change
    // which fields, approvals, credit holds), so read that first.
    let wants_before = existing.is_some();
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
        return Ok(wait_for(
            doc_id,
            "missing_dependency",
            "the server does not yet hold the changes this one builds on",
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
            "the document must name itself ($id) with the id it was pushed under",
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
    // The owner (客户归属) is the server's to decide, like the territory (rule 2).
    let old_owner = match &existing {
        Some(_) => Some(owners::owner(conn, &doc_id)?),
        None => None,
    };
    let named = match &record {
        Record::Customer(c) => c.salesperson.as_deref(),
        _ => None,
    };
    let owner = owners::derive(
        conn,
        &caller.user,
        kind,
        customer_id.as_deref(),
        old_owner.clone(),
        named,
    )?;
    let old_owner = old_owner.flatten();
    if !tree.can_write(&caller.user, kind, &territory, owner.as_deref())
        || old_territory
            .as_deref()
            .is_some_and(|old| !tree.can_write(&caller.user, kind, old, old_owner.as_deref()))
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
    if let Some((code, reason)) = super::fields::check(caller, before.as_ref(), &record) {
        return Ok(refuse(code, reason));
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
    Ok(Ok(Checked {
        snapshot,
        record,
        territory,
        old_territory,
        customer_id,
        owner,
        old_owner,
    }))
}

/// Writes a checked change: the log, the document, its projections and the flags it raises,
/// all in the caller's transaction, so a change and what it causes are stored together or not
/// at all.
fn store(
    tx: &Connection,
    tree: &Tree,
    caller: &Caller,
    push: &PushChange,
    hash: &[u8],
    checked: Checked,
    rules_enabled: bool,
) -> Result<(), ServerError> {
    let doc_id = push.doc_id.to_string();
    let kind = checked.record.kind();
    let territory = checked.territory.as_str();
    let (owner, old_owner) = (checked.owner.as_deref(), checked.old_owner.as_deref());
    if let Some(old) = checked.old_territory.as_deref()
        && (old != territory || old_owner != owner)
    {
        // Moves are logged before the change, so a reader entering the scope receives the
        // history up to the move and then this change as an ordinary log entry.
        owners::append_move(tx, &doc_id, (old, old_owner), (territory, owner))?;
        if kind == RecordKind::Customer {
            owners::move_dependents(tx, &doc_id, (territory, owner))?;
        }
    }
    let author = Author {
        actor: &caller.actor,
        user: &caller.user.name,
        device: &caller.device,
    };
    log::append_change(tx, hash, &doc_id, territory, author, &push.bytes)?;
    log::save_document(
        tx,
        &doc_id,
        kind.as_str(),
        territory,
        checked.customer_id.as_deref(),
        &checked.snapshot,
    )?;
    owners::file(tx, &doc_id, owner)?;
    log::reproject(tx, push.doc_id, &checked.record)?;
    // The rules run on the projections just written, in the same transaction.
    if rules_enabled {
        crate::flags::on_change(tx, tree, push.doc_id, &checked.record, territory)?;
    }
    Ok(())
}

/// Whether the document's `$id` root key is `id`. A document without one is refused: every
/// document names itself, so no two can begin with byte-identical changes.
fn names_itself(doc: &AutoCommit, id: RecordId) -> bool {
    use automerge::{ROOT, ReadDoc, ScalarValue, Value};
    match guarded(|| doc.get(ROOT, "$id")) {
        Some(Ok(Some((Value::Scalar(s), _)))) => match s.as_ref() {
            ScalarValue::Str(text) => text.parse::<RecordId>().ok() == Some(id),
            _ => false,
        },
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
            // Not yet here: the customer may still be on its way (another laptop's outbox,
            // or later in this one's), so the change waits for it rather than being lost.
            None => wait_for(
                id.clone(),
                "unknown_customer",
                format!("the server holds no customer {id} yet"),
            ),
            Some(_) => refuse("unknown_customer", format!("{id} is not a customer")),
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

//! Merging a duplicate customer (撞单) into the one that survives, as the server's own change.
//!
//! The duplicate is voided with reason "merged into …" and `merged_into` set; the survivor takes
//! the duplicate's non-empty fields where its own are empty, and its contacts. Both documents
//! and their histories are kept. The duplicate's visits, quotations and orders keep their
//! `customer_id` (their history stays true), but the server hangs them from the survivor
//! (`customer_alias`, `documents.customer_id`): they follow its territory and count as its
//! deals for the flag rules. Everything happens in one `BEGIN IMMEDIATE` transaction (safe
//! while the server runs), committed by the server's actor and appended to the log, so laptops
//! receive it through ordinary sync.

use automerge::AutoCommit;
use chrono::Utc;
use rusqlite::Connection;
use shared::doc::{self, CommitMeta};
use shared::domain::{Customer, Voided};
use shared::record::Record;
use shared::{RecordId, RecordKind};

use crate::error::ServerError;
use crate::flags::{self, SYSTEM_DEVICE, SYSTEM_USER, system_actor, system_actor_hex};
use crate::store::log::{self, Author};
use crate::store::{accounts, owners, realign};
use crate::territory::Tree;

/// What a merge did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergeSummary {
    /// The survivor's fields filled from the duplicate.
    pub filled: Vec<String>,
    /// Visits, quotations and orders of the duplicate now hung from the survivor.
    pub dependents: usize,
    /// Whether the duplicate had already been merged into this survivor (nothing was done).
    pub already_merged: bool,
}

fn internal(e: shared::doc::DocError) -> ServerError {
    ServerError::Internal(format!("merging customers: {e}"))
}

/// A stored customer: its document, record and territory.
fn load_customer(
    conn: &Connection,
    id: RecordId,
) -> Result<(AutoCommit, Customer, String), ServerError> {
    let row = log::document(conn, &id.to_string())?
        .filter(|row| row.kind == RecordKind::Customer.as_str())
        .ok_or_else(|| ServerError::NotFound(format!("no customer {id}")))?;
    let document = doc::load(&row.snapshot, &system_actor()).map_err(internal)?;
    let customer: Customer = doc::read_as(&document).map_err(internal)?;
    Ok((document, customer, row.territory))
}

/// Commits `customer` into `document` as the server and logs, saves and re-projects it, then
/// runs the rules it touches.
fn commit(
    conn: &Connection,
    tree: &Tree,
    id: RecordId,
    mut document: AutoCommit,
    customer: Customer,
    territory: &str,
    message: String,
) -> Result<(), ServerError> {
    let meta = CommitMeta::now(message);
    if doc::update(&mut document, &customer, &meta)
        .map_err(internal)?
        .is_none()
    {
        return Ok(());
    }
    let Some(change) = document.get_last_local_change() else {
        return Ok(());
    };
    let (hash, bytes) = (change.hash(), change.raw_bytes().to_vec());
    flags::write::ensure_system(conn)?;
    let actor = system_actor_hex();
    let author = Author {
        actor: &actor,
        user: SYSTEM_USER,
        device: SYSTEM_DEVICE,
    };
    let doc_id = id.to_string();
    log::append_change(conn, &hash.0, &doc_id, territory, author, &bytes)?;
    log::save_document(conn, &doc_id, "customer", territory, None, &document.save())?;
    let record = Record::Customer(customer);
    log::reproject(conn, id, &record)?;
    flags::on_change(conn, tree, id, &record, territory)?;
    Ok(())
}

/// Merges customer `duplicate` into `survivor` (see the module documentation). Merging the same
/// pair again does nothing; a voided survivor, a duplicate voided for another reason, or one
/// customer given twice is an error.
pub fn merge_customers(
    conn: &mut Connection,
    survivor: RecordId,
    duplicate: RecordId,
) -> Result<MergeSummary, ServerError> {
    if survivor == duplicate {
        return Err(ServerError::malformed(
            "a customer cannot be merged into itself",
        ));
    }
    let tree = Tree::new(accounts::territories(conn)?);
    // Read, change and write under SQLite's write lock from the start, as pushes do: this
    // command runs as a second process on the live database, and a deferred transaction would
    // either fail to upgrade or be overwritten by a push that read the customer before it.
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let (survivor_doc, mut kept, survivor_territory) = load_customer(&tx, survivor)?;
    let (duplicate_doc, mut merged, duplicate_territory) = load_customer(&tx, duplicate)?;
    if merged.merged_into == Some(survivor) {
        return Ok(MergeSummary {
            already_merged: true,
            ..MergeSummary::default()
        });
    }
    if merged.voided.is_some() {
        return Err(ServerError::malformed(format!(
            "customer {duplicate} is voided already; it cannot be merged"
        )));
    }
    if kept.voided.is_some() {
        return Err(ServerError::malformed(format!(
            "customer {survivor} is voided (or merged into another); choose a live survivor"
        )));
    }
    let filled = kept.absorb(&merged);
    let message = format!("merge: took the fields and contacts of duplicate {duplicate}");
    commit(
        &tx,
        &tree,
        survivor,
        survivor_doc,
        kept,
        &survivor_territory,
        message,
    )?;
    merged.merged_into = Some(survivor);
    merged.voided = Some(Voided {
        reason: format!("merged into {survivor}"),
        at: Utc::now(),
        by: SYSTEM_USER.to_string(),
    });
    let message = format!("merge: merged into {survivor}");
    commit(
        &tx,
        &tree,
        duplicate,
        duplicate_doc,
        merged,
        &duplicate_territory,
        message,
    )?;
    let dependents = realign::add_alias(&tx, &duplicate.to_string(), &survivor.to_string())?;
    // The deals and visits follow the survivor's territory and owner (客户归属) from now on,
    // like those of a customer that moved; readers gain or lose them through the move markers.
    let owner = owners::owner(&tx, &survivor.to_string())?;
    owners::move_dependents(
        &tx,
        &survivor.to_string(),
        (&survivor_territory, owner.as_deref()),
    )?;
    for (dependent, _) in &dependents {
        recheck(&tx, &tree, dependent, &survivor_territory)?;
    }
    tx.commit()?;
    Ok(MergeSummary {
        filled,
        dependents: dependents.len(),
        already_merged: false,
    })
}

/// Re-runs the rules of one dependent now that it counts as the survivor's.
fn recheck(
    conn: &Connection,
    tree: &Tree,
    doc_id: &str,
    territory: &str,
) -> Result<(), ServerError> {
    let (Ok(id), Some(row)) = (doc_id.parse::<RecordId>(), log::document(conn, doc_id)?) else {
        return Ok(());
    };
    let record = doc::load(&row.snapshot, &system_actor()).and_then(|d| doc::read(&d));
    match record {
        Ok(record) => {
            flags::on_change(conn, tree, id, &record, territory)?;
        }
        Err(e) => {
            tracing::warn!(doc = %doc_id, error = %e, "merge skipped an unreadable dependent")
        }
    }
    Ok(())
}

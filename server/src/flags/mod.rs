//! The flag engine: runs the pure rules of [`shared::rules`] on what a change touches and keeps
//! the resulting flags as synced records.
//!
//! [`on_change`] runs inside the transaction that accepts a change, after the document is saved
//! and re-projected, and runs only the rules that change can affect:
//!
//! | record | rules |
//! |---|---|
//! | customer | duplicates (撞单) against customers sharing a normalised tax id, phone or name; its orders' credit flags |
//! | quotation | contested customer (撞单), authority (with approvals) |
//! | order | contested customer, authority, credit limit (flag and [`hold`]; and the customer's other orders' credit flags), cross-region delivery (窜货), and the visits already holding its batches ([`stock`]) |
//! | visit | batch codes seen outside the region shipped to (窜货, [`stock`]) |
//! | flag | a person handled it: the server records who ([`write::stamp_handler`]) |
//!
//! One finding is one flag document, filed under every region it involves ([`write`]). A rule
//! run also closes the flags it no longer finds and re-opens closed ones it finds again
//! ([`lifecycle`]). [`recheck_all`] runs every rule over every document, for after a
//! realignment or a rule change. Both are idempotent: a flag's id derives from its finding's
//! key, and a flag whose content did not change gets no new change.
//!
//! Not done yet: a dealer's authorisations changing re-checks its orders only on a full
//! re-check, and an order's batches changing re-checks only the visits that now hold them
//! (a stock flag whose order went away closes on the next change to its visit or a re-check
//! of it); authority limits are those set with `admin limits set` ([`limits`]), else the demo
//! table.

pub mod commit;
pub mod facts;
pub mod guard;
pub mod hold;
pub mod lifecycle;
pub mod stock;
pub mod write;

use rusqlite::Connection;
use shared::RecordId;
use shared::domain::{Approval, Decision, Order, Quotation};
use shared::record::Record;
use shared::rules::authority::{Fingerprint, Limits, approval_still_valid, check_deal};
use shared::rules::credit::{NewOrder, check_credit};
use shared::rules::cross_region::{OrderDelivery, check_order_delivery};
use shared::rules::duplicates::{contested_customers, find_duplicates};
use shared::rules::facts::{Amount, DealFacts};
use shared::rules::{Finding, FindingKind, Message};

use rusqlite::OptionalExtension;

use crate::error::ServerError;
use crate::store::{Store, accounts, log};
use crate::territory::Tree;
use lifecycle::Covered;

pub use write::{SYSTEM_DEVICE, SYSTEM_USER, system_actor, system_actor_hex};

/// The settings key under which the authority limits are kept.
pub const LIMITS_SETTING: &str = "authority_limits";

/// The authority limits the rules apply: those set with `admin limits set`, else the documented
/// demo table ([`shared::rules::authority::demo_limits`]).
pub fn limits(conn: &Connection) -> Result<Limits, ServerError> {
    let stored: Option<String> = conn
        .prepare_cached("SELECT value FROM settings WHERE key = ?1")?
        .query_row([LIMITS_SETTING], |r| r.get(0))
        .optional()?;
    match stored {
        // The stored JSON was written by `admin limits set` from a checked value.
        Some(json) => serde_json::from_str(&json)
            .map_err(|e| ServerError::Internal(format!("stored authority limits: {e}"))),
        None => Ok(shared::rules::authority::demo_limits()),
    }
}

/// Runs the rules a change to `record` (document `id`, now in `territory`) touches, raises or
/// updates their flags, and closes the flags of those rules that are no longer found (see
/// [`lifecycle`]). Returns how many flag changes were written.
pub fn on_change(
    conn: &Connection,
    tree: &Tree,
    id: RecordId,
    record: &Record,
    territory: &str,
) -> Result<usize, ServerError> {
    let mut findings = Vec::new();
    let mut covered = Vec::new();
    let key = |kind: FindingKind, subject: RecordId| {
        let prefix = shared::rules::key_prefix(kind, &[&subject.to_string()]);
        Covered::Key(prefix.trim_end_matches(':').to_string())
    };
    let mut credit_of = None;
    match record {
        Record::Customer(_) => {
            let customer = facts::customer(conn, id)?;
            facts::store_keys(conn, id, customer.as_ref())?;
            if let Some(customer) = customer {
                findings.extend(find_duplicates(
                    &customer,
                    &facts::duplicate_candidates(conn, &customer)?,
                ));
            }
            covered.push(Covered::Involving(FindingKind::DuplicateCustomer, id));
            // The limit may have changed: the customer's credit flags are judged again.
            credit_of = Some(id);
        }
        Record::Quotation(q) => {
            findings.extend(contested_customers(&facts::deals_of_customer(
                conn,
                q.customer_id,
            )?));
            covered.push(key(
                FindingKind::ContestedCustomer,
                facts::resolved(conn, q.customer_id)?,
            ));
            let deal = q.facts(id, Some(territory.to_string()));
            findings.extend(authority(conn, &deal, q.approval.as_ref())?);
            covered.push(Covered::prefix(
                FindingKind::BeyondAuthority,
                &[&id.to_string()],
            ));
        }
        Record::Order(o) => {
            findings.extend(order_findings(conn, id, o, territory)?);
            let id_text = id.to_string();
            covered.extend([
                key(
                    FindingKind::ContestedCustomer,
                    facts::resolved(conn, o.customer_id)?,
                ),
                Covered::prefix(FindingKind::BeyondAuthority, &[&id_text]),
                key(FindingKind::CreditLimit, id),
                Covered::prefix(FindingKind::CrossRegionSale, &["order", &id_text]),
            ]);
            // This order's exposure changes the other orders' credit situation.
            credit_of = Some(o.customer_id);
        }
        Record::Visit(v) => {
            findings.extend(stock::visit_findings(conn, id, v, territory)?);
            covered.push(Covered::prefix(
                FindingKind::CrossRegionSale,
                &["stock", &id.to_string()],
            ));
        }
        // A person handled a flag: who did is the server's word.
        Record::Flag(_) => return write::stamp_handler(conn, id),
        Record::Dealer(_) | Record::Product(_) => {}
    }
    // The customer's other orders, whose credit situation this change may have ended.
    let mut others = Vec::new();
    if let Some(customer) = credit_of {
        for (other, order) in lifecycle::orders_with_credit_flags(conn, customer)? {
            if other != id {
                findings.extend(credit_finding(conn, other, &order)?);
                others.push(key(FindingKind::CreditLimit, other));
            }
        }
    }
    let mut written = 0;
    for finding in &findings {
        written += write::raise(conn, tree, finding, territory)?;
    }
    written += lifecycle::close_gone(conn, &covered, &findings, record.voided().is_some())?;
    written += lifecycle::close_gone(conn, &others, &findings, false)?;
    if let Record::Order(order) = record {
        // Past the credit limit: held as well as flagged (rule 4), in this same transaction.
        written += hold::place(conn, id, &findings)?;
        // Visits synced before this order may hold the batches it ships.
        written += stock::recheck_visits(conn, tree, order)?;
    }
    Ok(written)
}

/// The credit finding of order `id`, when it is live and its customer has a limit it passes.
fn credit_finding(
    conn: &Connection,
    id: RecordId,
    order: &Order,
) -> Result<Option<Finding>, ServerError> {
    let deal = order.facts(id, None);
    if !deal.is_live() {
        return Ok(None);
    }
    let Some(credit) = facts::credit(conn, order.customer_id, (id, order.created_at))? else {
        return Ok(None);
    };
    let new = NewOrder {
        id,
        salesperson: order.salesperson.clone(),
        total: Amount {
            amount: order.total(),
            currency: order.currency,
        },
    };
    Ok(check_credit(&credit, &new))
}

fn order_findings(
    conn: &Connection,
    id: RecordId,
    order: &Order,
    territory: &str,
) -> Result<Vec<Finding>, ServerError> {
    let mut out = contested_customers(&facts::deals_of_customer(conn, order.customer_id)?);
    let deal = order.facts(id, Some(territory.to_string()));
    // An order's own approval counts first; else an order made from an approved quotation
    // carries that approval, as long as its priced content is still what was approved.
    let own = order
        .approval
        .clone()
        .filter(|a| a.decision == Decision::Approved);
    let approval = match (own, order.quotation_id) {
        (Some(own), _) => Some(own),
        (None, Some(quotation)) => quotation_approval(conn, quotation)?,
        (None, None) => None,
    };
    out.extend(authority(conn, &deal, approval.as_ref())?);
    out.extend(credit_finding(conn, id, order)?);
    if order.voided.is_none() {
        let dealer = match order.dealer_id {
            Some(dealer) => facts::dealer(conn, dealer)?,
            None => None,
        };
        let delivery = OrderDelivery {
            order_id: id,
            number: order.number.clone(),
            customer_id: order.customer_id,
            salesperson: order.salesperson.clone(),
            customer_region: facts::territory(conn, order.customer_id)?,
            delivery_region: order.delivery_region.clone(),
            dealer,
        };
        out.extend(check_order_delivery(&delivery));
    }
    Ok(out)
}

/// The authority finding of a deal, taking its approval into account: a valid approval of
/// exactly this content clears it; an approval of other content (the deal was edited after
/// approval) makes the flag say that approval is needed again.
fn authority(
    conn: &Connection,
    deal: &DealFacts,
    approval: Option<&Approval>,
) -> Result<Option<Finding>, ServerError> {
    let author = facts::person(conn, &deal.salesperson)?;
    // A unit price below the price list is a discount too: judged against the list price.
    let priced = facts::with_list_prices(conn, deal)?;
    let Some(mut finding) = check_deal(&priced, &author, &limits(conn)?) else {
        return Ok(None);
    };
    if let Some(approval) = approval.filter(|a| a.decision == Decision::Approved) {
        if approval_still_valid(
            &Fingerprint::from_stored(approval.fingerprint.clone()),
            deal,
        ) {
            return Ok(None);
        }
        finding.message = Message {
            en: format!(
                "Approval by {} is no longer valid: the deal changed after it was approved and \
                 needs approval again. {}",
                approval.by, finding.message.en
            ),
            zh_cn: format!(
                "{}的审批已失效：批准后内容被修改，需重新审批。{}",
                approval.by, finding.message.zh_cn
            ),
        };
    }
    Ok(Some(finding))
}

/// The approval recorded on a quotation, if the server holds it.
fn quotation_approval(conn: &Connection, id: RecordId) -> Result<Option<Approval>, ServerError> {
    let Some(row) = log::document(conn, &id.to_string())? else {
        return Ok(None);
    };
    let actor = system_actor();
    Ok(shared::doc::load(&row.snapshot, &actor)
        .and_then(|d| shared::doc::read_as::<Quotation>(&d))
        .ok()
        .and_then(|q| q.approval))
}

/// What a full re-check did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecheckSummary {
    /// Documents the rules looked at.
    pub documents: usize,
    /// Flag changes written (zero when nothing changed since the last check).
    pub flag_changes: usize,
}

/// Re-runs every rule over every document: customers first (so duplicate keys are in place),
/// then the deals and visits. Idempotent: a second run writes nothing.
///
/// Safe while the server runs (`admin recheck` is a second process on the live database): each
/// document is re-checked in its own `BEGIN IMMEDIATE` transaction that reads the document
/// afresh, so a sync never waits long for it, and no flag or hold change is ever computed from
/// a state another writer has since changed ([`commit`]).
pub fn recheck_all(store: &Store) -> Result<RecheckSummary, ServerError> {
    store.blocking(|conn| {
        let mut summary = RecheckSummary::default();
        let actor = system_actor();
        for kind in ["customer", "quotation", "order", "visit"] {
            let ids: Vec<String> = {
                let mut stmt =
                    conn.prepare("SELECT doc_id FROM documents WHERE kind = ?1 ORDER BY doc_id")?;
                stmt.query_map([kind], |r| r.get(0))?
                    .collect::<Result<_, _>>()?
            };
            for doc_id in ids {
                let Ok(id) = doc_id.parse::<RecordId>() else {
                    continue;
                };
                let written = commit::immediate(conn, |tx| {
                    let tree = Tree::new(accounts::territories(tx)?);
                    let Some(row) = log::document(tx, &doc_id)? else {
                        return Ok(None);
                    };
                    let record = shared::doc::load(&row.snapshot, &actor)
                        .and_then(|d| shared::doc::read(&d));
                    let Ok(record) = record else {
                        tracing::warn!(doc = %doc_id, "re-check skipped an unreadable document");
                        return Ok(None);
                    };
                    on_change(tx, &tree, id, &record, &row.territory).map(Some)
                })?;
                if let Some(written) = written {
                    summary.documents += 1;
                    summary.flag_changes += written;
                }
            }
        }
        Ok(summary)
    })
}

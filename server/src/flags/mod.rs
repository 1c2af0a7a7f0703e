//! The flag engine: runs the pure rules of [`shared::rules`] on what a change touches and keeps
//! the resulting flags as synced records.
//!
//! [`on_change`] runs inside the transaction that accepts a change, after the document is saved
//! and re-projected, and runs only the rules that change can affect:
//!
//! | record | rules |
//! |---|---|
//! | customer | duplicates (撞单) against customers sharing a normalised tax id, phone or name |
//! | quotation | contested customer (撞单), authority (with approvals) |
//! | order | contested customer, authority, credit limit (flag and [`hold`]), cross-region delivery (窜货), and the visits already holding its batches ([`stock`]) |
//! | visit | batch codes seen outside the region shipped to (窜货, [`stock`]) |
//!
//! [`recheck_all`] runs every rule over every document, for after a realignment or a rule
//! change. Both are idempotent: flags have deterministic ids (key and region), and a flag whose
//! content did not change gets no new change.
//!
//! Not done yet: a flag whose situation has gone away is left as it is (people resolve it); a
//! dealer's authorisations changing re-checks its orders only on a full re-check; authority
//! limits are those set with `admin limits set` ([`limits`]), else the demo table.

pub mod facts;
pub mod guard;
pub mod hold;
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
use shared::rules::{Finding, Message};

use rusqlite::OptionalExtension;

use crate::error::ServerError;
use crate::store::{Store, accounts, log};
use crate::territory::Tree;

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

/// Runs the rules a change to `record` (document `id`, now in `territory`) touches and raises
/// or updates their flags. Returns how many flag changes were written.
pub fn on_change(
    conn: &Connection,
    tree: &Tree,
    id: RecordId,
    record: &Record,
    territory: &str,
) -> Result<usize, ServerError> {
    let mut findings = Vec::new();
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
        }
        Record::Quotation(q) => {
            findings.extend(contested_customers(&facts::deals_of_customer(
                conn,
                q.customer_id,
            )?));
            let deal = q.facts(id, Some(territory.to_string()));
            findings.extend(authority(conn, &deal, q.approval.as_ref())?);
        }
        Record::Order(o) => findings.extend(order_findings(conn, id, o, territory)?),
        Record::Visit(v) => findings.extend(stock::visit_findings(conn, id, v, territory)?),
        Record::Dealer(_) | Record::Product(_) | Record::Flag(_) => {}
    }
    let mut written = 0;
    for finding in &findings {
        written += write::raise(conn, tree, finding, territory)?;
    }
    if let Record::Order(order) = record {
        // Past the credit limit: held as well as flagged (rule 4), in this same transaction.
        written += hold::place(conn, id, &findings)?;
        // Visits synced before this order may hold the batches it ships.
        written += stock::recheck_visits(conn, tree, order)?;
    }
    Ok(written)
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
    if deal.is_live()
        && let Some(credit) = facts::credit(conn, order.customer_id, (id, order.created_at))?
    {
        let new = NewOrder {
            id,
            salesperson: order.salesperson.clone(),
            total: Amount {
                amount: order.total(),
                currency: order.currency,
            },
        };
        out.extend(check_credit(&credit, &new));
    }
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

/// Re-runs every rule over every document, in one transaction: customers first (so duplicate
/// keys are in place), then the deals and visits. Idempotent: a second run writes nothing.
pub fn recheck_all(store: &Store) -> Result<RecheckSummary, ServerError> {
    store.blocking(|conn| {
        let tree = Tree::new(accounts::territories(conn)?);
        let tx = conn.transaction()?;
        let mut summary = RecheckSummary::default();
        let actor = system_actor();
        for kind in ["customer", "quotation", "order", "visit"] {
            let rows: Vec<(String, String, Vec<u8>)> = {
                let mut stmt = tx.prepare(
                    "SELECT doc_id, territory, snapshot FROM documents WHERE kind = ?1
                     ORDER BY doc_id",
                )?;
                stmt.query_map([kind], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect::<Result<_, _>>()?
            };
            for (doc_id, territory, snapshot) in rows {
                let Ok(id) = doc_id.parse::<RecordId>() else {
                    continue;
                };
                let record =
                    shared::doc::load(&snapshot, &actor).and_then(|d| shared::doc::read(&d));
                let Ok(record) = record else {
                    tracing::warn!(doc = %doc_id, "re-check skipped an unreadable document");
                    continue;
                };
                summary.documents += 1;
                summary.flag_changes += on_change(&tx, &tree, id, &record, &territory)?;
            }
        }
        tx.commit()?;
        Ok(summary)
    })
}

//! Credit holds (信用冻结): rule 4's second half. An order the credit rule finds past its
//! customer's limit is flagged (like every finding) and also *held*: the server writes a
//! [`CreditHold`] into the order document itself, with its own actor, in the transaction that
//! accepted the change, appended to the log so it reaches laptops like any change. While held,
//! the order may not advance past `confirmed`; a region manager or above whose scope holds the
//! order's territory releases it on their laptop (offline too), and the server verifies the
//! release when it arrives.
//!
//! **Decision — one hold per order**: a hold is placed only on an order that has none, so a
//! re-check, or any later change to the order, never holds it again; in particular a released
//! order is not re-held while its situation stays as it was released. (If its exposure grows
//! later, the credit flag is updated and says so; the release stands.) Only a
//! [`Severity::Critical`] finding holds: the foreign-currency warning means the credit could not
//! be checked, not that it is exceeded.

use rusqlite::Connection;
use shared::RecordId;
use shared::doc;
use shared::domain::{CreditHold, Order, OrderStatus};
use shared::rules::{Finding, FindingKind, Severity};

use super::commit::{self, Filing};
use super::guard::Refusal;
use crate::accounts::{Caller, Role};
use crate::error::ServerError;
use crate::territory::Tree;

/// Holds order `id` if `findings` hold a critical credit-limit finding on it and it has never
/// been held. Returns how many changes were written (0 or 1).
pub fn place(conn: &Connection, id: RecordId, findings: &[Finding]) -> Result<usize, ServerError> {
    let Some(finding) = findings.iter().find(|f| {
        f.kind == FindingKind::CreditLimit
            && f.severity == Severity::Critical
            && f.records.first() == Some(&id)
    }) else {
        return Ok(0);
    };
    let id_text = id.to_string();
    let Some(mut loaded) = commit::load(conn, &id_text)? else {
        return Ok(0);
    };
    let internal = |e: doc::DocError| ServerError::Internal(format!("holding an order: {e}"));
    let mut order: Order = doc::read_as(&loaded.doc).map_err(internal)?;
    if order.credit_hold.is_some() {
        return Ok(0);
    }
    order.credit_hold = Some(CreditHold {
        reason: format!("{} / {}", finding.message.zh_cn, finding.message.en),
        placed_at: chrono::Utc::now(),
        released_by: None,
        released_at: None,
        note: None,
    });
    let row = loaded.row.clone();
    let filing = Filing {
        kind: &row.kind,
        territory: &row.territory,
        customer_id: row.customer_id.as_deref(),
    };
    let message = "credit hold: past the customer's credit limit";
    Ok(usize::from(commit::commit(
        conn,
        id,
        &mut loaded.doc,
        &order,
        message,
        filing,
    )?))
}

/// Checks a pushed change to an order against the order as the server held it (`before`,
/// `None` for a new one): the hold may not be created, removed or edited except by a valid
/// release, and a held order's status may not advance past `confirmed`.
pub fn check_order(
    tree: &Tree,
    caller: &Caller,
    before: Option<&Order>,
    after: &Order,
    territory: &str,
) -> Option<Refusal> {
    let old = before.and_then(|o| o.credit_hold.as_ref());
    let new = after.credit_hold.as_ref();
    if old != new
        && let Err(refusal) = check_release(tree, caller, old, new, territory)
    {
        return Some(refusal);
    }
    let past_confirmed = matches!(
        after.status,
        OrderStatus::Delivered | OrderStatus::Invoiced | OrderStatus::Paid
    );
    let advanced = before.is_none_or(|o| o.status != after.status);
    if after.is_held() && past_confirmed && advanced {
        return Some((
            "credit_hold",
            format!(
                "order {} is on credit hold and may not be {} until someone with the authority \
                 releases it",
                after.number,
                after.status.as_str()
            ),
        ));
    }
    None
}

/// A change of the hold is allowed only as a release: the same hold, now with who, when and a
/// note, signed by the pusher, who is a region manager or above with the order in scope.
fn check_release(
    tree: &Tree,
    caller: &Caller,
    old: Option<&CreditHold>,
    new: Option<&CreditHold>,
    territory: &str,
) -> Result<(), Refusal> {
    let forged = || {
        Err((
            "credit_hold",
            "only the server places a credit hold; it may only be released, with who, when \
             and a note"
                .to_string(),
        ))
    };
    let (Some(old), Some(new)) = (old, new) else {
        return forged();
    };
    let (Some(by), Some(_)) = (new.released_by.as_deref(), new.released_at) else {
        return forged();
    };
    if !old.is_active() || new.reason != old.reason || new.placed_at != old.placed_at {
        return forged();
    }
    if by != caller.user.name {
        return Err((
            "release_not_allowed",
            format!(
                "the release is signed by {by} but was pushed by {}",
                caller.user.name
            ),
        ));
    }
    let authority = matches!(
        caller.user.role,
        Role::RegionManager | Role::LargeRegionManager
    );
    if !authority || !tree.is_within(territory, &caller.user.territory) {
        return Err((
            "release_not_allowed",
            format!(
                "{} ({}, {}) may not release a credit hold in territory {territory}: it takes a \
                 region manager or above whose territory holds the order",
                caller.user.name, caller.user.role, caller.user.territory
            ),
        ));
    }
    Ok(())
}

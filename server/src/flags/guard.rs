//! Checks on pushed changes that the flag engine owns: people may only handle a flag (status,
//! who, when, note), an approval of a quotation or an order must come from someone with the
//! authority and scope, and an order's credit hold may only be released, by someone allowed to
//! ([`super::hold`]).

use rusqlite::Connection;
use shared::RecordId;
use shared::domain::{Approval, Decision, QuoteStatus};
use shared::record::Record;
use shared::rules::approval::may_decide;
use shared::rules::facts::DealFacts;

use super::facts;
use crate::accounts::{Caller, Role};
use crate::error::ServerError;
use crate::territory::Tree;

/// Why a pushed change is refused: a stable code and a sentence.
pub type Refusal = (&'static str, String);

/// Checks a pushed change to a flag, a quotation or an order against the record as the server held it
/// before (`before`, `None` for a new document). `Ok(Some(_))` refuses the change.
pub fn check_push(
    conn: &Connection,
    tree: &Tree,
    caller: &Caller,
    id: RecordId,
    before: Option<&Record>,
    after: &Record,
    territory: &str,
) -> Result<Option<Refusal>, ServerError> {
    match after {
        Record::Flag(new) => Ok(match before {
            Some(Record::Flag(old)) if new.with_handling_of(old) == *old => {
                may_handle(tree, caller, territory)
            }
            Some(Record::Flag(_)) => Some((
                "flag_readonly",
                "only a flag's status, handled_by, handled_at and note may be changed".into(),
            )),
            _ => Some((
                "flag_readonly",
                "flags are raised by the server, not created".into(),
            )),
        }),
        Record::Quotation(new) => {
            let old = match before {
                Some(Record::Quotation(old)) => Some(old),
                _ => None,
            };
            let became_approved = new.status == QuoteStatus::Approved
                && old.is_none_or(|q| q.status != QuoteStatus::Approved);
            let approved = new
                .approval
                .as_ref()
                .is_some_and(|a| a.decision == Decision::Approved);
            if became_approved && !approved {
                return Ok(Some((
                    "approval_not_allowed",
                    "a quotation is approved by recording an approval (`quote approve`), not by \
                     its status alone / 报价须经审批（quote approve），不能只改状态"
                        .into(),
                )));
            }
            let deal = new.facts(id, Some(territory.to_string()));
            let old = old.and_then(|q| q.approval.as_ref());
            check_approval(conn, tree, caller, old, new.approval.as_ref(), &deal)
        }
        Record::Order(new) => {
            let old = match before {
                Some(Record::Order(old)) => Some(old),
                _ => None,
            };
            let deal = new.facts(id, Some(territory.to_string()));
            let old_approval = old.and_then(|o| o.approval.as_ref());
            if let Some(refusal) = check_approval(
                conn,
                tree,
                caller,
                old_approval,
                new.approval.as_ref(),
                &deal,
            )? {
                return Ok(Some(refusal));
            }
            Ok(super::hold::check_order(tree, caller, old, new, territory))
        }
        _ => Ok(None),
    }
}

/// Whether the caller may handle (acknowledge, resolve, note) a flag filed under `territory`:
/// head office, or a region manager or above whose territory holds one of the flag's regions.
/// A salesperson sees the flags of their work but does not rule on them.
fn may_handle(tree: &Tree, caller: &Caller, territory: &str) -> Option<Refusal> {
    let allowed = match caller.user.role {
        Role::HeadOffice => true,
        Role::RegionManager | Role::LargeRegionManager => {
            tree.is_within(territory, &caller.user.territory)
        }
        Role::Salesperson | Role::Finance | Role::Admin => false,
    };
    (!allowed).then(|| {
        (
            "flag_not_allowed",
            format!(
                "only a manager of a region the flag involves, or head office, may acknowledge \
                 or resolve a flag; {} ({}) may not / 只有预警所涉区域的经理或总部可以确认或解决\
                 预警；{}（{}）不可以",
                caller.user.name, caller.user.role, caller.user.name, caller.user.role
            ),
        )
    })
}

/// A new or changed approval on a quotation or an order must name the person pushing it, who
/// must be allowed to record that decision on the deal ([`may_decide`], the rule the manager's
/// laptop applied when the decision was made).
fn check_approval(
    conn: &Connection,
    tree: &Tree,
    caller: &Caller,
    old: Option<&Approval>,
    new: Option<&Approval>,
    deal: &DealFacts,
) -> Result<Option<Refusal>, ServerError> {
    let Some(approval) = new.filter(|a| Some(*a) != old) else {
        return Ok(None);
    };
    if approval.by != caller.user.name {
        return Ok(Some((
            "approval_not_allowed",
            format!(
                "the approval is signed by {} but was pushed by {} / 审批署名为{}，提交者却是{}",
                approval.by, caller.user.name, approval.by, caller.user.name
            ),
        )));
    }
    let approver = facts::person(conn, &caller.user.name)?;
    let scope = facts::scope(tree, &caller.user);
    let limits = super::limits(conn)?;
    Ok(
        match may_decide(approval.decision, &approver, &scope, deal, &limits) {
            Ok(()) => None,
            Err(error) => {
                let typed = serde_json::to_string(&error).unwrap_or_default();
                Some(("approval_not_allowed", format!("{} {typed}", error.both())))
            }
        },
    )
}

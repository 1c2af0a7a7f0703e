//! `fieldsync quote approve|reject` and `fieldsync order approve|reject`: a manager's decision
//! on a deal beyond its author's authority, recorded on their laptop, offline too.

use clap::Args;
use serde_json::json;
use shared::RecordKind;
use shared::domain::Decision;

use super::super::Context;
use crate::error::ClientError;

/// The deal decided on and the note that goes with the decision.
#[derive(Debug, Args)]
pub struct DecisionArgs {
    /// Quotation or order id (or unique prefix).
    id: String,
    /// Why (required to reject: the salesperson reads it).
    #[arg(long)]
    note: Option<String>,
}

/// Records the decision of this device's user on a quotation or an order and says so. Refused
/// at once when the rules say they may not make it (their own deal, beyond their authority);
/// the server checks it again on sync.
pub fn run(
    ctx: &mut Context,
    kind: RecordKind,
    decision: Decision,
    args: DecisionArgs,
) -> Result<(), ClientError> {
    let id = ctx.store.find_id(&args.id, Some(kind))?;
    let approval = if kind == RecordKind::Order {
        ctx.store.decide_order(id, decision, args.note)?
    } else {
        ctx.store.decide_quotation(id, decision, args.note)?
    };
    let message = match decision {
        Decision::Approved => ctx.out.text("approved:", "已批准："),
        Decision::Rejected => ctx.out.text("rejected:", "已驳回："),
    };
    ctx.out.done(
        &format!("{message} {id}"),
        json!({"id": id, "decision": decision.as_str(), "by": approval.by,
               "note": approval.note}),
    );
    Ok(())
}

//! A manager's decision on a quotation or an order, recorded on their laptop, offline too.
//!
//! The decision is checked here by the rule the server applies on sync
//! ([`shared::rules::approval::may_decide`]), so a salesperson approving their own deal, or
//! anyone without the authority, is told at once instead of finding it refused later. Two
//! things the laptop cannot know as the server does: the approver's territory (taken as
//! everything here, because a laptop only holds records in its user's scope) and the
//! company's configured limits (the laptop uses the demo table, as its warnings do). The
//! server's verdict on sync is the one that counts.

use shared::RecordId;
use shared::domain::{Approval, Decision, Order, Quotation, QuoteStatus};
use shared::rules::approval::{covers, decide, may_decide};
use shared::rules::authority::{Scope, demo_limits};
use shared::rules::facts::DealFacts;
use shared::{Problem, Validation};

use super::Store;
use crate::error::ClientError;

impl Store {
    /// Records this device's user's decision on a quotation: the approval with its note, and
    /// the status that goes with it (approved or rejected). Returns the approval recorded.
    pub fn decide_quotation(
        &mut self,
        id: RecordId,
        decision: Decision,
        note: Option<String>,
    ) -> Result<Approval, ClientError> {
        let quote: Quotation = self.get(id)?;
        let deal = quote.facts(id, self.customer_region(quote.customer_id)?);
        let approval = self.decision(&deal, decision, note)?;
        let recorded = approval.clone();
        self.update::<Quotation>(id, "decide on quotation", move |q| {
            q.status = match decision {
                Decision::Approved => QuoteStatus::Approved,
                Decision::Rejected => QuoteStatus::Rejected,
            };
            q.approval = Some(recorded);
            Ok(())
        })?;
        Ok(approval)
    }

    /// Records this device's user's decision on an order. An order's status says where the
    /// goods and money are, so the decision is recorded beside it and the status is left alone.
    pub fn decide_order(
        &mut self,
        id: RecordId,
        decision: Decision,
        note: Option<String>,
    ) -> Result<Approval, ClientError> {
        let order: Order = self.get(id)?;
        let deal = order.facts(id, self.customer_region(order.customer_id)?);
        let approval = self.decision(&deal, decision, note)?;
        let recorded = approval.clone();
        self.update::<Order>(id, "decide on order", move |o| {
            o.approval = Some(recorded);
            Ok(())
        })?;
        Ok(approval)
    }

    /// Whether an order is let through by an approval this laptop holds: its own, or its
    /// quotation's while the priced content is what was approved (the server's rule).
    pub(super) fn order_approved(
        &self,
        order: &Order,
        deal: &DealFacts,
    ) -> Result<bool, ClientError> {
        if covers(order.approval.as_ref(), deal) {
            return Ok(true);
        }
        let Some(quotation) = order.quotation_id else {
            return Ok(false);
        };
        match self.get::<Quotation>(quotation) {
            Ok(q) => Ok(covers(q.approval.as_ref(), deal)),
            // The quotation is not on this laptop: the server decides.
            Err(ClientError::NotFound { .. }) => Ok(false),
            Err(other) => Err(other),
        }
    }

    /// The approval record of this device's user's decision on `deal`, if they may make it.
    fn decision(
        &self,
        deal: &DealFacts,
        decision: Decision,
        note: Option<String>,
    ) -> Result<Approval, ClientError> {
        let note = note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
        if decision == Decision::Rejected && note.is_none() {
            // A rejection tells the salesperson why; without a reason it helps nobody.
            return Err(Validation::one("note", Problem::Required).into());
        }
        let user = self.device().user.clone();
        let approver = self.author(&user)?;
        if let Err(error) = may_decide(decision, &approver, &Scope::All, deal, &demo_limits()) {
            return Err(Validation::one("approval", Problem::Inconsistent(error.both())).into());
        }
        Ok(decide(decision, &user, chrono::Utc::now(), deal, note))
    }
}

/// A manager's decision waiting for the salesperson: a quotation of theirs approved (to send)
/// or rejected (to revise), or an order of theirs rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingDecision {
    /// `quotation` or `order`.
    pub kind: &'static str,
    /// The deal.
    pub id: RecordId,
    /// Its number.
    pub number: String,
    /// The decision.
    pub approval: Approval,
}

impl Store {
    /// The decisions on this device's user's own deals that wait for them: quotations still
    /// approved or rejected (the status moves on when they act), orders rejected.
    pub fn pending_decisions(&self) -> Result<Vec<PendingDecision>, ClientError> {
        let mut stmt = self.conn.prepare(
            "SELECT 'quotation', doc_id FROM quotations
             WHERE salesperson = ?1 AND voided = 0 AND approval IS NOT NULL
               AND status IN ('approved', 'rejected')
             UNION ALL
             SELECT 'order', doc_id FROM orders
             WHERE salesperson = ?1 AND voided = 0 AND approval = 'rejected'",
        )?;
        let rows = stmt
            .query_map([&self.device().user], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut out = Vec::new();
        for (kind, id) in rows {
            let Ok(id) = id.parse::<RecordId>() else {
                continue;
            };
            let (kind, number, approval) = if kind == "order" {
                let o: Order = self.get(id)?;
                ("order", o.number, o.approval)
            } else {
                let q: Quotation = self.get(id)?;
                ("quotation", q.number, q.approval)
            };
            if let Some(approval) = approval {
                out.push(PendingDecision {
                    kind,
                    id,
                    number,
                    approval,
                });
            }
        }
        Ok(out)
    }
}

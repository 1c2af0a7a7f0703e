//! Approving or rejecting a deal (quotation or order) beyond its author's authority: who may
//! decide, and the decision as recorded. One rule for both sides: the manager's laptop checks it
//! the moment the decision is made (offline), and the server checks it again when the decision
//! arrives, so a laptop cannot talk its way past it.
//!
//! **Decision — rejecting**: an approval needs the authority to cover the deal; a rejection
//! needs the scope but not that authority (a region manager may turn down a deal only head
//! office could approve), yet it must come from a manager: a salesperson does not reject a
//! colleague's deal. Nobody decides on their own deal either way.

use chrono::{DateTime, Utc};

use super::authority::{ApprovalError, Limits, Person, Role, Scope, can_approve};
use super::facts::DealFacts;
use super::fingerprint::Fingerprint;
use crate::domain::{Approval, Decision};

/// Whether `approver` (with the territories they reach) may record `decision` on `deal`.
pub fn may_decide(
    decision: Decision,
    approver: &Person,
    scope: &Scope,
    deal: &DealFacts,
    limits: &Limits,
) -> Result<(), ApprovalError> {
    match (decision, can_approve(approver, scope, deal, limits)) {
        (
            Decision::Rejected,
            Err(
                ApprovalError::DiscountBeyondAuthority { .. }
                | ApprovalError::AmountBeyondAuthority { .. },
            ),
        ) if approver.role != Role::Salesperson => Ok(()),
        (_, verdict) => verdict,
    }
}

/// The approval record of a decision on `deal` as it is now, signed by `by` at `at`: the
/// fingerprint ties it to exactly this content.
pub fn decide(
    decision: Decision,
    by: &str,
    at: DateTime<Utc>,
    deal: &DealFacts,
    note: Option<String>,
) -> Approval {
    Approval {
        decision,
        by: by.to_string(),
        at,
        fingerprint: Fingerprint::of(deal).as_str().to_string(),
        note: note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty()),
    }
}

/// Whether `approval` lets `deal` through: an approval (not a rejection) of exactly the
/// deal's current content.
pub fn covers(approval: Option<&Approval>, deal: &DealFacts) -> bool {
    approval.is_some_and(|a| {
        a.decision == Decision::Approved
            && Fingerprint::from_stored(a.fingerprint.clone()) == Fingerprint::of(deal)
    })
}

impl ApprovalError {
    /// The reason in Chinese, for people who read the product in zh-CN (the English one is the
    /// error's `Display`).
    pub fn zh_cn(&self) -> String {
        match self {
            ApprovalError::DiscountBeyondAuthority {
                discount_pct,
                allowed_pct,
            } => format!("折扣{discount_pct}%超出审批人权限{allowed_pct}%"),
            ApprovalError::AmountBeyondAuthority {
                total,
                allowed,
                currency,
            } => format!(
                "金额{total} {currency}超出审批人权限（{}）",
                allowed.map_or_else(
                    || format!("无{currency}额度"),
                    |a| format!("{a} {currency}")
                )
            ),
            ApprovalError::OutsideScope { region } => {
                format!("区域{region}不在审批人的管辖范围内")
            }
            ApprovalError::NoTerritory => "该单据无所属区域，只有总部可以审批".to_string(),
            ApprovalError::OwnDeal => "审批人不能审批自己的单据".to_string(),
            ApprovalError::Voided => "该单据已作废".to_string(),
        }
    }

    /// The reason in both languages, as a refusal shows it.
    pub fn both(&self) -> String {
        format!("{self} / {}", self.zh_cn())
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;

    use super::*;
    use crate::RecordId;
    use crate::domain::QuoteStatus;
    use crate::rules::authority::{StaffGrade, demo_limits};
    use crate::rules::facts::{DealStatus, PricedLine};

    fn deal(discount: &str) -> DealFacts {
        DealFacts {
            id: RecordId::from(uuid::Uuid::from_u128(1)),
            customer_id: RecordId::from(uuid::Uuid::from_u128(2)),
            salesperson: "li".into(),
            region: Some("SH".into()),
            status: DealStatus::Quote(QuoteStatus::Submitted),
            voided: false,
            currency: crate::money::Currency::CNY,
            lines: vec![PricedLine {
                product: "A".into(),
                quantity: Decimal::ONE,
                unit_price: Decimal::from(100),
                discount_pct: Decimal::from_str_exact(discount).unwrap(),
                list_price: None,
            }],
        }
    }

    fn person(user: &str, role: Role) -> Person {
        Person {
            user: user.into(),
            role,
            grade: StaffGrade::Regular,
        }
    }

    #[test]
    fn who_may_decide() {
        use Decision::{Approved, Rejected};
        let limits = demo_limits();
        let sh = Scope::Regions(["SH".to_string()].into());
        let bj = Scope::Regions(["BJ".to_string()].into());
        let manager = person("zhou", Role::RegionManager);
        let colleague = person("wang", Role::Salesperson);
        let author = person("li", Role::RegionManager);
        // (decision, approver, scope, largest discount, allowed)
        let cases = [
            (Approved, &manager, &sh, "15", true),
            (Rejected, &manager, &sh, "15", true),
            // Beyond the manager's 20 %: may turn it down, not let it through.
            (Approved, &manager, &sh, "25", false),
            (Rejected, &manager, &sh, "25", true),
            (Rejected, &manager, &bj, "25", false),
            // A salesperson decides nothing beyond their own authority, either way.
            (Approved, &colleague, &sh, "15", false),
            (Rejected, &colleague, &sh, "15", false),
            // Nobody decides on their own deal.
            (Approved, &author, &sh, "5", false),
            (Rejected, &author, &sh, "5", false),
        ];
        for (i, (decision, who, scope, discount, allowed)) in cases.into_iter().enumerate() {
            let verdict = may_decide(decision, who, scope, &deal(discount), &limits);
            assert_eq!(verdict.is_ok(), allowed, "case {i}: {verdict:?}");
        }
    }

    #[test]
    fn a_decision_is_tied_to_the_content_and_says_why_in_both_languages() {
        let at = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let approval = decide(
            Decision::Rejected,
            "zhou",
            at,
            &deal("25"),
            Some("  ".into()),
        );
        assert_eq!(approval.note, None);
        assert_eq!(approval.fingerprint, Fingerprint::of(&deal("25")).as_str());
        assert_ne!(approval.fingerprint, Fingerprint::of(&deal("24")).as_str());
        assert!(
            !covers(Some(&approval), &deal("25")),
            "a rejection lets nothing through"
        );
        let approved = decide(Decision::Approved, "zhou", at, &deal("25"), None);
        assert!(covers(Some(&approved), &deal("25")));
        assert!(
            !covers(Some(&approved), &deal("24")),
            "edited after approval"
        );
        let both = ApprovalError::OwnDeal.both();
        assert!(
            both.contains("own deal") && both.contains("自己的单据"),
            "{both}"
        );
    }
}

//! Discounts and amounts beyond a person's authority (超出权限), and who may approve them.
//!
//! **Limits** are configured per role and grade ([`Limits`], loadable from TOML or JSON). An
//! entry with a grade applies to that role and grade; an entry without one applies to every
//! grade of the role that has no entry of its own. A person with no entry has no authority.
//!
//! **Decision — currencies**: amount limits are kept *per currency* (`max_amount` maps a
//! currency to the largest total allowed in it), because this pure layer has no exchange rates
//! and converting with a stale rate would make an approval depend on the day it was checked. A
//! deal in a currency its author has no limit for is beyond their authority (it needs someone
//! with authority in that currency, or one with `unlimited_amount`).

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::facts::DealFacts;
pub use super::fingerprint::{Fingerprint, approval_still_valid};
use super::{Detail, Finding, FindingKind, Message, Severity, make_key, tidy};
use crate::money::{Currency, format_amount};
use crate::word_enum;

word_enum! {
    /// A person's role in the sales organisation.
    pub enum Role {
        /// 业务员
        Salesperson = ("salesperson", "Salesperson", "业务员"),
        /// 区域经理
        RegionManager = ("region_manager", "Region manager", "区域经理"),
        /// 大区经理
        LargeRegionManager = ("large_region_manager", "Large-region manager", "大区经理"),
        /// 总部（销售总监等）
        HeadOffice = ("head_office", "Head office", "总部"),
    }
}

word_enum! {
    /// A person's grade, which also caps expenses and sets commission rates.
    pub enum StaffGrade {
        /// 试用
        Probation = ("probation", "Probation", "试用"),
        /// 正式
        Regular = ("regular", "Regular", "正式"),
        /// 主管及以上
        Supervisor = ("supervisor", "Supervisor", "主管"),
    }
}

/// One person's authority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limit {
    /// The role it applies to.
    pub role: Role,
    /// The grade it applies to; `None` for every grade without an entry of its own.
    #[serde(default)]
    pub grade: Option<StaffGrade>,
    /// Largest discount on any line, in percent.
    pub max_discount_pct: Decimal,
    /// Largest deal total, per currency.
    #[serde(default)]
    pub max_amount: BTreeMap<Currency, Decimal>,
    /// No cap on amounts in any currency (head office).
    #[serde(default)]
    pub unlimited_amount: bool,
}

impl Limit {
    /// Whether a deal's discount and total are within this authority; the error says which
    /// one is not.
    fn covers(&self, deal: &DealFacts) -> Result<(), ApprovalError> {
        let discount = deal.max_discount();
        if discount > self.max_discount_pct {
            return Err(ApprovalError::DiscountBeyondAuthority {
                discount_pct: discount,
                allowed_pct: self.max_discount_pct,
            });
        }
        let total = deal.total();
        let allowed = self.max_amount.get(&deal.currency).copied();
        if !self.unlimited_amount && allowed.is_none_or(|max| total > max) {
            return Err(ApprovalError::AmountBeyondAuthority {
                total,
                allowed,
                currency: deal.currency,
            });
        }
        Ok(())
    }

    /// The authority of someone with no entry: nothing.
    fn none(role: Role, grade: StaffGrade) -> Self {
        Self {
            role,
            grade: Some(grade),
            max_discount_pct: Decimal::ZERO,
            max_amount: BTreeMap::new(),
            unlimited_amount: false,
        }
    }
}

/// The configured limits. In TOML:
///
/// ```toml
/// [[limits]]
/// role = "salesperson"
/// grade = "regular"
/// max_discount_pct = "10"
/// max_amount = { CNY = "200000" }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Limits {
    /// The entries.
    pub limits: Vec<Limit>,
}

impl Limits {
    /// The limit of a person: their role and grade's entry, else their role's grade-less entry,
    /// else none (no authority at all).
    pub fn for_person(&self, role: Role, grade: StaffGrade) -> Limit {
        let exact = self
            .limits
            .iter()
            .find(|l| l.role == role && l.grade == Some(grade));
        let any_grade = || {
            self.limits
                .iter()
                .find(|l| l.role == role && l.grade.is_none())
        };
        exact
            .or_else(any_grade)
            .cloned()
            .unwrap_or_else(|| Limit::none(role, grade))
    }

    /// The lowest role whose authority (at its best-provided grade) covers the deal, so a
    /// request can be routed to the right manager; `None` when nobody's does.
    pub fn required_role(&self, deal: &DealFacts) -> Option<Role> {
        Role::ALL.iter().copied().find(|role| {
            StaffGrade::ALL
                .iter()
                .any(|grade| self.for_person(*role, *grade).covers(deal).is_ok())
        })
    }
}

/// The demo organisation's limits (CNY only; a deal in another currency needs head office):
///
/// | role | grade | max discount | max total |
/// |---|---|---|---|
/// | salesperson | probation | 5 % | 50 000 CNY |
/// | salesperson | regular | 10 % | 200 000 CNY |
/// | salesperson | supervisor | 15 % | 500 000 CNY |
/// | region manager | any | 20 % | 1 000 000 CNY |
/// | large-region manager | any | 30 % | 5 000 000 CNY |
/// | head office | any | 100 % | unlimited |
pub fn demo_limits() -> Limits {
    let entry = |role, grade, pct: i64, cny: Option<i64>| Limit {
        role,
        grade,
        max_discount_pct: Decimal::from(pct),
        max_amount: cny
            .map(|cny| BTreeMap::from([(Currency::CNY, Decimal::from(cny))]))
            .unwrap_or_default(),
        unlimited_amount: cny.is_none(),
    };
    use Role::*;
    use StaffGrade::*;
    Limits {
        limits: vec![
            entry(Salesperson, Some(Probation), 5, Some(50_000)),
            entry(Salesperson, Some(Regular), 10, Some(200_000)),
            entry(Salesperson, Some(Supervisor), 15, Some(500_000)),
            entry(RegionManager, None, 20, Some(1_000_000)),
            entry(LargeRegionManager, None, 30, Some(5_000_000)),
            entry(HeadOffice, None, 100, None),
        ],
    }
}

/// A person as far as authority goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// User name.
    pub user: String,
    /// Role.
    pub role: Role,
    /// Grade.
    pub grade: StaffGrade,
}

/// The territories a person's authority reaches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Everything (head office).
    All,
    /// These region codes (resolve a manager's node with
    /// [`crate::report::TerritoryTree::regions_under`]).
    Regions(BTreeSet<String>),
}

/// Why an approval is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum ApprovalError {
    /// The largest discount is beyond the approver's authority.
    #[error("a discount of {discount_pct}% is beyond the approver's authority of {allowed_pct}%")]
    DiscountBeyondAuthority {
        /// The deal's largest discount.
        discount_pct: Decimal,
        /// The approver's authority.
        allowed_pct: Decimal,
    },
    /// The total is beyond the approver's authority.
    #[error("a total of {total} {currency} is beyond the approver's authority ({})",
        allowed.map_or_else(|| format!("none in {currency}"), |a| format!("{a} {currency}")))]
    AmountBeyondAuthority {
        /// The deal's total.
        total: Decimal,
        /// The approver's authority in that currency, if any.
        allowed: Option<Decimal>,
        /// The currency.
        currency: Currency,
    },
    /// The deal's region is outside the approver's territory.
    #[error("region {region} is outside the approver's territory")]
    OutsideScope {
        /// The deal's region.
        region: String,
    },
    /// The deal has no region, so only someone with company-wide scope may approve it.
    #[error("the deal has no territory; only head office may approve it")]
    NoTerritory,
    /// Nobody approves their own deal (two people see every exception).
    #[error("an approver may not approve their own deal")]
    OwnDeal,
    /// A voided deal cannot be approved.
    #[error("the deal is voided")]
    Voided,
}

/// Whether `deal` is beyond its author's authority: a finding naming both the discount and the
/// total against the author's limits. The key includes a digest of the deal's
/// [`Fingerprint`], so the same content gives the same flag and an edit after approval gives a
/// new one. Voided deals give none.
pub fn check_deal(deal: &DealFacts, author: &Person, limits: &Limits) -> Option<Finding> {
    if deal.voided {
        return None;
    }
    let limit = limits.for_person(author.role, author.grade);
    limit.covers(deal).err()?;
    let (discount, total) = (deal.max_discount(), deal.total());
    let allowed = limit.max_amount.get(&deal.currency).copied();
    let cur = deal.currency;
    let allowed_text = if limit.unlimited_amount {
        "unlimited".to_string()
    } else {
        allowed.map_or_else(
            || format!("none in {cur}"),
            |a| format!("{} {cur}", format_amount(a, cur)),
        )
    };
    let total_text = format!("{} {cur}", format_amount(total, cur));
    let pct = limit.max_discount_pct;
    Some(Finding {
        kind: FindingKind::BeyondAuthority,
        severity: Severity::Warning,
        key: make_key(
            FindingKind::BeyondAuthority,
            &[&deal.id.to_string(), &Fingerprint::of(deal).short()],
        ),
        records: vec![deal.id, deal.customer_id],
        people: tidy([author.user.as_str()]),
        regions: tidy(deal.region.iter()),
        message: Message {
            en: format!(
                "{} ({}) needs approval: discount up to {discount}% (authority {pct}%), total \
                 {total_text} (authority {allowed_text}).",
                author.user,
                author.role.label(crate::i18n::Lang::En)
            ),
            zh_cn: format!(
                "{}（{}）超出权限，需审批：最高折扣{discount}%（权限{pct}%），金额{total_text}\
                 （权限{allowed_text}）。",
                author.user,
                author.role.label(crate::i18n::Lang::ZhCn)
            ),
        },
        detail: Detail::Authority {
            max_discount_pct: discount,
            allowed_discount_pct: pct,
            total,
            allowed_amount: if limit.unlimited_amount {
                None
            } else {
                allowed
            },
            currency: cur,
        },
    })
}

/// Whether `approver` (a person and the territories they manage) may approve `deal`: the deal
/// must be live, someone else's, inside the approver's territory and within their authority.
/// Checked in that order, so the error names the first reason that applies.
pub fn can_approve(
    approver: &Person,
    scope: &Scope,
    deal: &DealFacts,
    limits: &Limits,
) -> Result<(), ApprovalError> {
    if deal.voided {
        return Err(ApprovalError::Voided);
    }
    if approver.user == deal.salesperson {
        return Err(ApprovalError::OwnDeal);
    }
    if let Scope::Regions(regions) = scope {
        let region = deal.region.as_deref().ok_or(ApprovalError::NoTerritory)?;
        if !regions.contains(region) {
            return Err(ApprovalError::OutsideScope {
                region: region.to_string(),
            });
        }
    }
    limits
        .for_person(approver.role, approver.grade)
        .covers(deal)
}

#[cfg(test)]
#[path = "authority_tests.rs"]
mod tests;

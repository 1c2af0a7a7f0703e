//! 撞单: two customer files for one customer, and two salespeople working one customer.
//!
//! **Decision — same salesperson**: a duplicate created by the *same* salesperson is still
//! reported, at [`Severity::Info`]: it is a slip to merge, not a dispute for a manager. Different
//! salespeople (or an unknown salesperson on either side) give [`Severity::Warning`], raised to
//! [`Severity::Critical`] when the tax ids match, because a unified social credit code names one
//! legal entity for certain while phones and names only suggest it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::facts::DealFacts;
use super::names::{normalise_name, normalise_phone, normalise_tax_id};
use super::{Detail, Finding, FindingKind, MatchedOn, Message, Severity, make_key, tidy};
use crate::RecordId;

/// A customer file as the duplicate rule sees it. Pass live (not voided, not merged away)
/// customers only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerFacts {
    /// The customer's record id.
    pub id: RecordId,
    /// Name as typed.
    pub name: String,
    /// Phone as typed.
    pub phone: Option<String>,
    /// Tax id as typed.
    pub tax_id: Option<String>,
    /// The salesperson who created / owns the file.
    pub salesperson: Option<String>,
    /// The customer's region.
    pub region: Option<String>,
    /// When the file was created.
    pub created_at: DateTime<Utc>,
}

/// The normalised identifying keys of a customer. The server can store these as indexed
/// columns and fetch only the candidates sharing one, so a check costs a few index lookups
/// instead of a scan of every customer.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CustomerKeys {
    /// [`normalise_name`] of the name.
    pub name: Option<String>,
    /// [`normalise_phone`] of the phone.
    pub phone: Option<String>,
    /// [`normalise_tax_id`] of the tax id.
    pub tax_id: Option<String>,
}

impl CustomerKeys {
    /// The keys of a customer.
    pub fn of(customer: &CustomerFacts) -> Self {
        Self {
            name: normalise_name(&customer.name),
            phone: customer.phone.as_deref().and_then(normalise_phone),
            tax_id: customer.tax_id.as_deref().and_then(normalise_tax_id),
        }
    }

    /// Which keys two customers share, strongest first; empty when none.
    pub fn matches(&self, other: &CustomerKeys) -> Vec<MatchedOn> {
        let same = |a: &Option<String>, b: &Option<String>| a.is_some() && a == b;
        let mut out = Vec::new();
        if same(&self.tax_id, &other.tax_id) {
            out.push(MatchedOn::TaxId);
        }
        if same(&self.phone, &other.phone) {
            out.push(MatchedOn::Phone);
        }
        if same(&self.name, &other.name) {
            out.push(MatchedOn::Name);
        }
        out
    }
}

/// The duplicate findings for `customer` against `existing` customers: one per existing
/// customer sharing a tax id, phone or name. `existing` may include `customer` itself (skipped).
/// The key is built from the two ids in sorted order, so checking A against B and B against A
/// give one flag.
pub fn find_duplicates(customer: &CustomerFacts, existing: &[CustomerFacts]) -> Vec<Finding> {
    let keys = CustomerKeys::of(customer);
    let mut out = Vec::new();
    for other in existing.iter().filter(|o| o.id != customer.id) {
        let matched_on = keys.matches(&CustomerKeys::of(other));
        if matched_on.is_empty() {
            continue;
        }
        out.push(duplicate_finding(customer, other, matched_on));
    }
    out
}

fn duplicate_finding(a: &CustomerFacts, b: &CustomerFacts, matched_on: Vec<MatchedOn>) -> Finding {
    // The older file is the original; the newer one is the suspected duplicate.
    let (original, newer) = if (b.created_at, b.id) <= (a.created_at, a.id) {
        (b, a)
    } else {
        (a, b)
    };
    let same_salesperson = a.salesperson.is_some() && a.salesperson == b.salesperson;
    let severity = if same_salesperson {
        Severity::Info
    } else if matched_on.contains(&MatchedOn::TaxId) {
        Severity::Critical
    } else {
        Severity::Warning
    };
    let (lo, hi) = if a.id < b.id {
        (a.id, b.id)
    } else {
        (b.id, a.id)
    };
    let en_on: Vec<&str> = matched_on.iter().map(|m| on_label(*m).0).collect();
    let zh_on: Vec<&str> = matched_on.iter().map(|m| on_label(*m).1).collect();
    let who = |c: &CustomerFacts| c.salesperson.clone().unwrap_or_else(|| "?".into());
    Finding {
        kind: FindingKind::DuplicateCustomer,
        severity,
        key: make_key(
            FindingKind::DuplicateCustomer,
            &[&lo.to_string(), &hi.to_string()],
        ),
        records: vec![newer.id, original.id],
        people: tidy(a.salesperson.iter().chain(b.salesperson.iter())),
        regions: tidy(a.region.iter().chain(b.region.iter())),
        message: Message {
            en: format!(
                "Customer \"{}\" (by {}) looks like existing customer \"{}\" (by {}): same {}.",
                newer.name,
                who(newer),
                original.name,
                who(original),
                en_on.join(", ")
            ),
            zh_cn: format!(
                "客户“{}”（{}创建）疑似与已有客户“{}”（{}创建）重复：{}相同。",
                newer.name,
                who(newer),
                original.name,
                who(original),
                zh_on.join("、")
            ),
        },
        detail: Detail::Duplicate {
            matched_on,
            same_salesperson,
        },
    }
}

fn on_label(on: MatchedOn) -> (&'static str, &'static str) {
    match on {
        MatchedOn::TaxId => ("tax id", "统一社会信用代码"),
        MatchedOn::Phone => ("phone", "电话"),
        MatchedOn::Name => ("name", "名称"),
    }
}

/// Customers worked by two or more different salespeople at once: open (not voided, not
/// closed — see [`super::facts::DealStatus::is_open`]) quotations or orders by different
/// salespeople for one customer. One finding per customer; its key is the customer's id alone,
/// so a third salesperson joining updates the same flag rather than opening a second one.
/// Regions are those of the deals.
pub fn contested_customers(open_deals: &[DealFacts]) -> Vec<Finding> {
    let mut by_customer: BTreeMap<RecordId, Vec<&DealFacts>> = BTreeMap::new();
    for deal in open_deals.iter().filter(|d| d.is_live()) {
        by_customer.entry(deal.customer_id).or_default().push(deal);
    }
    let mut out = Vec::new();
    for (customer, mut deals) in by_customer {
        let people = tidy(deals.iter().map(|d| d.salesperson.as_str()));
        if people.len() < 2 {
            continue;
        }
        deals.sort_by_key(|d| d.id);
        let mut records = vec![customer];
        records.extend(deals.iter().map(|d| d.id));
        let names = people.join(", ");
        out.push(Finding {
            kind: FindingKind::ContestedCustomer,
            severity: Severity::Warning,
            key: make_key(FindingKind::ContestedCustomer, &[&customer.to_string()]),
            records,
            regions: tidy(deals.iter().filter_map(|d| d.region.as_deref())),
            message: Message {
                en: format!(
                    "{} salespeople have open quotations or orders for one customer: {names}.",
                    people.len()
                ),
                zh_cn: format!(
                    "{}名业务员同时跟进同一客户的报价或订单：{}。",
                    people.len(),
                    people.join("、")
                ),
            },
            people,
            detail: Detail::Contested {
                deals: deals
                    .iter()
                    .map(|d| (d.id, d.salesperson.clone()))
                    .collect(),
            },
        });
    }
    out
}

#[cfg(test)]
#[path = "duplicates_tests.rs"]
mod tests;

//! The customer file (客户档案).

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::Voided;
use crate::RecordId;
use crate::money::Currency;
use crate::validate::{Problem, Validation};
use crate::word_enum;

word_enum! {
    /// What kind of business the customer is.
    pub enum CustomerKind {
        /// 批发
        Wholesaler = ("wholesaler", "Wholesaler", "批发"),
        /// 零售
        Retailer = ("retailer", "Retailer", "零售"),
        /// 代理
        Agent = ("agent", "Agent", "代理"),
        /// 特约
        Franchise = ("franchise", "Franchise", "特约"),
        /// 连锁
        Chain = ("chain", "Chain", "连锁"),
        /// 专营
        Speciality = ("speciality", "Speciality store", "专营"),
        /// 政府
        Government = ("government", "Government", "政府"),
        /// 个人
        Individual = ("individual", "Individual", "个人"),
    }
}

word_enum! {
    /// How important the customer is.
    pub enum Grade {
        /// 主力 (A)
        Key = ("key", "Key (A)", "主力"),
        /// 一般 (B)
        General = ("general", "General (B)", "一般"),
        /// 零散 (C)
        Occasional = ("occasional", "Occasional (C)", "零散"),
    }
}

word_enum! {
    /// Where the customer is in its life with us.
    pub enum Lifecycle {
        /// 潜在客户
        Prospect = ("prospect", "Prospect", "潜在客户"),
        /// 活跃客户
        Active = ("active", "Active", "活跃客户"),
        /// 休眠客户
        Dormant = ("dormant", "Dormant", "休眠客户"),
    }
}

/// Basic facts (基本资料).
#[derive(Debug, Clone, Default, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Basics {
    /// Postal address.
    pub address: Option<String>,
    /// Main telephone.
    pub phone: Option<String>,
    /// Owner (老板).
    pub owner: Option<String>,
    /// Manager (经理).
    pub manager: Option<String>,
    /// Legal representative (法人代表).
    pub legal_rep: Option<String>,
    /// Date founded.
    #[autosurgeon(with = "crate::codec::opt_date")]
    pub founded: Option<NaiveDate>,
    /// Date of the first trade with us.
    #[autosurgeon(with = "crate::codec::opt_date")]
    pub first_trade: Option<NaiveDate>,
    /// Organisation form (e.g. 有限责任公司).
    pub org_form: Option<String>,
    /// Industry.
    pub industry: Option<String>,
    /// Tax id: the 18-character unified social credit code (统一社会信用代码).
    pub tax_id: Option<String>,
}

/// Characteristics (客户特征).
#[derive(Debug, Clone, Default, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Profile {
    /// Area the customer serves.
    pub service_area: Option<String>,
    /// Sales capacity, in words.
    pub sales_capacity: Option<String>,
    /// Development potential, in words.
    pub potential: Option<String>,
    /// Number of staff.
    pub staff: Option<u64>,
    /// Yearly turnover, in the credit currency.
    #[autosurgeon(with = "crate::codec::opt_decimal")]
    pub turnover: Option<Decimal>,
}

/// Credit terms (信用).
#[derive(Debug, Clone, Default, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Credit {
    /// Credit rating (e.g. AAA, A, B).
    pub rating: Option<String>,
    /// Credit limit (信用限度/授信额度) in `currency`.
    #[autosurgeon(with = "crate::codec::opt_decimal")]
    pub limit: Option<Decimal>,
    /// Currency of the limit.
    pub currency: Currency,
    /// Payment terms (e.g. 月结30天).
    pub payment_terms: Option<String>,
    /// Past credit problems, in words.
    pub problems: Option<String>,
}

/// A person at the customer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Contact {
    /// Name.
    pub name: String,
    /// Job title.
    pub title: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Email.
    pub email: Option<String>,
}

/// A customer file (客户档案): confidential, internal only.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Customer {
    /// Full registered name.
    pub name: String,
    /// Region (territory code) the customer belongs to; the server decides who may see it.
    pub region: Option<String>,
    /// The salesperson responsible (user name).
    pub salesperson: Option<String>,
    /// Basic facts.
    pub basics: Basics,
    /// Characteristics.
    pub profile: Profile,
    /// Kind of business.
    pub kind: CustomerKind,
    /// Grade.
    pub grade: Grade,
    /// Route order (路序) within the region's visiting round.
    pub route: Option<u64>,
    /// Credit terms.
    pub credit: Credit,
    /// Contacts, keyed by contact id.
    pub contacts: BTreeMap<String, Contact>,
    /// Lifecycle stage.
    pub lifecycle: Lifecycle,
    /// When the record was created.
    #[autosurgeon(with = "crate::codec::instant")]
    pub created_at: DateTime<Utc>,
    /// Set when the record is voided.
    pub voided: Option<Voided>,
    /// Set (with `voided`) when this file was merged into another as a duplicate (撞单): the
    /// surviving customer, which the old id keeps resolving to. Absent in older documents.
    #[serde(default)]
    #[autosurgeon(missing = "Option::default")]
    pub merged_into: Option<RecordId>,
}

impl Customer {
    /// A new prospect with only a name; everything else is filled in later.
    pub fn new(name: impl Into<String>, now: DateTime<Utc>) -> Self {
        Self {
            name: name.into(),
            region: None,
            salesperson: None,
            basics: Basics::default(),
            profile: Profile::default(),
            kind: CustomerKind::Retailer,
            grade: Grade::General,
            route: None,
            credit: Credit::default(),
            contacts: BTreeMap::new(),
            lifecycle: Lifecycle::Prospect,
            created_at: now,
            voided: None,
            merged_into: None,
        }
    }

    /// Takes what a duplicate of this customer knows and this file does not: every empty
    /// optional field is filled from `other`, and its contacts are added (under a new key when
    /// the key is taken by a different contact). The region is left alone: where a customer
    /// belongs is a decision, not a blank to fill. Returns the names of the fields filled.
    pub fn absorb(&mut self, other: &Customer) -> Vec<String> {
        let mut filled = Vec::new();
        fn fill<T: Clone>(
            name: &str,
            mine: &mut Option<T>,
            theirs: &Option<T>,
            filled: &mut Vec<String>,
        ) {
            if mine.is_none() && theirs.is_some() {
                mine.clone_from(theirs);
                filled.push(name.to_string());
            }
        }
        let (b, o) = (&mut self.basics, &other.basics);
        fill("basics.address", &mut b.address, &o.address, &mut filled);
        fill("basics.phone", &mut b.phone, &o.phone, &mut filled);
        fill("basics.owner", &mut b.owner, &o.owner, &mut filled);
        fill("basics.manager", &mut b.manager, &o.manager, &mut filled);
        fill(
            "basics.legal_rep",
            &mut b.legal_rep,
            &o.legal_rep,
            &mut filled,
        );
        fill("basics.founded", &mut b.founded, &o.founded, &mut filled);
        fill(
            "basics.first_trade",
            &mut b.first_trade,
            &o.first_trade,
            &mut filled,
        );
        fill("basics.org_form", &mut b.org_form, &o.org_form, &mut filled);
        fill("basics.industry", &mut b.industry, &o.industry, &mut filled);
        fill("basics.tax_id", &mut b.tax_id, &o.tax_id, &mut filled);
        let (p, o) = (&mut self.profile, &other.profile);
        fill(
            "profile.service_area",
            &mut p.service_area,
            &o.service_area,
            &mut filled,
        );
        fill(
            "profile.sales_capacity",
            &mut p.sales_capacity,
            &o.sales_capacity,
            &mut filled,
        );
        fill(
            "profile.potential",
            &mut p.potential,
            &o.potential,
            &mut filled,
        );
        fill("profile.staff", &mut p.staff, &o.staff, &mut filled);
        fill(
            "profile.turnover",
            &mut p.turnover,
            &o.turnover,
            &mut filled,
        );
        fill(
            "salesperson",
            &mut self.salesperson,
            &other.salesperson,
            &mut filled,
        );
        fill("route", &mut self.route, &other.route, &mut filled);
        let (c, o) = (&mut self.credit, &other.credit);
        if c.limit.is_none() && o.limit.is_some() {
            // A limit means nothing without its currency.
            c.currency = o.currency;
        }
        fill("credit.limit", &mut c.limit, &o.limit, &mut filled);
        fill("credit.rating", &mut c.rating, &o.rating, &mut filled);
        fill(
            "credit.payment_terms",
            &mut c.payment_terms,
            &o.payment_terms,
            &mut filled,
        );
        fill("credit.problems", &mut c.problems, &o.problems, &mut filled);
        for (key, contact) in &other.contacts {
            match self.contacts.get(key) {
                Some(existing) if existing == contact => continue,
                Some(_) => {
                    let mut new_key = format!("{key}-merged");
                    while self.contacts.contains_key(&new_key) {
                        new_key.push('_');
                    }
                    self.contacts.insert(new_key.clone(), contact.clone());
                    filled.push(format!("contacts.{new_key}"));
                }
                None => {
                    self.contacts.insert(key.clone(), contact.clone());
                    filled.push(format!("contacts.{key}"));
                }
            }
        }
        filled
    }

    /// Checks the rules every customer file must satisfy.
    pub fn validate(&self) -> Result<(), Validation> {
        let mut v = Validation::default();
        v.require("name", &self.name);
        v.max_len("name", &self.name, 200);
        if let Some(tax_id) = &self.basics.tax_id
            && !is_unified_credit_code(tax_id)
        {
            v.push(
                "basics.tax_id",
                Problem::Inconsistent(format!(
                    "`{tax_id}` is not an 18-character unified social credit code"
                )),
            );
        }
        if let Some(limit) = self.credit.limit
            && limit.is_sign_negative()
            && !limit.is_zero()
        {
            v.push("credit.limit", Problem::Negative(limit.to_string()));
        }
        for (key, contact) in &self.contacts {
            v.require(&format!("contacts.{key}.name"), &contact.name);
        }
        v.finish()
    }
}

/// Whether `code` has the shape of a unified social credit code: 18 characters of digits and
/// upper-case letters other than I, O, S, V and Z. (The check digit is not verified: old codes
/// still in customers' papers do not always carry a valid one.)
pub fn is_unified_credit_code(code: &str) -> bool {
    code.len() == 18
        && code
            .bytes()
            .all(|b| b.is_ascii_digit() || (b.is_ascii_uppercase() && !b"IOSVZ".contains(&b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absorb_fills_only_blanks_and_adds_contacts() {
        let now = Utc::now();
        let mut survivor = Customer::new("上海华东食品有限公司", now);
        survivor.basics.phone = Some("021-1".into());
        survivor.region = Some("EAST-SH".into());
        let mut duplicate = Customer::new("上海华东食品有限公司", now);
        duplicate.basics.phone = Some("021-2".into());
        duplicate.basics.address = Some("上海市".into());
        duplicate.region = Some("EAST-HZ".into());
        duplicate.contacts.insert(
            "c1".into(),
            Contact {
                name: "王经理".into(),
                ..Contact::default()
            },
        );
        let filled = survivor.absorb(&duplicate);
        assert_eq!(filled, vec!["basics.address", "contacts.c1"]);
        assert_eq!(survivor.basics.phone.as_deref(), Some("021-1"));
        assert_eq!(survivor.region.as_deref(), Some("EAST-SH"));
        assert_eq!(survivor.contacts.len(), 1);
        // Absorbing again changes nothing.
        assert!(survivor.absorb(&duplicate).is_empty());
    }

    #[test]
    fn documents_without_merged_into_read_as_not_merged() {
        use automerge::transaction::Transactable;
        let actor = automerge::ActorId::random();
        let id = RecordId::new();
        let customer = Customer::new("旧客户", Utc::now());
        let meta = crate::doc::CommitMeta::now("create");
        let mut document = crate::doc::create(&actor, id, &customer, &meta).expect("creates");
        document
            .delete(automerge::ROOT, "merged_into")
            .expect("deletes");
        let read: Customer = crate::doc::read_as(&document).expect("reads");
        assert_eq!(read.merged_into, None);
        assert_eq!(read.name, "旧客户");
    }
}

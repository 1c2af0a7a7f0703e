//! Business rules (规则): pure functions that look at plain "facts" and say which flags to raise.
//!
//! The rules never read Automerge documents, files or clocks. Their inputs are small structs
//! ([`facts`] and each rule's own) that the server builds from its projection tables and a
//! laptop from its local store, so both sides reach the same verdict from the same data: the
//! laptop's verdict is a provisional warning, the server's is the one that counts.
//!
//! Every rule returns [`Finding`]s. A finding carries a stable [`Finding::key`]: detecting the
//! same situation twice (a re-check after a realignment, a replayed change) yields the same key,
//! so the flag record built from it can be upserted idempotently.

pub mod approval;
pub mod authority;
pub mod credit;
pub mod cross_region;
pub mod duplicates;
pub mod facts;
pub mod fingerprint;
pub mod names;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::RecordId;
use crate::i18n::Lang;
use crate::money::Currency;
use crate::word_enum;

word_enum! {
    /// What kind of business conflict a finding reports; the stored word is the flag's type.
    pub enum FindingKind {
        /// A dealer selling, or its goods found, outside its authorised regions (窜货).
        CrossRegionSale = ("cross_region_sale", "Cross-region sale", "窜货"),
        /// Two customer files that look like one customer (撞单).
        DuplicateCustomer = ("duplicate_customer", "Duplicate customer", "撞单（重复客户）"),
        /// Two salespeople with open quotations or orders for one customer (撞单).
        ContestedCustomer = ("contested_customer", "Contested customer", "撞单（多人跟进）"),
        /// A discount or amount beyond its author's authority.
        BeyondAuthority = ("beyond_authority", "Beyond authority", "超出权限"),
        /// An order that takes the customer past its credit limit.
        CreditLimit = ("credit_limit", "Credit limit exceeded", "超出授信额度"),
    }
}

word_enum! {
    /// How urgently a finding needs a person. Ordered: `Info < Warning < Critical`.
    pub enum Severity {
        /// Worth knowing; nobody needs to act (e.g. one salesperson entered a customer twice).
        Info = ("info", "Info", "提示"),
        /// A person should look and decide (a dispute, an approval).
        Warning = ("warning", "Warning", "警告"),
        /// Business is at risk; the record may be held until someone with authority acts.
        Critical = ("critical", "Critical", "严重"),
    }
}

/// A human message in both product languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// English.
    pub en: String,
    /// Simplified Chinese.
    pub zh_cn: String,
}

impl Message {
    /// The message in `lang`.
    pub fn text(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.en,
            Lang::ZhCn => &self.zh_cn,
        }
    }
}

/// Which identifying fact made two customer files look like one customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchedOn {
    /// The same unified social credit code (certain: it identifies one legal entity).
    TaxId,
    /// The same phone number after normalising.
    Phone,
    /// The same company name after normalising.
    Name,
}

/// Rule-specific evidence, so a person (and the UI) can see exactly why a flag was raised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Detail {
    /// Two customer files matched.
    Duplicate {
        /// Every fact that matched, strongest first.
        matched_on: Vec<MatchedOn>,
        /// Whether the same salesperson created both (then it is a slip, not a dispute).
        same_salesperson: bool,
    },
    /// Several salespeople work one customer.
    Contested {
        /// The open quotations and orders, with their salespeople.
        deals: Vec<(RecordId, String)>,
    },
    /// An order delivered outside the dealer's authorised regions.
    CrossRegionOrder {
        /// Region the goods were delivered into.
        delivery_region: String,
        /// The dealer's home region, if known.
        dealer_region: Option<String>,
        /// Regions the dealer is authorised for (empty: none at all).
        authorised: Vec<String>,
    },
    /// Goods of a batch seen in a region other than the one they were shipped to.
    CrossRegionStock {
        /// Product code.
        product: String,
        /// Batch or serial code, normalised.
        code: String,
        /// Region the batch was shipped to.
        shipped_region: String,
        /// Region the goods were seen in.
        seen_region: String,
    },
    /// A deal beyond its author's authority.
    Authority {
        /// Largest line discount, percent.
        max_discount_pct: Decimal,
        /// The author's discount authority, percent.
        allowed_discount_pct: Decimal,
        /// The deal's total.
        total: Decimal,
        /// The author's amount authority in the deal's currency (`None`: none in that currency).
        allowed_amount: Option<Decimal>,
        /// The deal's currency.
        currency: Currency,
    },
    /// A customer past its credit limit.
    Credit {
        /// The credit limit.
        limit: Decimal,
        /// Open orders + unpaid receivables + the new order, in the limit's currency.
        exposure: Decimal,
        /// The limit's currency.
        currency: Currency,
        /// Amounts in other currencies, which could not be counted without an exchange rate.
        unconverted: Vec<(Currency, Decimal)>,
    },
}

/// One flag a rule wants raised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// What kind of conflict.
    pub kind: FindingKind,
    /// How urgent.
    pub severity: Severity,
    /// Stable identity of the situation: equal for the same situation however often it is
    /// detected, so flag records can be upserted by it.
    pub key: String,
    /// The records involved, the subject first.
    pub records: Vec<RecordId>,
    /// The people involved (user names), sorted, without repeats.
    pub people: Vec<String>,
    /// The territories involved (region codes), sorted, without repeats: every region whose
    /// manager must see the flag.
    pub regions: Vec<String>,
    /// What happened, for people.
    pub message: Message,
    /// The evidence.
    pub detail: Detail,
}

/// Sorts and de-duplicates names or codes, dropping blanks, so that `people` and `regions`
/// compare equal however the rule gathered them.
pub(crate) fn tidy<I, S>(items: I) -> Vec<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut out: Vec<String> = items
        .into_iter()
        .map(|s| s.as_ref().trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Builds a finding key from its parts: `kind:part:part…`. Parts are ids, codes and region
/// codes; a `:` inside a part is escaped so two different part lists never give one key.
pub(crate) fn make_key(kind: FindingKind, parts: &[&str]) -> String {
    let mut key = kind.as_str().to_string();
    for part in parts {
        key.push(':');
        key.push_str(&part.replace('%', "%25").replace(':', "%3A"));
    }
    key
}

/// The start of every key [`make_key`] builds from `parts` and any further parts: what the
/// server matches to find the flags of one subject (an order's 窜货 whatever its dealer, a
/// deal's authority flags whatever fingerprint). Parts here must contain no `:` or `%`.
pub fn key_prefix(kind: FindingKind, parts: &[&str]) -> String {
    let mut prefix = make_key(kind, parts);
    prefix.push(':');
    prefix
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tidy_sorts_and_dedups() {
        assert_eq!(tidy(["b", " a", "b", ""]), vec!["a", "b"]);
    }

    #[test]
    fn keys_escape_separators() {
        let a = make_key(FindingKind::CreditLimit, &["x:y", "z"]);
        let b = make_key(FindingKind::CreditLimit, &["x", "y:z"]);
        assert_ne!(a, b);
        assert_eq!(make_key(FindingKind::CreditLimit, &["o"]), "credit_limit:o");
    }

    #[test]
    fn severities_are_ordered_and_kinds_round_trip() {
        assert!(Severity::Info < Severity::Warning && Severity::Warning < Severity::Critical);
        for kind in FindingKind::ALL {
            assert_eq!(kind.as_str().parse::<FindingKind>().unwrap(), *kind);
        }
        let json = serde_json::to_string(&FindingKind::CrossRegionSale).unwrap();
        assert_eq!(json, "\"cross_region_sale\"");
    }
}

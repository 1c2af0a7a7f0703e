//! The rollup: the figures of one territory node over one period.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::period::{DateRange, Period};
use super::territory::{TerritoryTree, TreeError};
use crate::money::Currency;
use crate::rules::FindingKind;
use crate::rules::facts::{DealKind, DealStatus};

/// A visit made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitRow {
    /// Local date of the visit.
    pub date: NaiveDate,
    /// Who visited.
    pub salesperson: String,
    /// Region the visit belongs to.
    pub region: Option<String>,
}

/// A customer file created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerRow {
    /// Local date of creation.
    pub created: NaiveDate,
    /// Who created it.
    pub salesperson: Option<String>,
    /// The customer's region when it was created.
    pub region: Option<String>,
}

/// A quotation or order (which one its status says).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DealRow {
    /// The date it counts on (quotation date, contract signing date).
    pub date: NaiveDate,
    /// Its salesperson.
    pub salesperson: String,
    /// Its region when made.
    pub region: Option<String>,
    /// Its total.
    pub total: Decimal,
    /// Its currency.
    pub currency: Currency,
    /// Its status; see [`DealStatus::counts_as_made`] for which count.
    pub status: DealStatus,
    /// Voided records never count.
    pub voided: bool,
}

/// Money collected (回款).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectionRow {
    /// Date received.
    pub date: NaiveDate,
    /// The responsible salesperson.
    pub salesperson: Option<String>,
    /// Region.
    pub region: Option<String>,
    /// Amount received.
    pub amount: Decimal,
    /// Its currency.
    pub currency: Currency,
}

/// A receivable still open at the time of the report (应收).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceivableRow {
    /// The responsible salesperson.
    pub salesperson: Option<String>,
    /// Region.
    pub region: Option<String>,
    /// The amount still owed.
    pub open_amount: Decimal,
    /// Its currency.
    pub currency: Currency,
}

/// A flag raised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlagRow {
    /// Its kind.
    pub kind: FindingKind,
    /// The regions involved.
    pub regions: Vec<String>,
    /// Local date it counts on: when its situation arose (the record that raised it), or when
    /// it was detected for older flags.
    pub detected: NaiveDate,
}

/// Every fact a rollup reads. The caller passes what it holds (the server everything, a
/// laptop its scope); rows outside the node or period are skipped here, so passing more is
/// only slower, never wrong.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Facts {
    /// Visits.
    pub visits: Vec<VisitRow>,
    /// New customers.
    pub customers: Vec<CustomerRow>,
    /// Quotations and orders.
    pub deals: Vec<DealRow>,
    /// Collections.
    pub collections: Vec<CollectionRow>,
    /// Open receivables.
    pub receivables: Vec<ReceivableRow>,
    /// Flags.
    pub flags: Vec<FlagRow>,
}

/// A count and its amounts, exact, per currency.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Tally {
    /// How many.
    pub count: u64,
    /// Sum per currency; never mixed across currencies.
    pub amounts: BTreeMap<Currency, Decimal>,
}

impl Tally {
    fn add(&mut self, amount: Decimal, currency: Currency) {
        self.count += 1;
        *self.amounts.entry(currency).or_default() += amount;
    }
}

/// One salesperson's figures.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PersonLine {
    /// User name.
    pub salesperson: String,
    /// Visits made.
    pub visits: u64,
    /// Customers created.
    pub new_customers: u64,
    /// Quotations made.
    pub quotations: Tally,
    /// Orders signed.
    pub orders: Tally,
    /// Money collected.
    pub collections: Tally,
    /// Receivables open now.
    pub receivables: Tally,
}

/// One place in the ranking (业绩排行榜) of one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RankRow {
    /// 1 for the best; ties are broken by name, so every place is distinct.
    pub rank: u32,
    /// User name.
    pub salesperson: String,
    /// Orders signed (in any currency).
    pub orders: u64,
    /// Order amount in this currency.
    pub amount: Decimal,
}

/// Flags of one kind involving one region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlagCount {
    /// The kind.
    pub kind: FindingKind,
    /// The region.
    pub region: String,
    /// How many.
    pub count: u64,
}

/// The figures of one territory node over one period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rollup {
    /// The node's code.
    pub node: String,
    /// The node's name.
    pub node_name: String,
    /// The period's length.
    pub period: Period,
    /// The period's dates.
    pub range: DateRange,
    /// Visits made.
    pub visits: u64,
    /// Customers created.
    pub new_customers: u64,
    /// Quotations made (left draft, not voided).
    pub quotations: Tally,
    /// Orders signed (confirmed or later, not cancelled or voided).
    pub orders: Tally,
    /// Money collected.
    pub collections: Tally,
    /// Receivables open at report time (a balance, not limited to the period).
    pub receivables: Tally,
    /// Per salesperson, by name: everyone attached to the subtree and everyone with a fact in
    /// it, so nobody with nothing to show is left out.
    pub people: Vec<PersonLine>,
    /// Ranking by order amount, one list per currency ordered.
    pub ranking: BTreeMap<Currency, Vec<RankRow>>,
    /// Flags whose situation arose in the period, per kind (a flag counts once however many
    /// regions).
    pub flag_totals: BTreeMap<FindingKind, u64>,
    /// Flags whose situation arose in the period, per kind and region of the subtree.
    pub flags: Vec<FlagCount>,
    /// At a root node only: facts in the period with no region, or one not in the tree, so
    /// head office sees what no territory reports.
    pub unplaced: u64,
}

/// Rolls the facts up for `node` over the `period` containing `date`. Only facts whose region
/// is in the node's subtree count; an unknown node is an error.
pub fn rollup(
    tree: &TerritoryTree,
    node: &str,
    period: Period,
    date: NaiveDate,
    facts: &Facts,
) -> Result<Rollup, TreeError> {
    let info = tree.node(node)?;
    let scope = tree.regions_under(node)?;
    let range = period.containing(date);
    let in_scope = |region: &Option<String>| region.as_ref().is_some_and(|r| scope.contains(r));
    let unplaced_region =
        |region: &Option<String>| region.as_ref().is_none_or(|r| !tree.contains(r));
    let mut unplaced = 0u64;
    let mut people: BTreeMap<String, PersonLine> = BTreeMap::new();
    for user in tree.salespeople_under(node)? {
        person(&mut people, Some(&user));
    }
    let mut out = Rollup {
        node: info.code.clone(),
        node_name: info.name.clone(),
        period,
        range,
        visits: 0,
        new_customers: 0,
        quotations: Tally::default(),
        orders: Tally::default(),
        collections: Tally::default(),
        receivables: Tally::default(),
        people: Vec::new(),
        ranking: BTreeMap::new(),
        flag_totals: BTreeMap::new(),
        flags: Vec::new(),
        unplaced: 0,
    };
    for v in facts.visits.iter().filter(|v| range.contains(v.date)) {
        unplaced += u64::from(unplaced_region(&v.region));
        if in_scope(&v.region) {
            out.visits += 1;
            if let Some(p) = person(&mut people, Some(&v.salesperson)) {
                p.visits += 1;
            }
        }
    }
    for c in facts.customers.iter().filter(|c| range.contains(c.created)) {
        unplaced += u64::from(unplaced_region(&c.region));
        if in_scope(&c.region) {
            out.new_customers += 1;
            if let Some(p) = person(&mut people, c.salesperson.as_ref()) {
                p.new_customers += 1;
            }
        }
    }
    let counted = |d: &&DealRow| range.contains(d.date) && !d.voided && d.status.counts_as_made();
    for d in facts.deals.iter().filter(counted) {
        unplaced += u64::from(unplaced_region(&d.region));
        if !in_scope(&d.region) {
            continue;
        }
        let (total, mine) = match (d.status.kind(), person(&mut people, Some(&d.salesperson))) {
            (DealKind::Quotation, p) => (&mut out.quotations, p.map(|p| &mut p.quotations)),
            (DealKind::Order, p) => (&mut out.orders, p.map(|p| &mut p.orders)),
        };
        total.add(d.total, d.currency);
        if let Some(mine) = mine {
            mine.add(d.total, d.currency);
        }
    }
    for c in facts.collections.iter().filter(|c| range.contains(c.date)) {
        unplaced += u64::from(unplaced_region(&c.region));
        if in_scope(&c.region) {
            out.collections.add(c.amount, c.currency);
            if let Some(p) = person(&mut people, c.salesperson.as_ref()) {
                p.collections.add(c.amount, c.currency);
            }
        }
    }
    for r in facts.receivables.iter().filter(|r| in_scope(&r.region)) {
        out.receivables.add(r.open_amount, r.currency);
        if let Some(p) = person(&mut people, r.salesperson.as_ref()) {
            p.receivables.add(r.open_amount, r.currency);
        }
    }
    let mut by_region: BTreeMap<(FindingKind, String), u64> = BTreeMap::new();
    for f in facts.flags.iter().filter(|f| range.contains(f.detected)) {
        let mine: BTreeSet<&String> = f.regions.iter().filter(|r| scope.contains(*r)).collect();
        if mine.is_empty() {
            continue;
        }
        *out.flag_totals.entry(f.kind).or_default() += 1;
        for region in mine {
            *by_region.entry((f.kind, region.clone())).or_default() += 1;
        }
    }
    out.flags = by_region
        .into_iter()
        .map(|((kind, region), count)| FlagCount {
            kind,
            region,
            count,
        })
        .collect();
    out.people = people.into_values().collect();
    out.ranking = rank(&out.people, &out.orders);
    out.unplaced = if info.parent.is_none() { unplaced } else { 0 };
    Ok(out)
}

/// The line of a salesperson, created on first use; `None` for facts without one.
fn person<'a>(
    people: &'a mut BTreeMap<String, PersonLine>,
    user: Option<&String>,
) -> Option<&'a mut PersonLine> {
    let user = user?;
    let line = people.entry(user.clone()).or_default();
    line.salesperson.clone_from(user);
    Some(line)
}

/// One ranking per currency ordered in: everyone, by amount in that currency (largest first),
/// ties broken by name.
fn rank(people: &[PersonLine], orders: &Tally) -> BTreeMap<Currency, Vec<RankRow>> {
    let mut out = BTreeMap::new();
    for currency in orders.amounts.keys() {
        let mut rows: Vec<RankRow> = people
            .iter()
            .map(|p| RankRow {
                rank: 0,
                salesperson: p.salesperson.clone(),
                orders: p.orders.count,
                amount: p.orders.amounts.get(currency).copied().unwrap_or_default(),
            })
            .collect();
        rows.sort_by(|a, b| {
            b.amount
                .cmp(&a.amount)
                .then_with(|| a.salesperson.cmp(&b.salesperson))
        });
        for (place, row) in (1u32..).zip(rows.iter_mut()) {
            row.rank = place;
        }
        out.insert(*currency, rows);
    }
    out
}

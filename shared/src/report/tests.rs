//! Rollup tests: hand-made tables, and generated data checked against totals computed
//! independently here.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::*;
use crate::domain::{OrderStatus, QuoteStatus};
use crate::money::Currency;
use crate::rules::FindingKind;
use crate::rules::facts::DealStatus;

fn d(s: &str) -> Decimal {
    Decimal::from_str_exact(s).unwrap()
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn usd() -> Currency {
    "USD".parse().unwrap()
}

fn tree() -> TerritoryTree {
    let node = |code: &str, name: &str, parent: Option<&str>| TerritoryNode {
        code: code.into(),
        name: name.into(),
        parent: parent.map(Into::into),
    };
    TerritoryTree::new(
        vec![
            node("CO", "公司", None),
            node("EAST", "华东大区", Some("CO")),
            node("SH", "上海办事处", Some("EAST")),
            node("HZ", "杭州办事处", Some("EAST")),
            node("NORTH", "华北大区", Some("CO")),
            node("BJ", "北京办事处", Some("NORTH")),
        ],
        [
            ("li".to_string(), "SH".to_string()),
            ("wang".into(), "HZ".into()),
            ("zhao".into(), "BJ".into()),
            ("idle".into(), "SH".into()),
        ]
        .into(),
    )
    .unwrap()
}

fn deal(
    date: &str,
    who: &str,
    region: &str,
    total: &str,
    cur: Currency,
    status: DealStatus,
) -> DealRow {
    DealRow {
        date: day(date),
        salesperson: who.into(),
        region: Some(region.into()),
        total: d(total),
        currency: cur,
        status,
        voided: false,
    }
}

const CONFIRMED: DealStatus = DealStatus::Order(OrderStatus::Confirmed);
const SENT: DealStatus = DealStatus::Quote(QuoteStatus::Sent);

fn facts() -> Facts {
    let visit = |date: &str, who: &str, region: Option<&str>| VisitRow {
        date: day(date),
        salesperson: who.into(),
        region: region.map(Into::into),
    };
    let mut voided = deal("2026-03-10", "li", "SH", "999", Currency::CNY, CONFIRMED);
    voided.voided = true;
    Facts {
        visits: vec![
            visit("2026-03-02", "li", Some("SH")),
            visit("2026-03-03", "wang", Some("HZ")),
            visit("2026-03-04", "zhao", Some("BJ")),
            visit("2026-04-01", "li", Some("SH")), // next month
            visit("2026-03-05", "li", None),       // no territory
        ],
        customers: vec![CustomerRow {
            created: day("2026-03-09"),
            salesperson: Some("wang".into()),
            region: Some("HZ".into()),
        }],
        deals: vec![
            deal(
                "2026-03-10",
                "li",
                "SH",
                "1000.50",
                Currency::CNY,
                CONFIRMED,
            ),
            deal(
                "2026-03-11",
                "wang",
                "HZ",
                "1000.50",
                Currency::CNY,
                CONFIRMED,
            ),
            deal("2026-03-12", "li", "SH", "300", usd(), CONFIRMED),
            deal("2026-03-12", "zhao", "BJ", "5000", Currency::CNY, CONFIRMED),
            deal("2026-03-13", "li", "SH", "77", Currency::CNY, SENT),
            deal(
                "2026-03-13",
                "li",
                "SH",
                "88",
                Currency::CNY,
                DealStatus::Quote(QuoteStatus::Draft),
            ),
            deal(
                "2026-03-14",
                "li",
                "SH",
                "50",
                Currency::CNY,
                DealStatus::Order(OrderStatus::Cancelled),
            ),
            voided,
        ],
        collections: vec![CollectionRow {
            date: day("2026-03-20"),
            salesperson: Some("li".into()),
            region: Some("SH".into()),
            amount: d("400"),
            currency: Currency::CNY,
        }],
        receivables: vec![ReceivableRow {
            salesperson: Some("wang".into()),
            region: Some("HZ".into()),
            open_amount: d("600.50"),
            currency: Currency::CNY,
        }],
        flags: vec![
            FlagRow {
                kind: FindingKind::CrossRegionSale,
                regions: vec!["BJ".into(), "SH".into()],
                detected: day("2026-03-15"),
            },
            FlagRow {
                kind: FindingKind::DuplicateCustomer,
                regions: vec!["HZ".into(), "SH".into()],
                detected: day("2026-03-16"),
            },
        ],
    }
}

#[test]
fn east_month_in_two_currencies() {
    let r = rollup(&tree(), "EAST", Period::Month, day("2026-03-18"), &facts()).unwrap();
    assert_eq!(
        (r.range.first, r.range.last),
        (day("2026-03-01"), day("2026-03-31"))
    );
    assert_eq!(r.node_name, "华东大区");
    assert_eq!(r.visits, 2);
    assert_eq!(r.new_customers, 1);
    assert_eq!(r.quotations.count, 1);
    assert_eq!(r.orders.count, 3);
    let want: BTreeMap<Currency, Decimal> =
        [(Currency::CNY, d("2001.00")), (usd(), d("300"))].into();
    assert_eq!(r.orders.amounts, want);
    assert_eq!(r.collections.amounts.get(&Currency::CNY), Some(&d("400")));
    assert_eq!(
        r.receivables.amounts.get(&Currency::CNY),
        Some(&d("600.50"))
    );
    // Ranking per currency; li and wang tie in CNY and are ordered by name; idle is listed.
    let cny: Vec<(u32, &str)> = r.ranking[&Currency::CNY]
        .iter()
        .map(|row| (row.rank, row.salesperson.as_str()))
        .collect();
    assert_eq!(cny, vec![(1, "li"), (2, "wang"), (3, "idle")]);
    assert_eq!(r.ranking[&usd()][0].salesperson, "li");
    assert_eq!(r.ranking[&usd()][0].amount, d("300"));
    // Flags: each once per kind; per region only inside EAST.
    assert_eq!(r.flag_totals[&FindingKind::CrossRegionSale], 1);
    assert_eq!(r.flag_totals[&FindingKind::DuplicateCustomer], 1);
    let regions: Vec<(FindingKind, &str, u64)> = r
        .flags
        .iter()
        .map(|f| (f.kind, f.region.as_str(), f.count))
        .collect();
    assert_eq!(
        regions,
        vec![
            (FindingKind::CrossRegionSale, "SH", 1),
            (FindingKind::DuplicateCustomer, "HZ", 1),
            (FindingKind::DuplicateCustomer, "SH", 1),
        ]
    );
    assert_eq!(r.unplaced, 0, "only the root reports unplaced facts");
    let names: Vec<&str> = r.people.iter().map(|p| p.salesperson.as_str()).collect();
    assert_eq!(names, vec!["idle", "li", "wang"]);
}

#[test]
fn scope_period_and_root() {
    let f = facts();
    let t = tree();
    let cases = [
        ("SH", Period::Month, "2026-03-01", 1, 2),
        ("BJ", Period::Month, "2026-03-01", 1, 1),
        ("CO", Period::Month, "2026-03-01", 3, 4),
        ("CO", Period::Day, "2026-03-12", 0, 2),
        ("CO", Period::Week, "2026-03-04", 3, 0), // Mon 2 – Sun 8 March
        ("CO", Period::Year, "2026-06-01", 4, 4),
        ("SH", Period::Quarter, "2026-04-30", 1, 0),
    ];
    for (node, period, date, visits, orders) in cases {
        let r = rollup(&t, node, period, day(date), &f).unwrap();
        assert_eq!(
            (r.visits, r.orders.count),
            (visits, orders),
            "{node} {period} {date}"
        );
    }
    let root = rollup(&t, "CO", Period::Month, day("2026-03-01"), &f).unwrap();
    assert_eq!(root.unplaced, 1);
    assert_eq!(
        rollup(&t, "XX", Period::Month, day("2026-03-01"), &f),
        Err(TreeError::UnknownNode("XX".into()))
    );
}

/// A small deterministic generator, so the data set is large but reproducible.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }
}

#[test]
fn figures_match_independent_totals() {
    let regions = ["SH", "HZ", "BJ", "EAST", "NOWHERE"];
    let people = ["li", "wang", "zhao", "sun"];
    let currencies = [Currency::CNY, usd()];
    let statuses = [
        CONFIRMED,
        SENT,
        DealStatus::Order(OrderStatus::Paid),
        DealStatus::Order(OrderStatus::Draft),
    ];
    let mut rng = Lcg(42);
    let mut f = Facts::default();
    let start = day("2026-01-01");
    for _ in 0..2000 {
        let date = start + chrono::Days::new(rng.next(365));
        let region = Some(regions[rng.next(5) as usize].to_string());
        let who = people[rng.next(4) as usize].to_string();
        let cents = Decimal::new(rng.next(10_000_000) as i64, 2);
        f.visits.push(VisitRow {
            date,
            salesperson: who.clone(),
            region: region.clone(),
        });
        f.deals.push(DealRow {
            date,
            salesperson: who.clone(),
            region: region.clone(),
            total: cents,
            currency: currencies[rng.next(2) as usize],
            status: statuses[rng.next(4) as usize],
            voided: rng.next(10) == 0,
        });
        f.collections.push(CollectionRow {
            date,
            salesperson: Some(who),
            region,
            amount: cents,
            currency: currencies[rng.next(2) as usize],
        });
    }
    let t = tree();
    for (node, in_node) in [
        ("EAST", vec!["EAST", "SH", "HZ"]),
        ("BJ", vec!["BJ"]),
        ("CO", vec!["CO", "EAST", "SH", "HZ", "NORTH", "BJ"]),
    ] {
        let r = rollup(&t, node, Period::Quarter, day("2026-05-15"), &f).unwrap();
        let (first, last) = (day("2026-04-01"), day("2026-06-30"));
        let here = |date: NaiveDate, region: &Option<String>| {
            first <= date && date <= last && region.as_deref().is_some_and(|r| in_node.contains(&r))
        };
        let visits = f.visits.iter().filter(|v| here(v.date, &v.region)).count() as u64;
        assert_eq!(r.visits, visits, "{node}");
        for cur in currencies {
            let orders: Vec<&DealRow> = f
                .deals
                .iter()
                .filter(|x| here(x.date, &x.region) && !x.voided)
                .filter(|x| {
                    matches!(
                        x.status,
                        DealStatus::Order(OrderStatus::Confirmed | OrderStatus::Paid)
                    )
                })
                .collect();
            let sum: Decimal = orders
                .iter()
                .filter(|x| x.currency == cur)
                .map(|x| x.total)
                .sum();
            assert_eq!(
                r.orders.amounts.get(&cur).copied().unwrap_or_default(),
                sum,
                "{node} {cur}"
            );
            assert_eq!(r.orders.count, orders.len() as u64);
            // The people lines and the ranking add up to the total.
            let by_people: Decimal = r
                .people
                .iter()
                .filter_map(|p| p.orders.amounts.get(&cur))
                .sum();
            assert_eq!(by_people, sum);
            let ranked: Decimal = r
                .ranking
                .get(&cur)
                .map_or(Decimal::ZERO, |rows| rows.iter().map(|x| x.amount).sum());
            assert_eq!(ranked, sum);
            let collected: Decimal = f
                .collections
                .iter()
                .filter(|c| here(c.date, &c.region) && c.currency == cur)
                .map(|c| c.amount)
                .sum();
            assert_eq!(
                r.collections.amounts.get(&cur).copied().unwrap_or_default(),
                collected
            );
        }
        for rows in r.ranking.values() {
            assert!(rows.windows(2).all(|w| w[0].amount > w[1].amount
                || (w[0].amount == w[1].amount && w[0].salesperson < w[1].salesperson)));
        }
    }
}

#[test]
fn json_and_csv_output() {
    let mut f = facts();
    f.deals.push(deal(
        "2026-03-21",
        "=cmd|evil",
        "SH",
        "1",
        Currency::CNY,
        CONFIRMED,
    ));
    let r = rollup(&tree(), "SH", Period::Month, day("2026-03-18"), &f).unwrap();
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["orders"]["amounts"]["CNY"], "1001.50");
    assert_eq!(json["period"], "month");
    let back: Rollup = serde_json::from_value(json).unwrap();
    assert_eq!(back, r);
    let csv = to_csv(&r);
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(lines[0], CSV_HEADER.join(","));
    assert!(
        lines.contains(&"SH,month,2026-03-01,2026-03-31,summary,SH,orders,CNY,3,1001.50,"),
        "{csv}"
    );
    assert!(
        lines.contains(&"SH,month,2026-03-01,2026-03-31,summary,SH,orders,USD,,300.00,"),
        "{csv}"
    );
    assert!(
        lines.contains(&"SH,month,2026-03-01,2026-03-31,ranking,li,orders,CNY,2,1000.50,1"),
        "{csv}"
    );
    assert!(
        lines.contains(&"SH,month,2026-03-01,2026-03-31,salesperson,'=cmd|evil,visits,,0,,"),
        "{csv}"
    );
    assert!(
        lines.contains(&"SH,month,2026-03-01,2026-03-31,flags,*,cross_region_sale,,1,,"),
        "{csv}"
    );
    assert!(csv.ends_with("\r\n"));
    // Every data line has the header's number of cells (no cell here needs quoting).
    assert!(
        lines
            .iter()
            .filter(|l| !l.is_empty())
            .all(|l| l.split(',').count() == CSV_HEADER.len())
    );
}

#[test]
fn a_subtree_lists_each_node_before_its_children() {
    let t = tree();
    assert_eq!(
        t.subtree("CO").unwrap(),
        ["CO", "EAST", "HZ", "SH", "NORTH", "BJ"]
    );
    assert_eq!(t.subtree("SH").unwrap(), ["SH"]);
    assert!(t.subtree("NOWHERE").is_err());
}

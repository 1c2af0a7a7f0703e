//! CSV export of a rollup.
//!
//! **Decision**: the rollup is flattened into uniform rows ([`CsvRow`], one schema for every
//! section, each row carrying the node and period so exported files can be concatenated and
//! pivoted), and [`to_csv`] writes them with RFC 4180 quoting. The rows are public so an XLSX
//! writer at the edge (client or server) fills its sheet from the same rows.

use serde::Serialize;

use super::rollup::{Rollup, Tally};
use crate::money::format_amount;

/// The CSV header, in column order.
pub const CSV_HEADER: [&str; 11] = [
    "node", "period", "from", "to", "section", "subject", "metric", "currency", "count", "amount",
    "rank",
];

/// One exported row. Empty strings are empty cells.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CsvRow {
    /// `summary`, `salesperson`, `ranking`, `flags` or `unplaced`.
    pub section: &'static str,
    /// The node (summary), the user name, or the region (flags; `*` for all regions).
    pub subject: String,
    /// What is counted: `visits`, `orders`, `cross_region_sale`, …
    pub metric: String,
    /// Currency code for amounts.
    pub currency: String,
    /// A count.
    pub count: String,
    /// An amount with the currency's minor unit.
    pub amount: String,
    /// A ranking place.
    pub rank: String,
}

impl CsvRow {
    fn new(section: &'static str, subject: &str, metric: &str) -> Self {
        Self {
            section,
            subject: subject.to_string(),
            metric: metric.to_string(),
            currency: String::new(),
            count: String::new(),
            amount: String::new(),
            rank: String::new(),
        }
    }

    fn counted(mut self, count: u64) -> Self {
        self.count = count.to_string();
        self
    }
}

/// Rows for a tally: one per currency, or a single zero row when there is nothing, so every
/// metric appears in every export.
fn tally_rows(section: &'static str, subject: &str, metric: &str, tally: &Tally) -> Vec<CsvRow> {
    if tally.amounts.is_empty() {
        return vec![CsvRow::new(section, subject, metric).counted(tally.count)];
    }
    tally
        .amounts
        .iter()
        .enumerate()
        .map(|(i, (currency, amount))| {
            // The count is of documents, not of currencies: given once, on the first row.
            let mut row = CsvRow::new(section, subject, metric);
            if i == 0 {
                row.count = tally.count.to_string();
            }
            row.currency = currency.code().to_string();
            row.amount = format_amount(*amount, *currency);
            row
        })
        .collect()
}

/// The rollup as rows, in a fixed order: summary, salespeople, rankings, flags, unplaced.
pub fn csv_rows(r: &Rollup) -> Vec<CsvRow> {
    let mut rows = vec![
        CsvRow::new("summary", &r.node, "visits").counted(r.visits),
        CsvRow::new("summary", &r.node, "new_customers").counted(r.new_customers),
    ];
    for (metric, tally) in [
        ("quotations", &r.quotations),
        ("orders", &r.orders),
        ("collections", &r.collections),
        ("receivables", &r.receivables),
    ] {
        rows.extend(tally_rows("summary", &r.node, metric, tally));
    }
    for p in &r.people {
        rows.push(CsvRow::new("salesperson", &p.salesperson, "visits").counted(p.visits));
        rows.push(
            CsvRow::new("salesperson", &p.salesperson, "new_customers").counted(p.new_customers),
        );
        for (metric, tally) in [
            ("quotations", &p.quotations),
            ("orders", &p.orders),
            ("collections", &p.collections),
            ("receivables", &p.receivables),
        ] {
            rows.extend(tally_rows("salesperson", &p.salesperson, metric, tally));
        }
    }
    for (currency, ranking) in &r.ranking {
        for place in ranking {
            let mut row =
                CsvRow::new("ranking", &place.salesperson, "orders").counted(place.orders);
            row.currency = currency.code().to_string();
            row.amount = format_amount(place.amount, *currency);
            row.rank = place.rank.to_string();
            rows.push(row);
        }
    }
    for (kind, count) in &r.flag_totals {
        rows.push(CsvRow::new("flags", "*", kind.as_str()).counted(*count));
    }
    for f in &r.flags {
        rows.push(CsvRow::new("flags", &f.region, f.kind.as_str()).counted(f.count));
    }
    if r.unplaced > 0 {
        rows.push(CsvRow::new("unplaced", &r.node, "facts").counted(r.unplaced));
    }
    rows
}

/// The rollup as CSV text (UTF-8, CRLF line ends, header first). Text cells are quoted when
/// they hold a comma, quote or line break, and a text cell starting with `=`, `+`, `-`, `@`
/// or a tab is prefixed with `'` so a spreadsheet never runs it as a formula (a user name is
/// typed by people). Numeric cells are written by us and left as they are.
pub fn to_csv(r: &Rollup) -> String {
    let mut out = String::new();
    push_line(&mut out, CSV_HEADER.iter().map(|h| h.to_string()).collect());
    let from = r.range.first.to_string();
    let to = r.range.last.to_string();
    for row in csv_rows(r) {
        push_line(
            &mut out,
            vec![
                text_cell(&r.node),
                r.period.as_str().to_string(),
                from.clone(),
                to.clone(),
                row.section.to_string(),
                text_cell(&row.subject),
                row.metric,
                row.currency,
                row.count,
                row.amount,
                row.rank,
            ],
        );
    }
    out
}

fn push_line(out: &mut String, cells: Vec<String>) {
    let quoted: Vec<String> = cells.into_iter().map(|c| quote(&c)).collect();
    out.push_str(&quoted.join(","));
    out.push_str("\r\n");
}

/// Defuses formula injection in text typed by people.
fn text_cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

/// RFC 4180 quoting.
fn quote(cell: &str) -> String {
    if cell.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_escaped() {
        let cases = [
            ("plain", "plain"),
            ("a,b", "\"a,b\""),
            ("say \"hi\"", "\"say \"\"hi\"\"\""),
            ("two\nlines", "\"two\nlines\""),
            ("上海", "上海"),
        ];
        for (cell, expected) in cases {
            assert_eq!(quote(cell), expected);
        }
        assert_eq!(text_cell("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(text_cell("-1"), "'-1");
        assert_eq!(text_cell("li"), "li");
    }
}

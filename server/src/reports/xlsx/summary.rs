//! The sheet people read: one row per territory node, one column per figure, headers in both
//! languages, the header row and the node columns frozen, columns as wide as their text.

use std::collections::BTreeSet;

use rust_xlsxwriter::{Format, Worksheet, XlsxError};
use shared::money::{Currency, format_amount};
use shared::report::{Rollup, Tally};
use shared::text::display_width;

use super::{fit_columns, write_amount};

/// The sheet's name.
pub const NAME: &str = "汇总 Summary";

/// One of a rollup's tallies.
type TallyOf = fn(&Rollup) -> &Tally;

/// What one column shows for a node.
enum Figure {
    /// The node's code or name.
    Text(fn(&Rollup) -> &str),
    /// A count.
    Count(fn(&Rollup) -> u64),
    /// An amount of one tally in one currency.
    Money(TallyOf, Currency),
}

/// The columns: node, name, then the figures; money columns once per currency any node has
/// (CNY when none has any), so amounts in different currencies are never added up.
fn columns(nodes: &[Rollup]) -> Vec<(String, Figure)> {
    let tallies: [(TallyOf, &str); 4] = [
        (|r| &r.quotations, "Quoted 报价金额"),
        (|r| &r.orders, "Ordered 订单金额"),
        (|r| &r.collections, "Collected 回款"),
        (|r| &r.receivables, "Receivables 应收"),
    ];
    let mut currencies: BTreeSet<Currency> = nodes
        .iter()
        .flat_map(|r| {
            tallies
                .iter()
                .flat_map(|(t, _)| t(r).amounts.keys().copied())
        })
        .collect();
    if currencies.is_empty() {
        currencies.insert(Currency::CNY);
    }
    let mut out: Vec<(String, Figure)> = vec![
        ("Node 节点".into(), Figure::Text(|r| &r.node)),
        ("Name 名称".into(), Figure::Text(|r| &r.node_name)),
        ("Visits 拜访".into(), Figure::Count(|r| r.visits)),
        (
            "New customers 新客户".into(),
            Figure::Count(|r| r.new_customers),
        ),
        (
            "Quotations 报价数".into(),
            Figure::Count(|r| r.quotations.count),
        ),
        ("Orders 订单数".into(), Figure::Count(|r| r.orders.count)),
    ];
    for (tally, title) in tallies {
        for currency in &currencies {
            out.push((
                format!("{title} {currency}"),
                Figure::Money(tally, *currency),
            ));
        }
    }
    out.push((
        "Flags 预警".into(),
        Figure::Count(|r| r.flag_totals.values().sum()),
    ));
    out
}

/// Writes the summary of `nodes` (one row each, in the order given) into `sheet`.
pub fn write(sheet: &mut Worksheet, nodes: &[Rollup]) -> Result<(), XlsxError> {
    let bold = Format::new().set_bold();
    sheet.set_name(NAME)?;
    let columns = columns(nodes);
    let mut widths: Vec<usize> = columns.iter().map(|(h, _)| display_width(h)).collect();
    for ((col, (header, _)), width) in (0u16..).zip(&columns).zip(widths.iter_mut()) {
        sheet.write_string_with_format(0, col, header, &bold)?;
        for (row, node) in (1u32..).zip(nodes) {
            let text = match &columns[usize::from(col)].1 {
                Figure::Text(text) => {
                    sheet.write_string(row, col, text(node))?;
                    text(node).to_string()
                }
                Figure::Count(count) => {
                    // Counts of records in one rollup are far below 2^53: exact as numbers.
                    sheet.write_number(row, col, count(node) as f64)?;
                    count(node).to_string()
                }
                Figure::Money(tally, currency) => {
                    let amount = tally(node)
                        .amounts
                        .get(currency)
                        .copied()
                        .unwrap_or_default();
                    write_amount(sheet, (row, col), amount, *currency)?;
                    // Thousands separators add about a third.
                    let digits = format_amount(amount, *currency);
                    format!("{digits}{}", " ".repeat(digits.len() / 3))
                }
            };
            *width = (*width).max(display_width(&text));
        }
    }
    // The header row and the node's code and name stay in view while scrolling.
    sheet.set_freeze_panes(1, 2)?;
    fit_columns(sheet, &widths)
}

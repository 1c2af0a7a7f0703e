//! XLSX export of a rollup: a sheet people read (`汇总 Summary`: one row per territory node of
//! the subtree, one column per figure) and the long list (`rollup`: the same rows and columns
//! as the CSV).
//!
//! **Decision — amounts are numbers**: amounts are written as spreadsheet numbers with a money
//! format of the currency's minor unit, so Excel sums and charts them. A spreadsheet number is
//! a binary float: exact to about 15 significant digits, i.e. to the cent below 10^13, far
//! beyond any rollup here; the exact decimal text stays in the CSV and JSON exports. Counts and
//! ranks are whole numbers. Text is written as strings, never as formulas, so a user name
//! starting with `=` stays text.

mod summary;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};
use shared::money::Currency;
use shared::report::{CSV_HEADER, Rollup, csv_rows};
use shared::text::display_width;

use crate::error::ServerError;

/// The workbook for `rollup` (the requested node) and `nodes` (one rollup per node of its
/// subtree, the node first, for the summary sheet; empty gives a summary of `rollup` alone).
pub fn to_xlsx(rollup: &Rollup, nodes: &[Rollup]) -> Result<Vec<u8>, ServerError> {
    build(rollup, nodes).map_err(|e| ServerError::Internal(format!("writing XLSX: {e}")))
}

fn build(r: &Rollup, nodes: &[Rollup]) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let nodes = if nodes.is_empty() {
        std::slice::from_ref(r)
    } else {
        nodes
    };
    summary::write(workbook.add_worksheet(), nodes)?;
    list(workbook.add_worksheet(), r)?;
    workbook.save_to_buffer()
}

/// The money format of a currency: thousands separators and its minor unit's decimals.
fn money_format(currency: Currency) -> Format {
    let places = currency.minor_units() as usize;
    let pattern = if places == 0 {
        "#,##0".to_string()
    } else {
        format!("#,##0.{}", "0".repeat(places))
    };
    Format::new().set_num_format(pattern)
}

/// An amount as a spreadsheet number in its currency's money format.
fn write_amount(
    sheet: &mut Worksheet,
    (row, col): (u32, u16),
    amount: Decimal,
    currency: Currency,
) -> Result<(), XlsxError> {
    let number = amount.to_f64().unwrap_or_default();
    sheet.write_number_with_format(row, col, number, &money_format(currency))?;
    Ok(())
}

/// Sets each column as wide as its widest text (display width: CJK counts two) plus a margin.
fn fit_columns(sheet: &mut Worksheet, widths: &[usize]) -> Result<(), XlsxError> {
    for (col, width) in (0u16..).zip(widths) {
        // Width in characters of the default font; capped so one long name cannot make a
        // column wider than a screen.
        let width = (*width).clamp(4, 60) as f64 + 2.0;
        sheet.set_column_width(col, width)?;
    }
    Ok(())
}

/// The long list: the CSV's rows, amounts as numbers.
fn list(sheet: &mut Worksheet, r: &Rollup) -> Result<(), XlsxError> {
    let bold = Format::new().set_bold();
    sheet.set_name("rollup")?;
    let mut widths: Vec<usize> = CSV_HEADER.iter().map(|h| display_width(h)).collect();
    for (col, title) in (0u16..).zip(CSV_HEADER) {
        sheet.write_string_with_format(0, col, title, &bold)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    let from = r.range.first.to_string();
    let to = r.range.last.to_string();
    for (row, line) in (1u32..).zip(csv_rows(r)) {
        let texts = [
            r.node.as_str(),
            r.period.as_str(),
            &from,
            &to,
            line.section,
            &line.subject,
            &line.metric,
            &line.currency,
        ];
        for (col, text) in (0u16..).zip(texts) {
            if !text.is_empty() {
                sheet.write_string(row, col, text)?;
            }
            widths[usize::from(col)] = widths[usize::from(col)].max(display_width(text));
        }
        // Columns 8 (count) and 10 (rank) are whole numbers, 9 (amount) money.
        for (col, text) in [(8u16, &line.count), (10, &line.rank)] {
            if let Ok(number) = text.parse::<u32>() {
                sheet.write_number(row, col, f64::from(number))?;
            } else if !text.is_empty() {
                sheet.write_string(row, col, text)?;
            }
        }
        let amount = line.amount.parse::<Decimal>();
        let currency = line.currency.parse::<Currency>();
        match (amount, currency) {
            (Ok(amount), Ok(currency)) => write_amount(sheet, (row, 9), amount, currency)?,
            _ if !line.amount.is_empty() => {
                sheet.write_string(row, 9, &line.amount)?;
            }
            _ => {}
        }
        widths[9] = widths[9].max(display_width(&line.amount) + 4);
    }
    fit_columns(sheet, &widths)
}

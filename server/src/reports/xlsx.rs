//! XLSX export of a rollup: one sheet, the same rows and columns as the CSV.

use rust_xlsxwriter::{Format, Workbook, XlsxError};
use shared::report::{CSV_HEADER, Rollup, csv_rows};

use crate::error::ServerError;

/// The rollup as an XLSX workbook with one sheet named `rollup`.
///
/// **Decision**: amounts are written as text cells holding the exact decimal string (e.g.
/// `1234.50`), never as spreadsheet numbers, which are binary floating point and would round
/// large or many-digit amounts; counts and ranks are small whole numbers and written as
/// numbers, exactly representable. Text is written as strings, never as formulas, so a user
/// name starting with `=` stays text.
pub fn to_xlsx(rollup: &Rollup) -> Result<Vec<u8>, ServerError> {
    build(rollup).map_err(|e| ServerError::Internal(format!("writing XLSX: {e}")))
}

fn build(r: &Rollup) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let sheet = workbook.add_worksheet();
    sheet.set_name("rollup")?;
    for (col, title) in (0u16..).zip(CSV_HEADER) {
        sheet.write_string_with_format(0, col, title, &bold)?;
    }
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
        }
        // Columns 8 (count) and 10 (rank) are whole numbers; 9 (amount) stays exact text.
        for (col, text) in [(8u16, &line.count), (10, &line.rank)] {
            if let Ok(number) = text.parse::<u32>() {
                sheet.write_number(row, col, f64::from(number))?;
            } else if !text.is_empty() {
                sheet.write_string(row, col, text)?;
            }
        }
        if !line.amount.is_empty() {
            sheet.write_string(row, 9, &line.amount)?;
        }
    }
    workbook.save_to_buffer()
}

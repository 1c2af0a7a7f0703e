//! Text laid out for a terminal or a spreadsheet: by display width, not by characters. A CJK
//! character takes two columns, so padding `上海办事处` to 10 characters would make it 15
//! columns wide and push every later column of its line out of place.

use unicode_width::UnicodeWidthStr;

/// How many terminal columns `text` takes (CJK and other wide characters count two).
pub fn display_width(text: &str) -> usize {
    UnicodeWidthStr::width(text)
}

/// Where a cell's text sits in its column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text against the left edge (names, codes).
    Left,
    /// Text against the right edge (figures).
    Right,
}

/// `text` padded with spaces to `width` display columns; text already as wide or wider is
/// returned as it is.
pub fn pad(text: &str, width: usize, align: Align) -> String {
    let fill = " ".repeat(width.saturating_sub(display_width(text)));
    match align {
        Align::Left => format!("{text}{fill}"),
        Align::Right => format!("{fill}{text}"),
    }
}

/// A plain-text table: a header line and one line per row, each column as wide as its widest
/// cell (header included) and separated by two spaces, so every line has the same display
/// width and no cell runs into the next. Rows shorter than the header are filled with empty
/// cells; extra cells are dropped.
pub fn table(headers: &[(&str, Align)], rows: &[Vec<String>]) -> Vec<String> {
    let cell = |row: &Vec<String>, i: usize| row.get(i).map_or("", String::as_str).to_string();
    let widths: Vec<usize> = headers
        .iter()
        .enumerate()
        .map(|(i, (header, _))| {
            rows.iter()
                .map(|row| display_width(&cell(row, i)))
                .chain(std::iter::once(display_width(header)))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<String>| {
        cells
            .iter()
            .zip(headers.iter().zip(&widths))
            .map(|(text, ((_, align), width))| pad(text, *width, *align))
            .collect::<Vec<_>>()
            .join("  ")
    };
    let mut out = vec![line(headers.iter().map(|(h, _)| h.to_string()).collect())];
    out.extend(
        rows.iter()
            .map(|row| line((0..headers.len()).map(|i| cell(row, i)).collect())),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_count_cjk_double() {
        for (text, width) in [
            ("", 0),
            ("SOUTH-GZ", 8),
            ("上海办事处", 10),
            ("订单 CNY", 8),
        ] {
            assert_eq!(display_width(text), width, "{text}");
        }
        assert_eq!(pad("拜访", 6, Align::Right), "  拜访");
        assert_eq!(pad("华南大区", 10, Align::Left), "华南大区  ");
        assert_eq!(pad("toolong", 3, Align::Left), "toolong");
    }

    #[test]
    fn every_line_of_a_table_is_as_wide_and_no_cell_overflows() {
        let headers = [
            ("node", Align::Left),
            ("name", Align::Left),
            ("拜访", Align::Right),
            ("订单 CNY", Align::Right),
        ];
        let rows = vec![
            vec![
                "CN".into(),
                "公司总部".into(),
                "1234".into(),
                "805267.20".into(),
            ],
            vec![
                "    SOUTH-GZ".into(),
                "广州办事处".into(),
                "7".into(),
                "0.00".into(),
            ],
            vec!["  EAST".into(), "East".into()],
        ];
        let lines = table(&headers, &rows);
        assert_eq!(lines.len(), 4);
        let width = display_width(&lines[0]);
        assert!(
            lines.iter().all(|l| display_width(l) == width),
            "{lines:#?}"
        );
        // Each cell ends where its column ends: the columns start at the same place on every
        // line, so a code never runs into the name beside it.
        let starts = |line: &str, cell: &str| line.find(cell).map(|at| display_width(&line[..at]));
        assert_eq!(starts(&lines[1], "公司总部"), starts(&lines[3], "East"));
        assert_eq!(
            starts(&lines[2], "广州办事处"),
            starts(&lines[1], "公司总部")
        );
        assert!(lines[2].starts_with("    SOUTH-GZ  "), "{}", lines[2]);
    }
}

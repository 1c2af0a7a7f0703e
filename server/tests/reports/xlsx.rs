//! Reading an XLSX file back in a test: each cell's type (text or number) and value, its
//! style's number format, the column widths. Only what the export writes is understood.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

/// A cell as a spreadsheet sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Nothing.
    Empty,
    /// A string.
    Text(String),
    /// A number.
    Number(f64),
}

/// The workbook's XML parts by name.
pub struct Book {
    parts: BTreeMap<String, String>,
}

/// One worksheet.
pub struct Sheet {
    /// Its XML, for what the helpers do not read.
    pub xml: String,
    cells: BTreeMap<(u32, usize), (Cell, usize)>,
    money_styles: BTreeSet<usize>,
    widths: BTreeMap<usize, f64>,
}

impl Book {
    /// Unzips the workbook.
    pub fn read(bytes: Vec<u8>) -> Book {
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
        let mut parts = BTreeMap::new();
        for i in 0..zip.len() {
            let mut file = zip.by_index(i).expect("a part");
            let mut text = String::new();
            if file.read_to_string(&mut text).is_ok() {
                parts.insert(file.name().to_string(), text);
            }
        }
        Book { parts }
    }

    /// A part's XML.
    pub fn part(&self, name: &str) -> &str {
        self.parts.get(name).map_or("", String::as_str)
    }

    /// The sheets' names in order.
    pub fn sheet_names(&self) -> Vec<String> {
        elements(self.part("xl/workbook.xml"), "sheet")
            .iter()
            .filter_map(|e| attribute(e, "name"))
            .collect()
    }

    /// Sheet `n` (from 1).
    pub fn sheet(&self, n: usize) -> Sheet {
        let strings: Vec<String> = self
            .part("xl/sharedStrings.xml")
            .split("<si>")
            .skip(1)
            .map(|si| texts(si.split("</si>").next().unwrap_or_default()))
            .collect();
        let styles = self.part("xl/styles.xml");
        let xfs = styles
            .split("<cellXfs")
            .nth(1)
            .and_then(|s| s.split("</cellXfs>").next())
            .unwrap_or_default();
        let money_styles = elements(xfs, "xf")
            .iter()
            .enumerate()
            .filter(|(_, xf)| {
                attribute(xf, "numFmtId").and_then(|id| id.parse::<u32>().ok()) >= Some(164)
            })
            .map(|(i, _)| i)
            .collect();
        let xml = self
            .part(&format!("xl/worksheets/sheet{n}.xml"))
            .to_string();
        let mut cells = BTreeMap::new();
        for element in xml.split("<c ").skip(1) {
            let (head, body) = element.split_once('>').unwrap_or((element, ""));
            let reference = attribute(head, "r").expect("a cell reference");
            let style = attribute(head, "s")
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let value = between(body, "<v>", "</v>");
            let cell = match (attribute(head, "t").as_deref(), value) {
                (Some("s"), Some(v)) => {
                    Cell::Text(strings[v.parse::<usize>().expect("index")].clone())
                }
                (Some("inlineStr" | "str"), _) => Cell::Text(texts(body)),
                (None | Some("n"), Some(v)) => Cell::Number(v.parse().expect("a number")),
                _ => Cell::Empty,
            };
            cells.insert(position(&reference), (cell, style));
        }
        let widths = elements(&xml, "col")
            .iter()
            .filter_map(|c| {
                let min: usize = attribute(c, "min")?.parse().ok()?;
                Some((min - 1, attribute(c, "width")?.parse().ok()?))
            })
            .collect();
        Sheet {
            xml,
            cells,
            money_styles,
            widths,
        }
    }
}

impl Sheet {
    /// The cells of row `row` (from 1), from column A to the sheet's last used column.
    pub fn row(&self, row: u32) -> Vec<Cell> {
        let last = self.cells.keys().map(|(_, c)| *c).max().unwrap_or(0);
        (0..=last)
            .map(|col| {
                self.cells
                    .get(&(row, col))
                    .map_or(Cell::Empty, |(cell, _)| cell.clone())
            })
            .collect()
    }

    /// The last row with a cell.
    pub fn last_row(&self) -> u32 {
        self.cells.keys().map(|(r, _)| *r).max().unwrap_or(0)
    }

    /// Whether the cell at `row` (from 1) and `col` (from 0) has a custom number format.
    pub fn money_styled(&self, row: u32, col: usize) -> bool {
        self.cells
            .get(&(row, col))
            .is_some_and(|(_, style)| self.money_styles.contains(style))
    }

    /// The width set for column `col` (from 0).
    pub fn width(&self, col: usize) -> Option<f64> {
        self.widths.get(&col).copied()
    }
}

/// `A1`-style reference to (row from 1, column from 0).
fn position(reference: &str) -> (u32, usize) {
    let letters: String = reference
        .chars()
        .take_while(char::is_ascii_uppercase)
        .collect();
    let col = letters
        .bytes()
        .fold(0usize, |acc, b| acc * 26 + usize::from(b - b'A' + 1));
    let row = reference[letters.len()..].parse().expect("a row");
    (row, col - 1)
}

/// The opening tags `<name ...>` in `xml`, as their attribute text.
fn elements(xml: &str, name: &str) -> Vec<String> {
    xml.split(&format!("<{name} "))
        .skip(1)
        .map(|e| e.split('>').next().unwrap_or_default().to_string())
        .collect()
}

fn attribute(head: &str, name: &str) -> Option<String> {
    between(head, &format!(" {name}=\""), "\"")
        .or_else(|| {
            head.strip_prefix(&format!("{name}=\""))
                .and_then(|h| h.split('"').next().map(String::from))
        })
        .map(|v| unescape(&v))
}

fn between(text: &str, open: &str, close: &str) -> Option<String> {
    let start = text.find(open)? + open.len();
    let end = text[start..].find(close)? + start;
    Some(text[start..end].to_string())
}

/// The text of every `<t>` in an element, joined.
fn texts(xml: &str) -> String {
    xml.split("<t")
        .skip(1)
        .filter_map(|t| {
            let (_, rest) = t.split_once('>')?;
            Some(unescape(rest.split("</t>").next().unwrap_or_default()))
        })
        .collect()
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

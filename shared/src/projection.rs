//! Projection: the plain rows derived from a record, so that lists, searches and reports are
//! SQL queries, never walks over documents.
//!
//! The client and the server both keep these tables. The tables' definitions and the rows live
//! here so that both sides derive the same rows from the same record; each side only executes
//! the SQL. Every table's first column is `doc_id`: re-projecting a record deletes its rows from
//! the tables of its kind and inserts the new ones, in the same transaction as the document
//! write.

use rust_decimal::Decimal;

use crate::domain::{Approval, lines_in_order, max_discount};
use crate::money::{self, Currency};
use crate::record::Record;
use crate::rules::names::normalise_code;
use crate::{RecordId, RecordKind};

/// A column's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColType {
    /// Text (including exact decimal amounts as their canonical text).
    Text,
    /// A 64-bit integer (including booleans as 0 and 1).
    Int,
}

/// A projection table.
#[derive(Debug, PartialEq, Eq)]
pub struct Table {
    /// The table name.
    pub name: &'static str,
    /// Columns after `doc_id`, with their types.
    pub columns: &'static [(&'static str, ColType)],
    /// Columns to index.
    pub indexes: &'static [&'static str],
}

/// One value in a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    /// SQL NULL.
    Null,
    /// An integer.
    Int(i64),
    /// Text.
    Text(String),
}

impl From<Option<String>> for Cell {
    fn from(value: Option<String>) -> Self {
        value.map_or(Cell::Null, Cell::Text)
    }
}

impl From<&Option<String>> for Cell {
    fn from(value: &Option<String>) -> Self {
        value.clone().into()
    }
}

impl From<String> for Cell {
    fn from(value: String) -> Self {
        Cell::Text(value)
    }
}

impl From<&str> for Cell {
    fn from(value: &str) -> Self {
        Cell::Text(value.to_string())
    }
}

impl From<bool> for Cell {
    fn from(value: bool) -> Self {
        Cell::Int(i64::from(value))
    }
}

impl From<i64> for Cell {
    fn from(value: i64) -> Self {
        Cell::Int(value)
    }
}

fn text<T: ToString>(value: Option<T>) -> Cell {
    value.map(|v| v.to_string()).into()
}

fn amount(value: Decimal, currency: Currency) -> Cell {
    Cell::Text(money::format_amount(value, currency))
}

/// A deal's approval as listed: the decision's word.
fn decision(approval: &Option<Approval>) -> Cell {
    text(approval.as_ref().map(|a| a.decision.as_str()))
}

/// Who made a deal's decision.
fn decided_by(approval: &Option<Approval>) -> Cell {
    text(approval.as_ref().map(|a| &a.by))
}

use ColType::{Int, Text};

/// Customers.
pub static CUSTOMERS: Table = Table {
    name: "customers",
    columns: &[
        ("name", Text),
        ("region", Text),
        ("salesperson", Text),
        ("kind", Text),
        ("grade", Text),
        ("lifecycle", Text),
        ("phone", Text),
        ("tax_id", Text),
        ("address", Text),
        ("credit_limit", Text),
        ("currency", Text),
        ("route", Int),
        ("created_at", Text),
        ("voided", Int),
    ],
    indexes: &["name", "region", "tax_id", "phone"],
};

/// Dealers; `authorised_regions` is a comma-separated list.
pub static DEALERS: Table = Table {
    name: "dealers",
    columns: &[
        ("name", Text),
        ("region", Text),
        ("authorised_regions", Text),
        ("phone", Text),
        ("tax_id", Text),
        ("created_at", Text),
        ("voided", Int),
    ],
    indexes: &["name", "region"],
};

/// Products: the price list.
pub static PRODUCTS: Table = Table {
    name: "products",
    columns: &[
        ("code", Text),
        ("name", Text),
        ("unit", Text),
        ("list_price", Text),
        ("currency", Text),
        ("voided", Int),
    ],
    indexes: &["code"],
};

/// Visits.
pub static VISITS: Table = Table {
    name: "visits",
    columns: &[
        ("customer_id", Text),
        ("dealer_id", Text),
        ("salesperson", Text),
        ("planned_at", Text),
        ("actual_at", Text),
        ("local_date", Text),
        ("time_zone", Text),
        ("place", Text),
        ("purpose", Text),
        ("outcome", Text),
        ("follow_up", Text),
        ("stock_lines", Int),
        ("created_at", Text),
        ("voided", Int),
    ],
    indexes: &["customer_id", "local_date"],
};

/// Stock seen on visits, one row per stock line (what the 窜货 rule reads).
pub static VISIT_STOCK: Table = Table {
    name: "visit_stock",
    columns: &[
        ("line_id", Text),
        ("product", Text),
        ("code", Text),
        ("quantity", Text),
        ("position", Int),
        // `code` normalised ([`normalise_code`]: full-width, spaces, case), so an order's batch
        // finds the visits that saw it however the code was typed. Added after the table
        // existed: both sides' schema code adds it to older databases and re-projects visits.
        ("code_key", Text),
    ],
    indexes: &["code"],
};

/// Quotations.
pub static QUOTATIONS: Table = Table {
    name: "quotations",
    columns: &[
        ("number", Text),
        ("customer_id", Text),
        ("salesperson", Text),
        ("currency", Text),
        ("status", Text),
        ("line_count", Int),
        ("total", Text),
        ("max_discount", Text),
        ("valid_until", Text),
        ("created_at", Text),
        ("voided", Int),
        // A manager's decision (`approved`, `rejected`, NULL for none) and who made it. Added
        // after the table existed, like `credit_hold` below.
        ("approval", Text),
        ("decided_by", Text),
    ],
    indexes: &["customer_id", "number"],
};

/// Orders.
pub static ORDERS: Table = Table {
    name: "orders",
    columns: &[
        ("number", Text),
        ("quotation_id", Text),
        ("customer_id", Text),
        ("dealer_id", Text),
        ("salesperson", Text),
        ("currency", Text),
        ("status", Text),
        ("line_count", Int),
        ("total", Text),
        ("delivery_deadline", Text),
        ("delivery_region", Text),
        ("created_at", Text),
        ("voided", Int),
        // `held` (a credit hold stops the order), `released`, or NULL (never held). Added after
        // the table existed: both sides' schema code adds it to older databases and
        // re-projects their orders.
        ("credit_hold", Text),
        ("approval", Text),
        ("decided_by", Text),
    ],
    indexes: &["customer_id", "number"],
};

/// Lines of quotations and orders, one row each, with the line's rounded amount.
pub static DEAL_LINES: Table = Table {
    name: "deal_lines",
    columns: &[
        ("line_id", Text),
        ("product", Text),
        ("quantity", Text),
        ("unit_price", Text),
        ("discount_pct", Text),
        ("amount", Text),
        ("position", Int),
        // The line's batch code normalised ([`normalise_code`]), what the 窜货 stock rule
        // matches visits' stock against. Added after the table existed: both sides' schema
        // code adds it to older databases and re-projects quotations and orders. Not in
        // `indexes`: the DDL runs before missing columns are added, so an index on it would
        // fail on an older database; the server's flag engine creates its index.
        ("batch", Text),
    ],
    indexes: &["product"],
};

/// Flags; `regions`, `people` and `records` are comma-separated lists.
pub static FLAGS: Table = Table {
    name: "flags",
    columns: &[
        ("kind", Text),
        ("severity", Text),
        ("key", Text),
        ("status", Text),
        ("regions", Text),
        ("people", Text),
        ("records", Text),
        ("message_en", Text),
        ("message_zh", Text),
        ("detected_at", Text),
        ("handled_by", Text),
        ("voided", Int),
        // When the situation arose (what reports bin by); added after the table existed, so
        // both sides' schema code adds it to older databases and re-projects flags.
        ("occurred_at", Text),
    ],
    indexes: &["key", "status", "kind"],
};

/// Every projection table.
pub static TABLES: [&Table; 9] = [
    &CUSTOMERS,
    &DEALERS,
    &PRODUCTS,
    &VISITS,
    &VISIT_STOCK,
    &QUOTATIONS,
    &ORDERS,
    &DEAL_LINES,
    &FLAGS,
];

/// The tables a record kind projects into.
pub fn tables_for(kind: RecordKind) -> &'static [&'static Table] {
    static CUSTOMER: [&Table; 1] = [&CUSTOMERS];
    static DEALER: [&Table; 1] = [&DEALERS];
    static PRODUCT: [&Table; 1] = [&PRODUCTS];
    static VISIT: [&Table; 2] = [&VISITS, &VISIT_STOCK];
    static QUOTATION: [&Table; 2] = [&QUOTATIONS, &DEAL_LINES];
    static ORDER: [&Table; 2] = [&ORDERS, &DEAL_LINES];
    static FLAG: [&Table; 1] = [&FLAGS];
    match kind {
        RecordKind::Customer => &CUSTOMER,
        RecordKind::Dealer => &DEALER,
        RecordKind::Product => &PRODUCT,
        RecordKind::Visit => &VISIT,
        RecordKind::Quotation => &QUOTATION,
        RecordKind::Order => &ORDER,
        RecordKind::Flag => &FLAG,
    }
}

/// The `ALTER TABLE` statements that bring a projection table created by an older build up to
/// this build's columns (given the columns it has); empty when it has them all. Both sides run
/// them on open and then re-project the kinds the table holds ([`kinds_in`]).
pub fn add_column_sql(table: &Table, existing: &[String]) -> Vec<String> {
    table
        .columns
        .iter()
        .filter(|(name, _)| !existing.iter().any(|c| c == name))
        .map(|(name, ty)| {
            let ty = if *ty == ColType::Int {
                "BIGINT"
            } else {
                "TEXT"
            };
            format!("ALTER TABLE {} ADD COLUMN {name} {ty}", table.name)
        })
        .collect()
}

/// The record kinds whose rows live in `table`.
pub fn kinds_in(table: &Table) -> Vec<RecordKind> {
    RecordKind::ALL
        .into_iter()
        .filter(|kind| tables_for(*kind).contains(&table))
        .collect()
}

/// SQL that creates every projection table and index (SQLite and PostgreSQL alike).
pub fn ddl() -> String {
    let mut sql = String::new();
    for table in TABLES {
        let columns: Vec<String> = table
            .columns
            .iter()
            .map(|(name, ty)| format!("{name} {}", if *ty == Int { "BIGINT" } else { "TEXT" }))
            .collect();
        sql.push_str(&format!(
            "CREATE TABLE IF NOT EXISTS {} (doc_id TEXT NOT NULL, {});\n",
            table.name,
            columns.join(", ")
        ));
        sql.push_str(&format!(
            "CREATE INDEX IF NOT EXISTS {0}_doc ON {0} (doc_id);\n",
            table.name
        ));
        for column in table.indexes {
            sql.push_str(&format!(
                "CREATE INDEX IF NOT EXISTS {0}_{1} ON {0} ({1});\n",
                table.name, column
            ));
        }
    }
    sql
}

/// The rows of one record: `(table, cells after doc_id)`.
pub type Rows = Vec<(&'static Table, Vec<Cell>)>;

/// Derives the rows of a record.
pub fn project(record: &Record) -> Rows {
    let voided = Cell::from(record.voided().is_some());
    match record {
        Record::Customer(c) => vec![(
            &CUSTOMERS,
            vec![
                c.name.as_str().into(),
                (&c.region).into(),
                (&c.salesperson).into(),
                c.kind.as_str().into(),
                c.grade.as_str().into(),
                c.lifecycle.as_str().into(),
                (&c.basics.phone).into(),
                (&c.basics.tax_id).into(),
                (&c.basics.address).into(),
                text(c.credit.limit),
                c.credit.currency.code().into(),
                c.route.map_or(Cell::Null, |r| {
                    Cell::Int(i64::try_from(r).unwrap_or(i64::MAX))
                }),
                c.created_at.to_rfc3339().into(),
                voided,
            ],
        )],
        Record::Dealer(d) => vec![(
            &DEALERS,
            vec![
                d.name.as_str().into(),
                (&d.region).into(),
                d.authorised_regions
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(",")
                    .into(),
                (&d.phone).into(),
                (&d.tax_id).into(),
                d.created_at.to_rfc3339().into(),
                voided,
            ],
        )],
        Record::Product(p) => vec![(
            &PRODUCTS,
            vec![
                p.code.as_str().into(),
                p.name.as_str().into(),
                p.unit.as_str().into(),
                money::canonical(p.list_price).into(),
                p.currency.code().into(),
                voided,
            ],
        )],
        Record::Visit(v) => {
            let mut rows = vec![(
                &VISITS,
                vec![
                    v.customer_id.to_string().into(),
                    text(v.dealer_id),
                    v.salesperson.as_str().into(),
                    text(v.planned_at.map(|t| t.to_rfc3339())),
                    text(v.actual_at.map(|t| t.to_rfc3339())),
                    text(v.local_date()),
                    v.time_zone.name().into(),
                    (&v.place).into(),
                    (&v.purpose).into(),
                    (&v.outcome).into(),
                    text(v.follow_up),
                    Cell::Int(v.stock_seen.len() as i64),
                    v.created_at.to_rfc3339().into(),
                    voided,
                ],
            )];
            rows.extend(v.stock_in_order().into_iter().map(|(key, s)| {
                (
                    &VISIT_STOCK,
                    vec![
                        key.as_str().into(),
                        s.product.as_str().into(),
                        (&s.code).into(),
                        money::canonical(s.quantity).into(),
                        Cell::Int(s.position),
                        s.code.as_deref().and_then(normalise_code).into(),
                    ],
                )
            }));
            rows
        }
        Record::Quotation(q) => {
            let mut rows = vec![(
                &QUOTATIONS,
                vec![
                    q.number.as_str().into(),
                    q.customer_id.to_string().into(),
                    q.salesperson.as_str().into(),
                    q.currency.code().into(),
                    q.status.as_str().into(),
                    Cell::Int(q.lines.len() as i64),
                    amount(q.total(), q.currency),
                    money::canonical(max_discount(&q.lines)).into(),
                    text(q.valid_until),
                    q.created_at.to_rfc3339().into(),
                    voided,
                    decision(&q.approval),
                    decided_by(&q.approval),
                ],
            )];
            rows.extend(line_rows(&q.lines, q.currency));
            rows
        }
        Record::Order(o) => {
            let mut rows = vec![(
                &ORDERS,
                vec![
                    o.number.as_str().into(),
                    text(o.quotation_id),
                    o.customer_id.to_string().into(),
                    text(o.dealer_id),
                    o.salesperson.as_str().into(),
                    o.currency.code().into(),
                    o.status.as_str().into(),
                    Cell::Int(o.lines.len() as i64),
                    amount(o.total(), o.currency),
                    text(o.delivery_deadline),
                    (&o.delivery_region).into(),
                    o.created_at.to_rfc3339().into(),
                    voided,
                    o.credit_hold
                        .as_ref()
                        .map(|h| if h.is_active() { "held" } else { "released" }.to_string())
                        .into(),
                    decision(&o.approval),
                    decided_by(&o.approval),
                ],
            )];
            rows.extend(line_rows(&o.lines, o.currency));
            rows
        }
        Record::Flag(f) => vec![(
            &FLAGS,
            vec![
                f.kind.as_str().into(),
                f.severity.as_str().into(),
                f.key.as_str().into(),
                f.status.as_str().into(),
                f.regions.join(",").into(),
                f.people.join(",").into(),
                f.records
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
                    .into(),
                f.message_en.as_str().into(),
                f.message_zh.as_str().into(),
                f.detected_at.to_rfc3339().into(),
                (&f.handled_by).into(),
                voided,
                f.occurred_at.map(|t| t.to_rfc3339()).into(),
            ],
        )],
    }
}

fn line_rows(
    lines: &std::collections::BTreeMap<String, crate::domain::Line>,
    currency: Currency,
) -> Rows {
    lines_in_order(lines)
        .into_iter()
        .map(|(key, line)| {
            (
                &DEAL_LINES,
                vec![
                    key.as_str().into(),
                    line.product.as_str().into(),
                    money::canonical(line.quantity).into(),
                    money::canonical(line.unit_price).into(),
                    money::canonical(line.discount_pct).into(),
                    amount(line.amount(currency), currency),
                    Cell::Int(line.position),
                    line.batch.as_deref().and_then(normalise_code).into(),
                ],
            )
        })
        .collect()
}

/// The id column's value for a record's rows.
pub fn doc_id_cell(id: RecordId) -> Cell {
    Cell::Text(id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_older_table_gains_only_its_missing_columns() {
        let all: Vec<String> = ORDERS.columns.iter().map(|(c, _)| c.to_string()).collect();
        assert!(add_column_sql(&ORDERS, &all).is_empty());
        let older: Vec<String> = all
            .iter()
            .filter(|c| *c != "credit_hold")
            .cloned()
            .collect();
        assert_eq!(
            add_column_sql(&ORDERS, &older),
            ["ALTER TABLE orders ADD COLUMN credit_hold TEXT"]
        );
        assert_eq!(
            kinds_in(&DEAL_LINES),
            [RecordKind::Quotation, RecordKind::Order]
        );
    }

    #[test]
    fn every_row_matches_its_table() {
        let now = chrono::Utc::now();
        let record = Record::Customer(crate::domain::Customer::new("上海某某有限公司", now));
        for (table, cells) in project(&record) {
            assert_eq!(table.columns.len(), cells.len(), "table {}", table.name);
        }
        assert!(ddl().contains("CREATE TABLE IF NOT EXISTS customers"));
    }

    #[test]
    fn batch_and_stock_codes_are_projected_normalised() {
        use crate::domain::{Line, Order, OrderStatus, StockSeen, Visit};
        let now = chrono::Utc::now();
        let customer = RecordId::new();
        let mut visit = Visit::new(customer, "li".into(), chrono_tz::Asia::Shanghai, now);
        visit.stock_seen.insert(
            "s1".into(),
            StockSeen {
                product: "P-1".into(),
                code: Some("ｂ２６１１ 01".into()),
                quantity: Decimal::ONE,
                position: 1024,
            },
        );
        let rows = project(&Record::Visit(visit));
        let stock = rows.iter().find(|(t, _)| t.name == "visit_stock").unwrap();
        assert_eq!(stock.1[2], Cell::Text("ｂ２６１１ 01".into()), "as typed");
        assert_eq!(stock.1.last(), Some(&Cell::Text("B261101".into())));

        let quote = crate::domain::Quotation {
            number: "Q-1".into(),
            customer_id: customer,
            salesperson: "li".into(),
            currency: Currency::CNY,
            lines: Default::default(),
            valid_until: None,
            delivery_terms: None,
            payment_terms: None,
            status: crate::domain::QuoteStatus::Draft,
            notes: None,
            created_at: now,
            voided: None,
            approval: None,
        };
        let mut order =
            Order::from_quotation(RecordId::new(), &quote, "O-1".into(), "li".into(), now);
        order.status = OrderStatus::Confirmed;
        for (key, batch) in [("l1", Some(" b261101 ")), ("l2", None)] {
            order.lines.insert(
                key.into(),
                Line {
                    product: "P-1".into(),
                    description: None,
                    quantity: Decimal::ONE,
                    unit_price: Decimal::ONE,
                    discount_pct: Decimal::ZERO,
                    position: 1024,
                    batch: batch.map(Into::into),
                },
            );
        }
        let batches: Vec<Cell> = project(&Record::Order(order))
            .into_iter()
            .filter(|(t, _)| t.name == "deal_lines")
            .filter_map(|(_, cells)| cells.last().cloned())
            .collect();
        assert_eq!(batches, [Cell::Text("B261101".into()), Cell::Null]);
    }
}

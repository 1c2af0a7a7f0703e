//! `fieldsync quote ...` and `fieldsync order ...`: quotations and orders, and the priced
//! lines both are made of.

mod decision;
mod order;
mod quote;

pub use order::{OrderCommand, run_order};
pub use quote::{QuoteCommand, run_quote};

use std::collections::BTreeMap;

use clap::Args;
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use shared::domain::{Line, lines_in_order};
use shared::money::{self, Currency};
use shared::projection::PRODUCTS;
use shared::{Problem, Record, RecordId, Validation};

use super::Context;
use super::parse::{self, set_required, set_text};
use crate::error::ClientError;
use crate::store::ListFilter;

/// A new line.
#[derive(Debug, Args)]
pub struct LineArgs {
    /// Product code.
    #[arg(long)]
    product: String,
    /// Quantity (greater than zero).
    #[arg(long, allow_hyphen_values = true)]
    qty: String,
    /// Unit price (default: the product's list price).
    #[arg(long, allow_hyphen_values = true)]
    price: Option<String>,
    /// Discount in percent, 0 to 100.
    #[arg(long, allow_hyphen_values = true, default_value = "0")]
    discount: String,
    /// Description.
    #[arg(long)]
    description: Option<String>,
    /// Batch or serial code of the goods shipped on this line (orders; how head office traces
    /// goods seen on visits back to the region they were shipped to).
    #[arg(long)]
    batch: Option<String>,
}

/// Changing or removing an existing line, named by its number (1, 2, ... as shown) or key.
#[derive(Debug, Args, Default)]
pub struct LineEdit {
    /// The line to change: its number as shown, or its key.
    #[arg(long)]
    line: Option<String>,
    /// New quantity for --line.
    #[arg(long, requires = "line", allow_hyphen_values = true)]
    qty: Option<String>,
    /// New unit price for --line.
    #[arg(long, requires = "line", allow_hyphen_values = true)]
    price: Option<String>,
    /// New discount for --line.
    #[arg(long, requires = "line", allow_hyphen_values = true)]
    discount: Option<String>,
    /// Batch or serial code shipped on --line (an empty value clears it).
    #[arg(long, requires = "line", allow_hyphen_values = true)]
    batch: Option<String>,
    /// Remove this line (number or key).
    #[arg(long)]
    remove_line: Option<String>,
}

impl LineEdit {
    fn apply(&self, lines: &mut BTreeMap<String, Line>) -> Result<(), ClientError> {
        let mut v = Validation::default();
        if let Some(which) = &self.line {
            let key = line_key(lines, which)?;
            if let Some(line) = lines.get_mut(&key) {
                set_required(
                    &mut v,
                    &mut line.quantity,
                    &self.qty,
                    parse::quantity("qty"),
                );
                set_required(
                    &mut v,
                    &mut line.unit_price,
                    &self.price,
                    parse::non_negative("price"),
                );
                set_required(
                    &mut v,
                    &mut line.discount_pct,
                    &self.discount,
                    parse::percent("discount"),
                );
                set_text(&mut line.batch, &self.batch);
            }
        }
        if let Some(which) = &self.remove_line {
            let key = line_key(lines, which)?;
            lines.remove(&key);
        }
        v.finish()?;
        Ok(())
    }
}

fn line_key(lines: &BTreeMap<String, Line>, which: &str) -> Result<String, ClientError> {
    let ordered = lines_in_order(lines);
    let by_number = which
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_sub(1))
        .and_then(|i| ordered.get(i));
    by_number
        .map(|(key, _)| (*key).clone())
        .or_else(|| lines.contains_key(which).then(|| which.to_string()))
        .ok_or_else(|| {
            Validation::one("line", Problem::Inconsistent(format!("no line `{which}`"))).into()
        })
}

/// The columns of quotation and order lists.
const DEAL_COLUMNS: &[&str] = &[
    "id",
    "number",
    "customer_id",
    "status",
    "line_count",
    "total",
    "currency",
];

/// A number people can read out on the phone: prefix, date and the id's random tail.
fn deal_number(prefix: &str, id_hint: &RecordId) -> String {
    let text = id_hint.to_string();
    let tail = &text[text.len() - 6..];
    format!(
        "{prefix}-{}-{}",
        chrono::Utc::now().format("%Y%m%d"),
        tail.to_ascii_uppercase()
    )
}

/// The list price of a product in the price list, if it has one in this currency.
fn list_price(ctx: &Context, code: &str, currency: Currency) -> Result<Decimal, ClientError> {
    let rows = ctx.store.list(&PRODUCTS, &ListFilter::default())?;
    let row = rows
        .iter()
        .find(|r| r.get("code").and_then(|c| c.as_str()) == Some(code))
        .ok_or_else(|| {
            Validation::one(
                "price",
                Problem::Inconsistent(format!(
                    "product `{code}` is not in the price list; give --price"
                )),
            )
        })?;
    if row.get("currency").and_then(|c| c.as_str()) != Some(currency.code()) {
        return Err(Validation::one(
            "price",
            Problem::Inconsistent(format!(
                "product `{code}` has no list price in {currency}; give --price"
            )),
        )
        .into());
    }
    let text = row
        .get("list_price")
        .and_then(|p| p.as_str())
        .unwrap_or_default();
    Ok(parse::decimal("price")(text)?)
}

/// A new line from the command line; the price defaults to the product's list price.
fn build_line(ctx: &Context, args: &LineArgs, currency: Currency) -> Result<Line, ClientError> {
    let mut v = Validation::default();
    let quantity = v.take(parse::quantity("qty")(&args.qty));
    let discount = v.take(parse::percent("discount")(&args.discount));
    let price = match &args.price {
        Some(text) => v.take(parse::non_negative("price")(text)),
        None => v.take(
            list_price(ctx, args.product.trim(), currency).map_err(|e| match e {
                ClientError::Invalid(v) => v,
                other => Validation::one("price", Problem::Inconsistent(other.to_string())),
            }),
        ),
    };
    v.require("product", &args.product);
    v.finish()?;
    Ok(Line {
        product: args.product.trim().to_string(),
        description: args.description.clone().filter(|d| !d.trim().is_empty()),
        quantity: quantity.unwrap_or_default(),
        unit_price: price.unwrap_or_default(),
        discount_pct: discount.unwrap_or_default(),
        position: 0,
        batch: args
            .batch
            .as_deref()
            .map(str::trim)
            .filter(|b| !b.is_empty())
            .map(String::from),
    })
}

/// The columns of a deal's lines as people see them.
pub(super) const LINE_COLUMNS: &[&str] = &[
    "no",
    "product",
    "batch",
    "quantity",
    "unit_price",
    "discount_pct",
    "amount",
    "key",
];

/// A quotation's or order's lines as rows and its total as text; `None` for other records.
pub(super) fn priced_lines(record: &Record) -> Option<(Vec<Map<String, Value>>, String)> {
    let (lines, currency, total) = match record {
        Record::Quotation(q) => (&q.lines, q.currency, q.total()),
        Record::Order(o) => (&o.lines, o.currency, o.total()),
        _ => return None,
    };
    Some((
        line_rows(lines, currency),
        money::format_amount(total, currency),
    ))
}

/// A deal's lines as rows, in position order, numbered as `--line` takes them.
fn line_rows(lines: &BTreeMap<String, Line>, currency: Currency) -> Vec<Map<String, Value>> {
    lines_in_order(lines)
        .into_iter()
        .enumerate()
        .map(|(n, (key, line))| {
            let mut row = Map::new();
            row.insert("no".into(), json!(n + 1));
            row.insert("key".into(), json!(key));
            row.insert("product".into(), json!(line.product));
            row.insert("description".into(), json!(line.description));
            row.insert("batch".into(), json!(line.batch));
            row.insert("quantity".into(), json!(money::canonical(line.quantity)));
            row.insert(
                "unit_price".into(),
                json!(money::canonical(line.unit_price)),
            );
            row.insert(
                "discount_pct".into(),
                json!(money::canonical(line.discount_pct)),
            );
            row.insert(
                "amount".into(),
                json!(money::format_amount(line.amount(currency), currency)),
            );
            row
        })
        .collect()
}

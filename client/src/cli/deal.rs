//! `fieldsync quote ...` and `fieldsync order ...`: quotations and orders.

use std::collections::BTreeMap;

use clap::{Args, Subcommand};
use rust_decimal::Decimal;
use serde_json::json;
use shared::domain::{
    Line, Order, Quotation, QuoteStatus, lines_in_order, new_item_key, next_position,
};
use shared::money::Currency;
use shared::projection::{ORDERS, PRODUCTS, QUOTATIONS};
use shared::{Problem, RecordId, RecordKind, Validation};

use super::customer::edited_message;
use super::parse::{self, set_parsed, set_required, set_text};
use super::warnings::{self, Saved};
use super::{Context, show_record};
use crate::error::ClientError;
use crate::store::ListFilter;

/// Quotation commands.
#[derive(Debug, Subcommand)]
pub enum QuoteCommand {
    /// Start a quotation for a customer.
    New {
        /// Customer (id or unique prefix).
        #[arg(long)]
        customer: String,
        /// Currency (ISO code).
        #[arg(long, default_value = "CNY")]
        currency: String,
        #[command(flatten)]
        fields: QuoteFields,
    },
    /// Add a line.
    AddLine {
        /// Quotation id (or unique prefix).
        id: String,
        #[command(flatten)]
        line: LineArgs,
    },
    /// Change a quotation, or one of its lines (an empty value clears a field).
    Edit {
        /// Quotation id (or unique prefix).
        id: String,
        /// Status: draft, submitted, approved, rejected, sent, accepted, lost.
        #[arg(long)]
        status: Option<String>,
        #[command(flatten)]
        fields: QuoteFields,
        #[command(flatten)]
        lines: LineEdit,
    },
    /// Show a quotation with its lines and total.
    Show {
        /// Quotation id (or unique prefix).
        id: String,
    },
    /// List quotations.
    List {
        /// Only this customer's.
        #[arg(long)]
        customer: Option<String>,
        /// Include voided ones.
        #[arg(long)]
        all: bool,
    },
}

/// A quotation's header fields.
#[derive(Debug, Args, Default)]
pub struct QuoteFields {
    /// Last day the prices hold (YYYY-MM-DD).
    #[arg(long)]
    valid_until: Option<String>,
    /// Delivery terms.
    #[arg(long)]
    delivery_terms: Option<String>,
    /// Payment terms.
    #[arg(long)]
    payment_terms: Option<String>,
    /// Notes.
    #[arg(long)]
    notes: Option<String>,
}

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

impl QuoteFields {
    fn apply(&self, v: &mut Validation, q: &mut Quotation) {
        set_parsed(
            v,
            &mut q.valid_until,
            &self.valid_until,
            parse::date("valid_until"),
        );
        set_text(&mut q.delivery_terms, &self.delivery_terms);
        set_text(&mut q.payment_terms, &self.payment_terms);
        set_text(&mut q.notes, &self.notes);
    }
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

/// Runs a quotation command.
pub fn run_quote(ctx: &mut Context, command: QuoteCommand) -> Result<(), ClientError> {
    match command {
        QuoteCommand::New {
            customer,
            currency,
            fields,
        } => {
            let customer_id = ctx.store.find_id(&customer, Some(RecordKind::Customer))?;
            let currency = Currency::parse_field("currency", &currency)?;
            let mut quote = Quotation {
                number: deal_number("Q", &RecordId::new()),
                customer_id,
                salesperson: ctx.store.device().user.clone(),
                currency,
                lines: BTreeMap::new(),
                valid_until: None,
                delivery_terms: None,
                payment_terms: None,
                status: QuoteStatus::Draft,
                notes: None,
                created_at: chrono::Utc::now(),
                voided: None,
                approval: None,
            };
            let mut v = Validation::default();
            fields.apply(&mut v, &mut quote);
            v.finish()?;
            let id = ctx.store.create(&quote, "new quotation")?;
            ctx.out.done(
                &format!(
                    "{} {id} ({})",
                    ctx.out.text("quotation started:", "已新建报价："),
                    quote.number
                ),
                json!({"id": id, "number": quote.number}),
            );
        }
        QuoteCommand::AddLine { id, line } => {
            let id = ctx.store.find_id(&id, Some(RecordKind::Quotation))?;
            let currency = ctx.store.get::<Quotation>(id)?.currency;
            let new_line = build_line(ctx, &line, currency)?;
            let key = new_item_key();
            ctx.store
                .update::<Quotation>(id, "add quotation line", |q| {
                    let position = next_position(q.lines.values().map(|l| l.position));
                    q.lines.insert(
                        key.clone(),
                        Line {
                            position,
                            ..new_line
                        },
                    );
                    Ok(())
                })?;
            let quote: Quotation = ctx.store.get(id)?;
            let total = shared::money::format_amount(quote.total(), quote.currency);
            let warnings = warnings::check(ctx, Saved::Quotation(id));
            ctx.out.done(
                &format!(
                    "{} {key}; {} {total} {}",
                    ctx.out.text("line added:", "已添加行："),
                    ctx.out.text("total", "合计"),
                    quote.currency
                ),
                json!({"id": id, "line": key, "total": total, "currency": quote.currency,
                       "warnings": warnings}),
            );
        }
        QuoteCommand::Edit {
            id,
            status,
            fields,
            lines,
        } => {
            let id = ctx.store.find_id(&id, Some(RecordKind::Quotation))?;
            let changed = ctx.store.update::<Quotation>(id, "edit quotation", |q| {
                let mut v = Validation::default();
                set_required(&mut v, &mut q.status, &status, parse::word("status"));
                fields.apply(&mut v, q);
                v.finish()?;
                lines.apply(&mut q.lines)
            })?;
            let warnings = warnings::check(ctx, Saved::Quotation(id));
            ctx.out.done(
                &edited_message(ctx, changed, id),
                json!({"id": id, "changed": changed, "warnings": warnings}),
            );
        }
        QuoteCommand::Show { id } => {
            let id = ctx.store.find_id(&id, Some(RecordKind::Quotation))?;
            show_record(ctx, id)?;
        }
        QuoteCommand::List { customer, all } => {
            super::list_for_customer(ctx, &QUOTATIONS, customer, all, DEAL_COLUMNS)?;
        }
    }
    Ok(())
}

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
    })
}

/// Order commands.
#[derive(Debug, Subcommand)]
pub enum OrderCommand {
    /// Turn a quotation into an order, copying its customer, currency, lines and terms.
    FromQuote {
        /// Quotation id (or unique prefix).
        quote: String,
        #[command(flatten)]
        fields: OrderFields,
    },
    /// Change an order, or one of its lines.
    Edit {
        /// Order id (or unique prefix).
        id: String,
        /// Status: draft, confirmed, delivered, invoiced, paid, cancelled.
        #[arg(long)]
        status: Option<String>,
        #[command(flatten)]
        fields: OrderFields,
        #[command(flatten)]
        lines: LineEdit,
    },
    /// Show an order with its lines and total.
    Show {
        /// Order id (or unique prefix).
        id: String,
    },
    /// Release an order's credit hold (region managers and above; the server verifies on sync).
    Release {
        /// Order id (or unique prefix).
        id: String,
        /// Why it may go ahead (required: the release is on the record).
        #[arg(long)]
        note: String,
    },
    /// List orders.
    List {
        /// Only this customer's.
        #[arg(long)]
        customer: Option<String>,
        /// Include voided ones.
        #[arg(long)]
        all: bool,
    },
}

/// An order's header fields.
#[derive(Debug, Args, Default)]
pub struct OrderFields {
    /// Delivery deadline (YYYY-MM-DD).
    #[arg(long)]
    delivery_deadline: Option<String>,
    /// Delivery place.
    #[arg(long)]
    delivery_place: Option<String>,
    /// Region (territory code) delivered into.
    #[arg(long)]
    delivery_region: Option<String>,
    /// Supplying dealer (id or prefix).
    #[arg(long)]
    dealer: Option<String>,
    /// Shipping method and who pays freight.
    #[arg(long)]
    shipping: Option<String>,
    /// Payment terms.
    #[arg(long)]
    payment_terms: Option<String>,
    /// Payment deadline (YYYY-MM-DD).
    #[arg(long)]
    payment_due: Option<String>,
}

impl OrderFields {
    fn apply(&self, dealer: Option<Option<RecordId>>, o: &mut Order) -> Result<(), ClientError> {
        let mut v = Validation::default();
        set_parsed(
            &mut v,
            &mut o.delivery_deadline,
            &self.delivery_deadline,
            parse::date("delivery_deadline"),
        );
        set_text(&mut o.delivery_place, &self.delivery_place);
        set_text(&mut o.delivery_region, &self.delivery_region);
        if let Some(dealer) = dealer {
            o.dealer_id = dealer;
        }
        set_text(&mut o.shipping, &self.shipping);
        set_text(&mut o.payment_terms, &self.payment_terms);
        set_parsed(
            &mut v,
            &mut o.payment_due,
            &self.payment_due,
            parse::date("payment_due"),
        );
        v.finish()?;
        Ok(())
    }

    /// Looks up the dealer option: `None` when not given, `Some(None)` to clear it.
    fn dealer(&self, ctx: &Context) -> Result<Option<Option<RecordId>>, ClientError> {
        super::optional_id(ctx, self.dealer.as_deref(), RecordKind::Dealer)
    }
}

/// Runs an order command.
pub fn run_order(ctx: &mut Context, command: OrderCommand) -> Result<(), ClientError> {
    match command {
        OrderCommand::FromQuote { quote, fields } => {
            let quote_id = ctx.store.find_id(&quote, Some(RecordKind::Quotation))?;
            let quotation: Quotation = ctx.store.get(quote_id)?;
            if quotation.voided.is_some() {
                return Err(Validation::one(
                    "quote",
                    Problem::Inconsistent("the quotation is voided".into()),
                )
                .into());
            }
            if quotation.lines.is_empty() {
                return Err(Validation::one(
                    "quote",
                    Problem::Inconsistent("the quotation has no lines".into()),
                )
                .into());
            }
            let user = ctx.store.device().user.clone();
            let mut order = Order::from_quotation(
                quote_id,
                &quotation,
                deal_number("O", &RecordId::new()),
                user,
                chrono::Utc::now(),
            );
            fields.apply(fields.dealer(ctx)?, &mut order)?;
            let id = ctx.store.create(&order, "order from quotation")?;
            let warnings = warnings::check(ctx, Saved::Order(id));
            ctx.out.done(
                &format!(
                    "{} {id} ({})",
                    ctx.out.text("order created:", "已生成订单："),
                    order.number
                ),
                json!({"id": id, "number": order.number, "warnings": warnings}),
            );
        }
        OrderCommand::Edit {
            id,
            status,
            fields,
            lines,
        } => {
            let id = ctx.store.find_id(&id, Some(RecordKind::Order))?;
            let dealer = fields.dealer(ctx)?;
            let changed = ctx.store.update::<Order>(id, "edit order", |o| {
                let mut v = Validation::default();
                set_required(&mut v, &mut o.status, &status, parse::word("status"));
                // The server refuses a held order going past `confirmed`; say so now.
                if o.is_held()
                    && status.is_some()
                    && !matches!(o.status.as_str(), "draft" | "confirmed" | "cancelled")
                {
                    v.push(
                        "status",
                        Problem::Inconsistent("the order is on credit hold until released".into()),
                    );
                }
                v.finish()?;
                fields.apply(dealer, o)?;
                lines.apply(&mut o.lines)
            })?;
            let warnings = warnings::check(ctx, Saved::Order(id));
            ctx.out.done(
                &edited_message(ctx, changed, id),
                json!({"id": id, "changed": changed, "warnings": warnings}),
            );
        }
        OrderCommand::Show { id } => {
            let id = ctx.store.find_id(&id, Some(RecordKind::Order))?;
            show_record(ctx, id)?;
        }
        OrderCommand::Release { id, note } => release(ctx, &id, note)?,
        OrderCommand::List { customer, all } => {
            let columns = [DEAL_COLUMNS, &["credit_hold"]].concat();
            super::list_for_customer(ctx, &ORDERS, customer, all, &columns)?;
        }
    }
    Ok(())
}

/// Signs a release of the order's credit hold as this device's user, now. Whether they may is
/// the server's verdict on sync (a region manager or above with the order in scope); a laptop
/// that pushes a release it may not make gets it back refused (`release_not_allowed`).
fn release(ctx: &mut Context, id: &str, note: String) -> Result<(), ClientError> {
    let id = ctx.store.find_id(id, Some(RecordKind::Order))?;
    let user = ctx.store.device().user.clone();
    let note = note.trim().to_string();
    if note.is_empty() {
        return Err(Validation::one("note", Problem::Required).into());
    }
    ctx.store.update::<Order>(id, "release credit hold", |o| {
        let not = |why: &str| Validation::one("credit_hold", Problem::Inconsistent(why.into()));
        match o.credit_hold.as_mut() {
            None => Err(not("the order is not on credit hold").into()),
            Some(hold) if !hold.is_active() => Err(not("the hold is already released").into()),
            Some(hold) => {
                hold.released_by = Some(user.clone());
                hold.released_at = Some(chrono::Utc::now());
                hold.note = Some(note.clone());
                Ok(())
            }
        }
    })?;
    ctx.out.done(
        &format!(
            "{} {id}",
            ctx.out.text("credit hold released:", "已解除信用冻结：")
        ),
        json!({"id": id, "released_by": user, "note": note}),
    );
    Ok(())
}

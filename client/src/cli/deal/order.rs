//! `fieldsync order ...`: orders (contracts), made from quotations.

use clap::{Args, Subcommand};
use serde_json::json;
use shared::domain::{Decision, Order, Quotation};
use shared::projection::ORDERS;
use shared::{Problem, RecordId, RecordKind, Validation};

use super::super::Context;
use super::super::customer::edited_message;
use super::super::parse::{self, set_parsed, set_required, set_text};
use super::super::warnings::{self, Saved};
use crate::error::ClientError;

use super::decision::{self, DecisionArgs};
use super::{DEAL_COLUMNS, LineEdit, deal_number};

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
    /// Approve an order beyond its author's authority (a manager; offline too, the server
    /// verifies on sync).
    Approve(DecisionArgs),
    /// Reject an order, with a note saying why (a manager).
    Reject(DecisionArgs),
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
        super::super::optional_id(ctx, self.dealer.as_deref(), RecordKind::Dealer)
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
            super::super::show_record(ctx, id)?;
        }
        OrderCommand::Release { id, note } => release(ctx, &id, note)?,
        OrderCommand::Approve(args) => {
            decision::run(ctx, RecordKind::Order, Decision::Approved, args)?;
        }
        OrderCommand::Reject(args) => {
            decision::run(ctx, RecordKind::Order, Decision::Rejected, args)?;
        }
        OrderCommand::List { customer, all } => {
            let columns = [DEAL_COLUMNS, &["credit_hold", "approval", "decided_by"]].concat();
            super::super::list_for_customer(ctx, &ORDERS, customer, all, &columns)?;
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

//! `fieldsync quote ...`: quotations.

use std::collections::BTreeMap;

use clap::{Args, Subcommand};
use serde_json::json;
use shared::domain::{Decision, Line, Quotation, QuoteStatus, new_item_key, next_position};
use shared::money::Currency;
use shared::projection::QUOTATIONS;
use shared::{RecordId, RecordKind, Validation};

use super::super::Context;
use super::super::customer::edited_message;
use super::super::parse::{self, set_parsed, set_required, set_text};
use super::super::warnings::{self, Saved};
use crate::error::ClientError;

use super::decision::{self, DecisionArgs};
use super::{DEAL_COLUMNS, LineArgs, LineEdit, build_line, deal_number};

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
        /// Status: draft, submitted, sent, accepted, lost (approved and rejected come with a
        /// manager's decision: `quote approve`, `quote reject`).
        #[arg(long)]
        status: Option<String>,
        #[command(flatten)]
        fields: QuoteFields,
        #[command(flatten)]
        lines: LineEdit,
    },
    /// Approve a quotation beyond its author's authority (a manager; offline too, the server
    /// verifies on sync). Sets it to approved.
    Approve(DecisionArgs),
    /// Reject a quotation, with a note saying why (a manager). Sets it to rejected.
    Reject(DecisionArgs),
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
        QuoteCommand::Approve(args) => {
            decision::run(ctx, RecordKind::Quotation, Decision::Approved, args)?;
        }
        QuoteCommand::Reject(args) => {
            decision::run(ctx, RecordKind::Quotation, Decision::Rejected, args)?;
        }
        QuoteCommand::Show { id } => {
            let id = ctx.store.find_id(&id, Some(RecordKind::Quotation))?;
            super::super::show_record(ctx, id)?;
        }
        QuoteCommand::List { customer, all } => {
            let columns = [DEAL_COLUMNS, &["approval", "decided_by"]].concat();
            super::super::list_for_customer(ctx, &QUOTATIONS, customer, all, &columns)?;
        }
    }
    Ok(())
}

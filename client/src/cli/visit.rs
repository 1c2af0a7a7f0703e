//! `fieldsync visit ...`: visit reports.

use clap::{Args, Subcommand};
use serde_json::json;
use shared::domain::{StockSeen, Visit, new_item_key, next_position};
use shared::projection::VISITS;
use shared::{Problem, RecordId, RecordKind, Validation};

use super::customer::edited_message;
use super::parse::{self, set_parsed, set_text};
use super::{Context, show_record};
use crate::error::ClientError;

/// Visit commands.
#[derive(Debug, Subcommand)]
pub enum VisitCommand {
    /// Record a visit.
    Add {
        /// The customer visited (id or unique prefix).
        #[arg(long)]
        customer: String,
        #[command(flatten)]
        fields: VisitFields,
    },
    /// Change a visit report (an empty value clears a field).
    Edit {
        /// Visit id (or unique prefix).
        id: String,
        #[command(flatten)]
        fields: VisitFields,
    },
    /// List visits.
    List {
        /// Only visits to this customer.
        #[arg(long)]
        customer: Option<String>,
        /// Include voided visits.
        #[arg(long)]
        all: bool,
    },
    /// Show one visit in full.
    Show {
        /// Visit id (or unique prefix).
        id: String,
    },
}

/// A visit report's fields as options.
#[derive(Debug, Args, Default)]
pub struct VisitFields {
    /// Dealer visited or present (id or prefix).
    #[arg(long)]
    dealer: Option<String>,
    /// Planned time: "YYYY-MM-DD HH:MM" in --tz, or RFC 3339.
    #[arg(long)]
    planned: Option<String>,
    /// Actual time: "YYYY-MM-DD HH:MM" in --tz, or RFC 3339.
    #[arg(long)]
    at: Option<String>,
    /// Time zone of the visit (IANA name; default: the device's).
    #[arg(long)]
    tz: Option<String>,
    /// Place.
    #[arg(long)]
    place: Option<String>,
    /// Purpose.
    #[arg(long)]
    purpose: Option<String>,
    /// People met.
    #[arg(long)]
    people: Option<String>,
    /// Outcome.
    #[arg(long)]
    outcome: Option<String>,
    /// Customer feedback on quality.
    #[arg(long)]
    feedback_quality: Option<String>,
    /// Customer feedback on price.
    #[arg(long)]
    feedback_price: Option<String>,
    /// Competitor news.
    #[arg(long)]
    competitor: Option<String>,
    /// Next step.
    #[arg(long)]
    next_step: Option<String>,
    /// Follow-up date (YYYY-MM-DD).
    #[arg(long)]
    follow_up: Option<String>,
    /// Stock seen: "PRODUCT:QUANTITY" or "PRODUCT:BATCH_OR_SERIAL:QUANTITY"; repeatable.
    #[arg(long = "stock")]
    stock: Vec<String>,
}

impl VisitFields {
    /// Looks up the dealer option: `None` when not given, `Some(None)` to clear it.
    fn dealer(&self, ctx: &Context) -> Result<Option<Option<RecordId>>, ClientError> {
        super::optional_id(ctx, self.dealer.as_deref(), RecordKind::Dealer)
    }

    fn apply(
        &self,
        dealer: Option<Option<RecordId>>,
        visit: &mut Visit,
    ) -> Result<(), ClientError> {
        let mut v = Validation::default();
        if let Some(dealer) = dealer {
            visit.dealer_id = dealer;
        }
        if let Some(tz) = &self.tz
            && let Some(tz) = v.take(parse::time_zone("tz")(tz))
        {
            visit.time_zone = tz;
        }
        let tz = visit.time_zone;
        set_parsed(
            &mut v,
            &mut visit.planned_at,
            &self.planned,
            parse::instant("planned", tz),
        );
        set_parsed(
            &mut v,
            &mut visit.actual_at,
            &self.at,
            parse::instant("at", tz),
        );
        set_text(&mut visit.place, &self.place);
        set_text(&mut visit.purpose, &self.purpose);
        set_text(&mut visit.people_met, &self.people);
        set_text(&mut visit.outcome, &self.outcome);
        set_text(&mut visit.feedback_quality, &self.feedback_quality);
        set_text(&mut visit.feedback_price, &self.feedback_price);
        set_text(&mut visit.competitor_news, &self.competitor);
        set_text(&mut visit.next_step, &self.next_step);
        set_parsed(
            &mut v,
            &mut visit.follow_up,
            &self.follow_up,
            parse::date("follow_up"),
        );
        for text in &self.stock {
            if let Some(stock) = v.take(parse_stock(text)) {
                let position = next_position(visit.stock_seen.values().map(|s| s.position));
                visit
                    .stock_seen
                    .insert(new_item_key(), StockSeen { position, ..stock });
            }
        }
        v.finish()?;
        Ok(())
    }
}

fn parse_stock(text: &str) -> Result<StockSeen, Validation> {
    let parts: Vec<&str> = text.split(':').map(str::trim).collect();
    let (product, code, quantity) = match parts.as_slice() {
        [product, quantity] => (*product, None, *quantity),
        [product, code, quantity] => (*product, Some(code.to_string()), *quantity),
        _ => {
            return Err(Validation::one(
                "stock",
                Problem::Inconsistent(format!(
                    "`{text}` is not PRODUCT:QUANTITY or PRODUCT:CODE:QUANTITY"
                )),
            ));
        }
    };
    Ok(StockSeen {
        product: product.to_string(),
        code: code.filter(|c| !c.is_empty()),
        quantity: parse::non_negative("stock.quantity")(quantity)?,
        position: 0,
    })
}

/// Runs a visit command.
pub fn run(ctx: &mut Context, command: VisitCommand) -> Result<(), ClientError> {
    match command {
        VisitCommand::Add { customer, fields } => {
            let customer_id = ctx.store.find_id(&customer, Some(RecordKind::Customer))?;
            let device = ctx.store.device();
            let mut visit = Visit::new(
                customer_id,
                device.user.clone(),
                device.time_zone,
                chrono::Utc::now(),
            );
            fields.apply(fields.dealer(ctx)?, &mut visit)?;
            let id = ctx.store.create(&visit, "add visit")?;
            ctx.out.done(
                &format!("{} {id}", ctx.out.text("visit recorded:", "已记录拜访：")),
                json!({"id": id}),
            );
        }
        VisitCommand::Edit { id, fields } => {
            let id = ctx.store.find_id(&id, Some(RecordKind::Visit))?;
            let dealer = fields.dealer(ctx)?;
            let changed = ctx
                .store
                .update::<Visit>(id, "edit visit", |visit| fields.apply(dealer, visit))?;
            ctx.out.done(
                &edited_message(ctx, changed, id),
                json!({"id": id, "changed": changed}),
            );
        }
        VisitCommand::List { customer, all } => {
            let columns = [
                "id",
                "customer_id",
                "local_date",
                "salesperson",
                "purpose",
                "outcome",
                "stock_lines",
            ];
            super::list_for_customer(ctx, &VISITS, customer, all, &columns)?;
        }
        VisitCommand::Show { id } => {
            let id = ctx.store.find_id(&id, Some(RecordKind::Visit))?;
            show_record(ctx, id)?;
        }
    }
    Ok(())
}

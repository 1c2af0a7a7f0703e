//! `fieldsync customer ...`: the customer file.

use clap::{Args, Subcommand};
use serde_json::json;
use shared::RecordKind;
use shared::domain::{Contact, Customer, new_item_key};
use shared::money::Currency;
use shared::projection::CUSTOMERS;

use super::parse::{self, set_parsed, set_required, set_text};
use super::warnings::{self, Saved};
use super::{Context, show_record};
use crate::error::ClientError;
use crate::store::ListFilter;

/// Customer commands.
#[derive(Debug, Subcommand)]
pub enum CustomerCommand {
    /// Record a new customer.
    Add {
        /// Full registered name.
        name: String,
        #[command(flatten)]
        fields: CustomerFields,
    },
    /// Change fields of a customer (an empty value clears a field).
    Edit {
        /// Customer id (or a unique prefix of it).
        id: String,
        /// New name.
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        fields: CustomerFields,
    },
    /// List customers.
    List {
        /// Include voided customers.
        #[arg(long)]
        all: bool,
    },
    /// Show one customer in full.
    Show {
        /// Customer id (or a unique prefix of it).
        id: String,
    },
    /// Find customers by name, phone, tax id or address.
    Search {
        /// Text to look for.
        text: String,
    },
}

/// The customer file's fields as options.
#[derive(Debug, Args, Default)]
pub struct CustomerFields {
    /// Region (territory code).
    #[arg(long)]
    region: Option<String>,
    /// Responsible salesperson (default: you).
    #[arg(long)]
    salesperson: Option<String>,
    /// Address.
    #[arg(long)]
    address: Option<String>,
    /// Phone.
    #[arg(long)]
    phone: Option<String>,
    /// Owner (老板).
    #[arg(long)]
    owner: Option<String>,
    /// Manager.
    #[arg(long)]
    manager: Option<String>,
    /// Legal representative.
    #[arg(long)]
    legal_rep: Option<String>,
    /// Date founded (YYYY-MM-DD).
    #[arg(long)]
    founded: Option<String>,
    /// Date of first trade (YYYY-MM-DD).
    #[arg(long)]
    first_trade: Option<String>,
    /// Organisation form.
    #[arg(long)]
    org_form: Option<String>,
    /// Industry.
    #[arg(long)]
    industry: Option<String>,
    /// Unified social credit code (18 characters).
    #[arg(long)]
    tax_id: Option<String>,
    /// Area served.
    #[arg(long)]
    service_area: Option<String>,
    /// Sales capacity.
    #[arg(long)]
    sales_capacity: Option<String>,
    /// Potential.
    #[arg(long)]
    potential: Option<String>,
    /// Number of staff.
    #[arg(long)]
    staff: Option<String>,
    /// Yearly turnover.
    #[arg(long, allow_hyphen_values = true)]
    turnover: Option<String>,
    /// Kind: wholesaler, retailer, agent, franchise, chain, speciality, government, individual.
    #[arg(long)]
    kind: Option<String>,
    /// Grade: key, general, occasional.
    #[arg(long)]
    grade: Option<String>,
    /// Route order (路序).
    #[arg(long)]
    route: Option<String>,
    /// Credit rating.
    #[arg(long)]
    credit_rating: Option<String>,
    /// Credit limit.
    #[arg(long, allow_hyphen_values = true)]
    credit_limit: Option<String>,
    /// Currency of the credit limit (ISO code, default CNY).
    #[arg(long)]
    currency: Option<String>,
    /// Payment terms.
    #[arg(long)]
    payment_terms: Option<String>,
    /// Past credit problems.
    #[arg(long)]
    credit_problems: Option<String>,
    /// Lifecycle: prospect, active, dormant.
    #[arg(long)]
    lifecycle: Option<String>,
    /// Add a contact: "name" or "name,title,phone,email".
    #[arg(long = "contact")]
    contacts: Vec<String>,
}

impl CustomerFields {
    fn apply(&self, c: &mut Customer) -> Result<(), ClientError> {
        let mut v = shared::Validation::default();
        set_text(&mut c.region, &self.region);
        set_text(&mut c.salesperson, &self.salesperson);
        let b = &mut c.basics;
        set_text(&mut b.address, &self.address);
        set_text(&mut b.phone, &self.phone);
        set_text(&mut b.owner, &self.owner);
        set_text(&mut b.manager, &self.manager);
        set_text(&mut b.legal_rep, &self.legal_rep);
        set_parsed(
            &mut v,
            &mut b.founded,
            &self.founded,
            parse::date("founded"),
        );
        set_parsed(
            &mut v,
            &mut b.first_trade,
            &self.first_trade,
            parse::date("first_trade"),
        );
        set_text(&mut b.org_form, &self.org_form);
        set_text(&mut b.industry, &self.industry);
        set_text(&mut b.tax_id, &self.tax_id);
        let p = &mut c.profile;
        set_text(&mut p.service_area, &self.service_area);
        set_text(&mut p.sales_capacity, &self.sales_capacity);
        set_text(&mut p.potential, &self.potential);
        set_parsed(&mut v, &mut p.staff, &self.staff, parse::whole("staff"));
        set_parsed(
            &mut v,
            &mut p.turnover,
            &self.turnover,
            parse::non_negative("turnover"),
        );
        set_required(&mut v, &mut c.kind, &self.kind, parse::word("kind"));
        set_required(&mut v, &mut c.grade, &self.grade, parse::word("grade"));
        set_parsed(&mut v, &mut c.route, &self.route, parse::whole("route"));
        set_text(&mut c.credit.rating, &self.credit_rating);
        set_parsed(
            &mut v,
            &mut c.credit.limit,
            &self.credit_limit,
            parse::non_negative("credit_limit"),
        );
        set_required(&mut v, &mut c.credit.currency, &self.currency, |t| {
            Currency::parse_field("currency", t)
        });
        set_text(&mut c.credit.payment_terms, &self.payment_terms);
        set_text(&mut c.credit.problems, &self.credit_problems);
        set_required(
            &mut v,
            &mut c.lifecycle,
            &self.lifecycle,
            parse::word("lifecycle"),
        );
        for text in &self.contacts {
            let mut parts = text.split(',').map(str::trim);
            let opt = |s: Option<&str>| s.filter(|s| !s.is_empty()).map(str::to_string);
            let contact = Contact {
                name: parts.next().unwrap_or_default().to_string(),
                title: opt(parts.next()),
                phone: opt(parts.next()),
                email: opt(parts.next()),
            };
            c.contacts.insert(new_item_key(), contact);
        }
        v.finish()?;
        Ok(())
    }
}

/// Runs a customer command.
pub fn run(ctx: &mut Context, command: CustomerCommand) -> Result<(), ClientError> {
    match command {
        CustomerCommand::Add { name, fields } => {
            let mut customer = Customer::new(name.trim(), chrono::Utc::now());
            customer.salesperson = Some(ctx.store.device().user.clone());
            fields.apply(&mut customer)?;
            let id = ctx.store.create(&customer, "add customer")?;
            let warnings = warnings::check(ctx, Saved::Customer(id));
            ctx.out.done(
                &format!("{} {id}", ctx.out.text("customer added:", "已添加客户：")),
                json!({"id": id, "warnings": warnings}),
            );
        }
        CustomerCommand::Edit { id, name, fields } => {
            let id = ctx.store.find_id(&id, Some(RecordKind::Customer))?;
            let changed = ctx.store.update::<Customer>(id, "edit customer", |c| {
                if let Some(name) = &name {
                    c.name = name.trim().to_string();
                }
                fields.apply(c)
            })?;
            let warnings = warnings::check(ctx, Saved::Customer(id));
            ctx.out.done(
                &edited_message(ctx, changed, id),
                json!({"id": id, "changed": changed, "warnings": warnings}),
            );
        }
        CustomerCommand::List { all } => {
            let rows = ctx.store.list(
                &CUSTOMERS,
                &ListFilter {
                    include_voided: all,
                    ..Default::default()
                },
            )?;
            ctx.out.rows(
                &rows,
                &[
                    "id",
                    "name",
                    "region",
                    "kind",
                    "grade",
                    "lifecycle",
                    "phone",
                    "salesperson",
                ],
            );
        }
        CustomerCommand::Show { id } => {
            let _ = ctx.store.merge_note(&id).map(|note| eprintln!("{note}"));
            let id = ctx.store.find_id(&id, Some(RecordKind::Customer))?;
            show_record(ctx, id)?;
        }
        CustomerCommand::Search { text } => {
            let filter = ListFilter {
                search: Some(text),
                include_voided: false,
                ..Default::default()
            };
            let rows = ctx.store.list(&CUSTOMERS, &filter)?;
            ctx.out
                .rows(&rows, &["id", "name", "region", "phone", "tax_id"]);
        }
    }
    Ok(())
}

/// "updated" or "no change" for an edit.
pub fn edited_message(ctx: &Context, changed: bool, id: shared::RecordId) -> String {
    if changed {
        format!("{} {id}", ctx.out.text("updated:", "已更新："))
    } else {
        format!("{} {id}", ctx.out.text("no change:", "无变化："))
    }
}

//! `fieldsync dealer ...` and `fieldsync product ...`: dealers and the price list.

use clap::Subcommand;
use serde_json::json;
use shared::domain::{Authorisation, Dealer, Product};
use shared::money::Currency;
use shared::projection::{DEALERS, PRODUCTS};
use shared::{RecordKind, Validation};

use super::parse::{self, set_text};
use super::{Context, show_record};
use crate::error::ClientError;
use crate::store::ListFilter;

/// Dealer commands.
#[derive(Debug, Subcommand)]
pub enum DealerCommand {
    /// Record a dealer.
    Add {
        /// Full registered name.
        name: String,
        /// Home region (territory code).
        #[arg(long)]
        region: Option<String>,
        /// Regions it may sell into, comma separated.
        #[arg(long, value_delimiter = ',')]
        authorised: Vec<String>,
        /// Phone.
        #[arg(long)]
        phone: Option<String>,
        /// Address.
        #[arg(long)]
        address: Option<String>,
        /// Unified social credit code.
        #[arg(long)]
        tax_id: Option<String>,
    },
    /// List dealers.
    List {
        /// Include voided dealers.
        #[arg(long)]
        all: bool,
    },
    /// Show one dealer.
    Show {
        /// Dealer id (or unique prefix).
        id: String,
    },
}

/// Product (price list) commands.
#[derive(Debug, Subcommand)]
pub enum ProductCommand {
    /// Add a product to the price list.
    Add {
        /// Product code, e.g. BEER-500ML.
        code: String,
        /// Name.
        name: String,
        /// Unit of sale.
        #[arg(long, default_value = "piece")]
        unit: String,
        /// List price per unit.
        #[arg(long, allow_hyphen_values = true)]
        price: String,
        /// Currency (ISO code).
        #[arg(long, default_value = "CNY")]
        currency: String,
        /// Specification.
        #[arg(long)]
        spec: Option<String>,
    },
    /// Show the price list.
    List,
}

/// Runs a dealer command.
pub fn run_dealer(ctx: &mut Context, command: DealerCommand) -> Result<(), ClientError> {
    match command {
        DealerCommand::Add {
            name,
            region,
            authorised,
            phone,
            address,
            tax_id,
        } => {
            let mut dealer = Dealer::new(name.trim(), chrono::Utc::now());
            set_text(&mut dealer.region, &region);
            set_text(&mut dealer.phone, &phone);
            set_text(&mut dealer.address, &address);
            set_text(&mut dealer.tax_id, &tax_id);
            for code in authorised
                .iter()
                .map(|c| c.trim())
                .filter(|c| !c.is_empty())
            {
                dealer
                    .authorised_regions
                    .insert(code.to_string(), Authorisation { since: None });
            }
            let id = ctx.store.create(&dealer, "add dealer")?;
            ctx.out.done(
                &format!("{} {id}", ctx.out.text("dealer added:", "已添加经销商：")),
                json!({"id": id}),
            );
        }
        DealerCommand::List { all } => {
            let rows = ctx.store.list(
                &DEALERS,
                &ListFilter {
                    include_voided: all,
                    ..Default::default()
                },
            )?;
            ctx.out.rows(
                &rows,
                &["id", "name", "region", "authorised_regions", "phone"],
            );
        }
        DealerCommand::Show { id } => {
            let id = ctx.store.find_id(&id, Some(RecordKind::Dealer))?;
            show_record(ctx, id)?;
        }
    }
    Ok(())
}

/// Runs a product command.
pub fn run_product(ctx: &mut Context, command: ProductCommand) -> Result<(), ClientError> {
    match command {
        ProductCommand::Add {
            code,
            name,
            unit,
            price,
            currency,
            spec,
        } => {
            let mut v = Validation::default();
            let list_price = v.take(parse::non_negative("price")(&price));
            let currency = v.take(Currency::parse_field("currency", &currency));
            v.finish()?;
            let product = Product {
                code: code.trim().to_string(),
                name: name.trim().to_string(),
                spec: spec.filter(|s| !s.trim().is_empty()),
                unit: unit.trim().to_string(),
                list_price: list_price.unwrap_or_default(),
                currency: currency.unwrap_or_default(),
                created_at: chrono::Utc::now(),
                voided: None,
            };
            let id = ctx.store.create(&product, "add product")?;
            ctx.out.done(
                &format!("{} {id}", ctx.out.text("product added:", "已添加产品：")),
                json!({"id": id}),
            );
        }
        ProductCommand::List => {
            let rows = ctx.store.list(&PRODUCTS, &ListFilter::default())?;
            ctx.out
                .rows(&rows, &["code", "name", "unit", "list_price", "currency"]);
        }
    }
    Ok(())
}

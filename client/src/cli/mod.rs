//! The `fieldsync` command line: every action as a subcommand, tables for people and `--json`
//! for scripts. Errors go to stderr with a non-zero exit status and name the field at fault.

mod catalog;
mod customer;
mod deal;
mod flags;
mod inbox;
mod output;
mod parse;
mod records;
mod report;
mod sync;
mod visit;
mod warnings;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use serde_json::{Value, json};
use shared::i18n::Lang;
use shared::{RecordId, RecordKind};

pub use output::Output;

use crate::error::ClientError;
use crate::home;
use crate::store::Store;

/// Fieldsync: customers, visits, quotations and orders on a laptop that is often offline.
#[derive(Debug, Parser)]
#[command(name = "fieldsync", version, about)]
pub struct Cli {
    /// Data directory (default: $FIELDSYNC_HOME, else the platform's data directory).
    #[arg(long, global = true)]
    home: Option<PathBuf>,
    /// Print machine-readable JSON.
    #[arg(long, global = true)]
    json: bool,
    /// Language for people: en or zh-CN (default: from $LANG).
    #[arg(long, global = true)]
    lang: Option<String>,
    #[command(subcommand)]
    command: Command,
}

// Parsed once per run, so the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Set who uses this laptop.
    Init {
        /// User name.
        #[arg(long)]
        user: Option<String>,
        /// Device name.
        #[arg(long)]
        device: Option<String>,
        /// Default time zone for visits (IANA name, e.g. Asia/Shanghai).
        #[arg(long)]
        tz: Option<String>,
    },
    /// Show who uses this laptop.
    Whoami,
    /// Customer files.
    #[command(subcommand)]
    Customer(customer::CustomerCommand),
    /// Dealers.
    #[command(subcommand)]
    Dealer(catalog::DealerCommand),
    /// The price list.
    #[command(subcommand)]
    Product(catalog::ProductCommand),
    /// Visit reports.
    #[command(subcommand)]
    Visit(visit::VisitCommand),
    /// Quotations.
    #[command(subcommand)]
    Quote(deal::QuoteCommand),
    /// Orders.
    #[command(subcommand)]
    Order(deal::OrderCommand),
    /// Void any record, with a reason. It is kept, never destroyed.
    Void {
        /// Record id (or unique prefix).
        id: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Who changed what, when, from which device, for one record.
    History {
        /// Record id (or unique prefix).
        id: String,
    },
    /// Fields edited concurrently on two devices.
    #[command(subcommand)]
    Conflicts(records::ConflictCommand),
    /// Merge another laptop's data (its home directory) into this one.
    Merge {
        /// The other home directory.
        #[arg(long)]
        from: PathBuf,
    },
    /// The store's state: server, last sync, pending changes, refusals, conflicts.
    Status,
    /// Sign in to a sync server (the password is asked for, never given on the command line).
    Login {
        /// Server URL, e.g. http://127.0.0.1:8440.
        #[arg(long)]
        server: String,
        /// User name.
        #[arg(long)]
        user: String,
        /// Read the password from the first line of standard input instead of a prompt.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Push local edits and pull everyone else's; safe to interrupt and run again.
    Sync {
        /// Ask for at most this many bytes of changes per round trip (smaller pages suit a poor
        /// connection: each page that arrives is kept even if a later one fails).
        #[arg(long)]
        page_bytes: Option<u64>,
    },
    /// Edits the server refused.
    #[command(subcommand)]
    Rejected(sync::RejectedCommand),
    /// A territory's figures over a period (日报/周报/月报), from the records on this laptop.
    Report(report::ReportArgs),
    /// Business-conflict flags (预警): list, acknowledge, resolve.
    #[command(subcommand)]
    Flags(flags::FlagCommand),
    /// Everything waiting for you: open flags and field conflicts, in one list.
    Inbox,
}

/// What every command works with.
pub struct Context {
    /// The open store.
    pub store: Store,
    /// How to print.
    pub out: Output,
}

/// The `fieldsync` program: parses arguments, runs the command, reports errors.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let lang = cli
        .lang
        .as_deref()
        .and_then(|l| l.parse().ok())
        .or_else(|| std::env::var("LANG").ok().map(|l| Lang::from_locale(&l)))
        .unwrap_or_default();
    let out = Output {
        json: cli.json,
        lang,
    };
    match run(cli, out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            report(&out, &error);
            ExitCode::FAILURE
        }
    }
}

fn report(out: &Output, error: &ClientError) {
    if out.json {
        let fields: Vec<Value> = match error {
            ClientError::Invalid(v) => v
                .errors
                .iter()
                .map(|e| json!({"field": e.field, "problem": e.problem.to_string()}))
                .collect(),
            _ => Vec::new(),
        };
        eprintln!(
            "{}",
            json!({"error": {"code": error.code(), "message": error.to_string(), "fields": fields}})
        );
    } else {
        eprintln!("{}: {error}", out.text("error", "错误"));
    }
}

fn run(cli: Cli, out: Output) -> Result<(), ClientError> {
    let home = home::resolve_home(cli.home.as_deref());
    let store = Store::open_home(&home)?;
    let mut ctx = Context { store, out };
    match cli.command {
        Command::Init { user, device, tz } => records::init(&mut ctx, user, device, tz),
        Command::Whoami => records::whoami(&ctx),
        Command::Customer(command) => customer::run(&mut ctx, command),
        Command::Dealer(command) => catalog::run_dealer(&mut ctx, command),
        Command::Product(command) => catalog::run_product(&mut ctx, command),
        Command::Visit(command) => visit::run(&mut ctx, command),
        Command::Quote(command) => deal::run_quote(&mut ctx, command),
        Command::Order(command) => deal::run_order(&mut ctx, command),
        Command::Void { id, reason } => records::void(&mut ctx, &id, &reason),
        Command::History { id } => records::history(&ctx, &id),
        Command::Conflicts(command) => records::conflicts(&mut ctx, command),
        Command::Merge { from } => records::merge(&mut ctx, from),
        Command::Status => records::status(&ctx),
        Command::Login {
            server,
            user,
            password_stdin,
        } => sync::login(&mut ctx, &server, &user, password_stdin),
        Command::Sync { page_bytes } => sync::sync(&mut ctx, page_bytes),
        Command::Rejected(command) => sync::rejected(&ctx, command),
        Command::Report(args) => report::run(&ctx, args),
        Command::Flags(command) => flags::run(&mut ctx, command),
        Command::Inbox => inbox::run(&ctx),
    }
}

/// Looks up an optional id option: `None` when not given, `Some(None)` when given empty (to
/// clear the field).
fn optional_id(
    ctx: &Context,
    text: Option<&str>,
    kind: RecordKind,
) -> Result<Option<Option<RecordId>>, ClientError> {
    text.map(|text| match text.trim() {
        "" => Ok(None),
        id => ctx.store.find_id(id, Some(kind)).map(Some),
    })
    .transpose()
}

/// Lists a table's rows, optionally only one customer's (given by id or prefix) and with
/// voided ones, showing the given columns.
fn list_for_customer(
    ctx: &Context,
    table: &shared::projection::Table,
    customer: Option<String>,
    include_voided: bool,
    columns: &[&str],
) -> Result<(), ClientError> {
    let customer = customer
        .map(|c| ctx.store.find_id(&c, Some(RecordKind::Customer)))
        .transpose()?;
    let filter = crate::store::ListFilter {
        include_voided,
        customer,
        ..Default::default()
    };
    let rows = ctx.store.list(table, &filter)?;
    ctx.out.rows(&rows, columns);
    Ok(())
}

/// Shows any record: its fields; for quotations and orders also the lines with their batch
/// codes and amounts, and the total.
fn show_record(ctx: &Context, id: RecordId) -> Result<(), ClientError> {
    let record = ctx.store.record(id)?;
    let lines = deal::priced_lines(&record);
    let mut value = serde_json::to_value(&record).unwrap_or_default();
    if let Value::Object(map) = &mut value {
        map.insert("id".into(), json!(id));
        if let Some((rows, total)) = &lines {
            map.remove("lines");
            map.insert("total".into(), json!(total));
            if ctx.out.json {
                let rows = rows.iter().cloned().map(Value::Object).collect();
                map.insert("lines".into(), Value::Array(rows));
            }
        }
        if !ctx.out.json && !ctx.store.conflicts(Some(id))?.is_empty() {
            map.insert(
                "conflicts".into(),
                json!(ctx.out.text(
                    "yes: see `fieldsync conflicts list`",
                    "有：见 `fieldsync conflicts list`"
                )),
            );
        }
    }
    ctx.out.fields(&value);
    if let (false, Some((rows, _))) = (ctx.out.json, lines) {
        println!();
        ctx.out.rows(&rows, deal::LINE_COLUMNS);
    }
    Ok(())
}

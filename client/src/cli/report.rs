//! `fieldsync report`: a territory node's rollup from the records on this laptop, offline.
//!
//! The counting is `shared::report::rollup`, the server's own, over the facts in
//! `crate::store::reports`; for a region node the figures equal the server's for the same data.

use clap::Args;
use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use shared::money::format_amount;
use shared::report::{Period, Rollup, Tally, rollup, to_csv};
use shared::{Problem, Validation};

use super::{Context, parse};
use crate::error::ClientError;
use crate::store::reports::{LAPTOP_ROOT, REPORT_TIME_ZONE};

/// What to report on.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Territory node: a region code, or ALL for every region on this laptop (default: your
    /// territory when it is a region here, else ALL).
    #[arg(long)]
    node: Option<String>,
    /// Period: day, week, month, quarter or year.
    #[arg(long, default_value = "month")]
    period: String,
    /// A date in the period, YYYY-MM-DD (default: today).
    #[arg(long)]
    date: Option<String>,
    /// Print CSV (for a spreadsheet) instead of a table.
    #[arg(long)]
    csv: bool,
}

/// Runs `fieldsync report`.
pub fn run(ctx: &Context, args: ReportArgs) -> Result<(), ClientError> {
    let period: Period = args
        .period
        .parse()
        .map_err(|problem: Problem| Validation::one("period", problem))?;
    let date = match args.date.as_deref() {
        Some(text) => parse::date("date")(text)?,
        None => chrono::Utc::now()
            .with_timezone(&REPORT_TIME_ZONE)
            .date_naive(),
    };
    let tree = ctx.store.report_tree()?;
    let node = match args.node.map(|n| n.trim().to_string()) {
        Some(node) if !node.is_empty() => node,
        _ => ctx
            .store
            .meta("territory")?
            .filter(|t| tree.contains(t))
            .unwrap_or_else(|| LAPTOP_ROOT.to_string()),
    };
    let facts = ctx.store.report_facts()?;
    let result = rollup(&tree, &node, period, date, &facts).map_err(|_| ClientError::NotFound {
        kind: "territory".into(),
        id: node.clone(),
    })?;
    if args.csv {
        print!("{}", to_csv(&result));
    } else if ctx.out.json {
        ctx.out.json(&result);
    } else {
        print_tables(ctx, &result);
    }
    Ok(())
}

/// The compact human view: summary, people, ranking.
fn print_tables(ctx: &Context, r: &Rollup) {
    let t = |en, zh| ctx.out.text(en, zh).to_string();
    println!(
        "{} {} ({}) · {} {} – {}",
        t("Report", "报表"),
        r.node,
        r.node_name,
        r.period.label(ctx.out.lang),
        r.range.first,
        r.range.last
    );
    let mut summary = table(vec![
        t("visits", "拜访"),
        t("new customers", "新客户"),
        t("quotations", "报价"),
        t("quoted", "报价金额"),
        t("orders", "订单"),
        t("ordered", "订单金额"),
    ]);
    summary.add_row(vec![
        r.visits.to_string(),
        r.new_customers.to_string(),
        r.quotations.count.to_string(),
        amounts(&r.quotations),
        r.orders.count.to_string(),
        amounts(&r.orders),
    ]);
    println!("{summary}");
    let mut people = table(vec![
        t("salesperson", "业务员"),
        t("visits", "拜访"),
        t("new customers", "新客户"),
        t("quotations", "报价"),
        t("quoted", "报价金额"),
        t("orders", "订单"),
        t("ordered", "订单金额"),
    ]);
    for p in &r.people {
        people.add_row(vec![
            p.salesperson.clone(),
            p.visits.to_string(),
            p.new_customers.to_string(),
            p.quotations.count.to_string(),
            amounts(&p.quotations),
            p.orders.count.to_string(),
            amounts(&p.orders),
        ]);
    }
    if !r.people.is_empty() {
        println!("{people}");
    }
    for (currency, places) in &r.ranking {
        println!("{} ({currency})", t("Ranking by orders", "业绩排行榜"));
        let mut ranking = table(vec![
            t("rank", "名次"),
            t("salesperson", "业务员"),
            t("orders", "订单"),
            t("amount", "金额"),
        ]);
        for place in places {
            ranking.add_row(vec![
                place.rank.to_string(),
                place.salesperson.clone(),
                place.orders.to_string(),
                format_amount(place.amount, *currency),
            ]);
        }
        println!("{ranking}");
    }
    if r.unplaced > 0 {
        println!(
            "{}: {}",
            t("records with no known region", "无所属区域的记录"),
            r.unplaced
        );
    }
}

fn table(header: Vec<String>) -> Table {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header);
    table
}

/// Amounts per currency, e.g. `CNY 1200.00; USD 30.00`.
fn amounts(tally: &Tally) -> String {
    tally
        .amounts
        .iter()
        .map(|(currency, amount)| format!("{currency} {}", format_amount(*amount, *currency)))
        .collect::<Vec<_>>()
        .join("; ")
}

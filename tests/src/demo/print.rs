//! What head office sees after the week: the consolidated rollups from the server's reports API,
//! and the flags, from head office's own synced laptop.

use std::collections::BTreeSet;

use anyhow::Context;
use client::store::ListFilter;
use shared::money::{self, Currency};
use shared::projection::FLAGS;
use shared::report::Rollup;

use super::week::{Laptop, Outcome};

/// The nodes printed: the company, then each large region and region.
fn nodes() -> Vec<&'static str> {
    let mut nodes = vec!["CN"];
    for (large, _) in super::org::LARGE_REGIONS {
        nodes.push(large);
        nodes.extend(
            super::org::REGIONS
                .iter()
                .filter(|r| r.large == large)
                .map(|r| r.code),
        );
    }
    nodes
}

/// A day of the demo week (its Wednesday): the table shows the week holding it, the week the
/// records (and so the flags they raised) were made in.
pub fn week_of() -> chrono::NaiveDate {
    super::week::week_day(2)
}

/// The server's rollup of `node` for the demo week, as head office (`token`) fetches it.
pub fn week_rollup(url: &str, token: &str, node: &str) -> anyhow::Result<Rollup> {
    let response = reqwest::blocking::Client::new()
        .get(format!("{url}/v1/reports/rollup"))
        .query(&[
            ("node", node),
            ("period", "week"),
            ("date", week_of().to_string().as_str()),
            ("format", "json"),
        ])
        .bearer_auth(token)
        .send()?
        .error_for_status()?;
    Ok(response.json()?)
}

/// Prints head office's consolidated view of the demo week.
pub fn head_office(url: &str, laptops: &[Laptop], outcome: &Outcome) -> anyhow::Result<()> {
    let hq = laptops
        .iter()
        .find(|l| l.person.role == "head_office")
        .context("no head office laptop")?;
    let token = hq
        .store
        .meta("token")?
        .context("head office is not signed in")?;
    let fetch = |node: &str| week_rollup(url, &token, node);
    let week = super::week::monday().with_timezone(&chrono_tz::Asia::Shanghai);
    println!(
        "\nHead office (总部), week of {} — GET {url}/v1/reports/rollup:",
        week.format("%-d %B %Y")
    );
    let mut rows = Vec::new();
    let mut company = None;
    for node in nodes() {
        let rollup = fetch(node).with_context(|| format!("rollup for {node}"))?;
        let cny = |tally: &shared::report::Tally| {
            money::format_amount(
                tally
                    .amounts
                    .get(&Currency::CNY)
                    .copied()
                    .unwrap_or_default(),
                Currency::CNY,
            )
        };
        let indent = if node == "CN" {
            ""
        } else if node.contains('-') {
            "    "
        } else {
            "  "
        };
        rows.push(vec![
            format!("{indent}{node}"),
            rollup.node_name.clone(),
            rollup.visits.to_string(),
            rollup.new_customers.to_string(),
            cny(&rollup.quotations),
            rollup.orders.count.to_string(),
            cny(&rollup.orders),
            rollup.flag_totals.values().sum::<u64>().to_string(),
        ]);
        if node == "CN" {
            company = Some(rollup);
        }
    }
    for line in rollup_table(&rows) {
        println!("  {line}");
    }
    if let Some(rollup) = company
        && let Some(ranking) = rollup.ranking.get(&Currency::CNY)
    {
        println!("\n  业绩排行榜 (orders, CNY):");
        for row in ranking.iter().filter(|r| r.orders > 0).take(5) {
            println!(
                "  {:>3}. {:<14} {:>3} orders {:>12}",
                row.rank,
                row.salesperson,
                row.orders,
                money::format_amount(row.amount, Currency::CNY)
            );
        }
    }
    print_flags(hq)?;
    if let Some((order, dealer)) = outcome.cross_region_order {
        println!(
            "\n  (planted: order {order} supplied by dealer {dealer}, not authorised for the delivery region)"
        );
    }
    Ok(())
}

/// The head-office table's lines: node, name and the week's figures, laid out by display
/// width so Chinese names and long codes keep every column in line.
pub fn rollup_table(rows: &[Vec<String>]) -> Vec<String> {
    use shared::text::Align::{Left, Right};
    let headers = [
        ("node", Left),
        ("name", Left),
        ("拜访", Right),
        ("新客户", Right),
        ("报价 CNY", Right),
        ("订单", Right),
        ("订单 CNY", Right),
        ("预警", Right),
    ];
    shared::text::table(&headers, rows)
}

/// Flags as head office's laptop holds them: one line per situation (one flag per finding;
/// copies an older server wrote per region are voided and skipped by key).
fn print_flags(hq: &Laptop) -> anyhow::Result<()> {
    let rows = hq.store.list(&FLAGS, &ListFilter::default())?;
    let mut seen = BTreeSet::new();
    println!(
        "\n  Flags (预警) raised by the server, {} copies:",
        rows.len()
    );
    for row in &rows {
        let text = |column: &str| {
            row.get(column)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        if !seen.insert(text("key")) {
            continue;
        }
        println!(
            "  - [{}] {} — {} (regions {})",
            text("severity"),
            text("message_zh"),
            text("message_en"),
            text("regions")
        );
    }
    Ok(())
}

//! What head office sees after the week: the consolidated records by region and the flags.

use std::collections::BTreeMap;

use client::store::ListFilter;
use shared::projection::{CUSTOMERS, ORDERS, QUOTATIONS, VISITS};

use super::week::{Laptop, Outcome};

/// Prints head office's consolidated view, from head office's own synced laptop.
pub fn head_office(url: &str, laptops: &[Laptop], outcome: &Outcome) -> anyhow::Result<()> {
    let _ = url;
    let Some(hq) = laptops.iter().find(|l| l.person.role == "head_office") else {
        return Ok(());
    };
    let all = ListFilter::default();
    let customers = hq.store.list(&CUSTOMERS, &all)?;
    let region_of: BTreeMap<String, String> = customers
        .iter()
        .filter_map(|c| {
            Some((
                c["id"].as_str()?.to_string(),
                c["region"].as_str().unwrap_or("?").to_string(),
            ))
        })
        .collect();
    let mut by_region: BTreeMap<String, [u64; 4]> = BTreeMap::new();
    for (column, table) in [
        (0, &CUSTOMERS),
        (1, &VISITS),
        (2, &QUOTATIONS),
        (3, &ORDERS),
    ] {
        for row in hq.store.list(table, &all)? {
            let customer = row
                .get("customer_id")
                .or_else(|| row.get("id"))
                .and_then(|v| v.as_str())
                .unwrap_or("");
            let region = region_of
                .get(customer)
                .cloned()
                .unwrap_or_else(|| "?".into());
            by_region.entry(region).or_default()[column] += 1;
        }
    }
    println!("\nHead office (总部) sees, by region:");
    println!(
        "  {:<10} {:>8} {:>8} {:>8} {:>8}",
        "region", "客户", "拜访", "报价", "订单"
    );
    for (region, n) in &by_region {
        println!(
            "  {region:<10} {:>8} {:>8} {:>8} {:>8}",
            n[0], n[1], n[2], n[3]
        );
    }
    if let Some((order, dealer)) = outcome.cross_region_order {
        println!(
            "\nPlanted 窜货: order {order} supplied by dealer {dealer}, not authorised for the delivery region."
        );
    }
    if !outcome.duplicate_customers.is_empty() {
        let ids: Vec<String> = outcome
            .duplicate_customers
            .iter()
            .map(ToString::to_string)
            .collect();
        println!(
            "Planted 撞单: one customer created twice offline: {}",
            ids.join(" and ")
        );
    }
    Ok(())
}

//! The demo's week, small: the planted 窜货 (an order's delivery, and a batch shipped to Shanghai
//! seen in Guangzhou stock) and 撞单 are flagged, once per finding, head office sees every
//! region, its table counts the flags in the week that raised them, and the Shanghai
//! salespeople see the duplicate-customer flag of their region.

#![allow(clippy::unwrap_used)] // Test helpers outside #[test] functions unwrap too.

use client::store::ListFilter;
use fieldsync_tests::demo::{self, Org};
use fieldsync_tests::server::TestServer;
use shared::projection::{CUSTOMERS, FLAGS};

#[test]
fn the_demo_week_raises_the_planted_flags() {
    let dir = tempfile::tempdir().unwrap();
    let org = Org::build(2);
    let server =
        TestServer::start_in(dir.path().join("server"), "127.0.0.1:0", &org.to_toml()).unwrap();
    let (outcome, laptops) =
        demo::run_week(&server.url(), &org, &dir.path().join("laptops")).unwrap();
    assert_eq!(outcome.duplicate_customers.len(), 2);
    let (order, _dealer) = outcome
        .cross_region_order
        .expect("a cross-region order was planted");

    let hq = laptops
        .iter()
        .find(|l| l.person.role == "head_office")
        .unwrap();
    let flags = hq.store.list(&FLAGS, &ListFilter::default()).unwrap();
    let of_kind = |kind: &str| {
        flags
            .iter()
            .filter(|f| f["kind"] == kind)
            .collect::<Vec<_>>()
    };
    let (visit, code) = outcome
        .cross_region_stock
        .clone()
        .expect("a batch seen out of its region was planted");
    let cross = of_kind("cross_region_sale");
    let naming = |id: String| {
        cross
            .iter()
            .filter(|f| f["records"].as_str().unwrap().contains(&id))
            .copied()
            .collect::<Vec<_>>()
    };
    let (by_order, by_stock) = (naming(order.to_string()), naming(visit.to_string()));
    assert!(!by_order.is_empty(), "no 窜货 flag on the order: {flags:?}");
    assert_eq!(
        by_order.len() + by_stock.len(),
        cross.len(),
        "only the planted 窜货: {cross:?}"
    );
    // One flag for the finding, naming the delivery region and the dealer's.
    assert_eq!(by_order.len(), 1, "{by_order:?}");
    assert!(by_order[0]["regions"].as_str().unwrap().contains("EAST-SH"));
    // The stock flag: one flag for Guangzhou, where the goods were seen, and Shanghai, where
    // the batch was shipped; its message names the batch.
    assert_eq!(by_stock.len(), 1, "{cross:?}");
    for f in &by_stock {
        assert_eq!(f["regions"], "EAST-SH,SOUTH-GZ", "{f:?}");
        assert!(f["message_en"].as_str().unwrap().contains(&code), "{f:?}");
    }
    let duplicates = of_kind("duplicate_customer");
    assert_eq!(duplicates.len(), 1, "{flags:?}");
    for id in &outcome.duplicate_customers {
        assert!(
            duplicates[0]["records"]
                .as_str()
                .unwrap()
                .contains(&id.to_string())
        );
    }
    // The head-office table counts, in the demo week, every flag the week raised: the server's
    // rollup and head office's own offline report agree.
    let raised: std::collections::BTreeSet<&str> =
        flags.iter().map(|f| f["key"].as_str().unwrap()).collect();
    let token = hq.store.meta("token").unwrap().unwrap();
    let table = demo::print::week_rollup(&server.url(), &token, "CN").unwrap();
    let counted: u64 = table.flag_totals.values().sum();
    assert!(counted > 0, "the table shows 预警 0");
    assert_eq!(counted, raised.len() as u64, "{:?}", table.flag_totals);
    let offline = shared::report::rollup(
        &hq.store.report_tree().unwrap(),
        client::store::reports::LAPTOP_ROOT,
        shared::report::Period::Week,
        demo::print::week_of(),
        &hq.store.report_facts().unwrap(),
    )
    .unwrap();
    assert_eq!(offline.flag_totals, table.flag_totals);

    // Head office holds every customer of every region.
    let customers = hq.store.list(&CUSTOMERS, &ListFilter::default()).unwrap();
    assert_eq!(customers.len(), outcome.created["customer"]);

    // The Shanghai salespeople see their region's duplicate flag; Beijing's do not.
    for laptop in laptops.iter().filter(|l| l.person.role == "salesperson") {
        let theirs = laptop.store.list(&FLAGS, &ListFilter::default()).unwrap();
        let has_duplicate = theirs.iter().any(|f| f["kind"] == "duplicate_customer");
        assert_eq!(
            has_duplicate,
            laptop.person.territory == "EAST-SH",
            "{}",
            laptop.person.user
        );
    }
}

/// The head-office table lays out by display width: with the demo's real node codes and
/// Chinese office names and the widest figures, every line is as wide as the header and each
/// column starts at the same place on every line (before, names were padded by characters, so
/// lines were 85–94 columns wide and `SOUTH-GZ` ran into its name).
#[test]
fn the_head_office_table_keeps_its_columns_in_line() {
    use demo::org::{LARGE_REGIONS, REGIONS};
    use shared::text::display_width;
    let mut rows = vec![vec!["CN".to_string(), "公司总部".to_string()]];
    for (large, name) in LARGE_REGIONS {
        rows.push(vec![format!("  {large}"), name.to_string()]);
        for region in REGIONS.iter().filter(|r| r.large == large) {
            rows.push(vec![
                format!("    {}", region.code),
                region.name.to_string(),
            ]);
        }
    }
    for (i, row) in rows.iter_mut().enumerate() {
        let figure = if i % 2 == 0 { "12345678.90" } else { "0.00" };
        row.extend(["123", "45", figure, "6", figure, "9"].map(String::from));
    }
    let lines = demo::print::rollup_table(&rows);
    assert_eq!(lines.len(), rows.len() + 1);
    let width = display_width(&lines[0]);
    for line in &lines {
        assert_eq!(display_width(line), width, "{lines:#?}");
    }
    // The name column starts at the same display column on every line, so no code overflows.
    let name_at = |line: &str, name: &str| line.find(name).map(|at| display_width(&line[..at]));
    let first = name_at(&lines[1], "公司总部");
    for (line, row) in lines[1..].iter().zip(&rows) {
        assert_eq!(name_at(line, &row[1]), first, "{line}");
    }
}

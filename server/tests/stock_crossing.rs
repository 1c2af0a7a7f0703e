//! 窜货 seen in stock: a batch shipped by an order into one region turns up on a visit's stock
//! check in another. Both regions are flagged, whichever of the order and the visit reaches the
//! server first; goods seen where they were shipped to are not.

mod common;

use common::flags::*;
use common::{Session, TestServer};
use rust_decimal::Decimal;
use shared::RecordId;
use shared::domain::{StockSeen, Visit};

/// A southern region with its salesperson and manager, on top of the flag tests' organisation.
const SOUTH: &str = r#"
[[territory]]
code = "SOUTH"
name = "华南大区"
parent = "CN"
[[territory]]
code = "SOUTH-GZ"
name = "广州办事处"
parent = "SOUTH"
[[user]]
name = "gz1"
role = "salesperson"
territory = "SOUTH-GZ"
password = "pw-gz1"
[[user]]
name = "gz.mgr"
role = "region_manager"
territory = "SOUTH-GZ"
password = "pw-gz.mgr"
"#;

async fn start_south() -> TestServer {
    let server = start().await;
    server.state.admin().import_toml(SOUTH).expect("imports");
    server
}

/// A confirmed order by `session`'s salesperson for `customer`, shipping batch `code`.
fn shipping(session: &Session, salesperson: &str, customer: RecordId, code: &str) -> Made {
    let mut o = order(customer, salesperson, "100");
    for line in o.lines.values_mut() {
        line.batch = Some(code.into());
    }
    make(session, &o)
}

/// A visit by `salesperson` to `customer` whose stock check saw batch `code` (as typed).
fn seeing(session: &Session, salesperson: &str, customer: RecordId, code: &str) -> Made {
    let mut v = Visit::new(
        customer,
        salesperson.into(),
        chrono_tz::Asia::Shanghai,
        chrono::Utc::now(),
    );
    v.stock_seen.insert(
        "s1".into(),
        StockSeen {
            product: "P-1".into(),
            code: Some(code.into()),
            quantity: Decimal::TEN,
            position: 1024,
        },
    );
    make(session, &v)
}

/// The stock flags on a visit: `(territory, status)` of each (one per finding).
fn stock_flags(server: &TestServer, visit: RecordId) -> Vec<(String, String)> {
    flags_on(server, visit)
        .into_iter()
        .filter(|f| f.0 == "cross_region_sale")
        .map(|f| (f.1, f.2))
        .collect()
}

fn both_regions() -> Vec<(String, String)> {
    vec![("EAST-SH SOUTH-GZ".into(), "open".into())]
}

#[tokio::test]
async fn a_batch_shipped_to_shanghai_seen_in_guangzhou_is_flagged_in_both_regions() {
    let server = start_south().await;
    let sh1 = server.login("sh1").await;
    let gz1 = server.login("gz1").await;
    let sh_customer = make(&sh1, &customer("上海甲公司", "EAST-SH", "sh1"));
    let sh_other = make(&sh1, &customer("上海乙公司", "EAST-SH", "sh1"));
    let gz_customer = make(&gz1, &customer("广州丙公司", "SOUTH-GZ", "gz1"));
    let order = shipping(&sh1, "sh1", sh_customer.id, "B261100-EAST-SH");
    push_ok(
        &server,
        &sh1,
        vec![sh_customer.push, sh_other.push, order.push],
    )
    .await;
    push_ok(&server, &gz1, vec![gz_customer.push]).await;

    // Typed in full width with a space, as a Chinese input method may leave it.
    let far = seeing(&gz1, "gz1", gz_customer.id, "ｂ２６１１００ -EAST-SH");
    push_ok(&server, &gz1, vec![far.push]).await;
    assert_eq!(stock_flags(&server, far.id), both_regions());

    // Near miss: the same batch seen where it was shipped to.
    let home = seeing(&sh1, "sh1", sh_other.id, "B261100-EAST-SH");
    push_ok(&server, &sh1, vec![home.push]).await;
    assert!(flags_on(&server, home.id).is_empty(), "seen at home");

    // Both regions' managers receive the flag on their laptops.
    for user in ["sh.mgr", "gz.mgr"] {
        let session = server.login(user).await;
        assert_eq!(laptop_flags(&server, &session).await.len(), 1, "{user}");
    }
    server.stop().await;
}

#[tokio::test]
async fn a_visit_synced_before_the_order_is_flagged_when_the_order_arrives() {
    let server = start_south().await;
    let sh1 = server.login("sh1").await;
    let gz1 = server.login("gz1").await;
    let sh_customer = make(&sh1, &customer("上海甲公司", "EAST-SH", "sh1"));
    let gz_customer = make(&gz1, &customer("广州丙公司", "SOUTH-GZ", "gz1"));
    push_ok(&server, &sh1, vec![sh_customer.push]).await;
    push_ok(&server, &gz1, vec![gz_customer.push]).await;

    let visit = seeing(&gz1, "gz1", gz_customer.id, "B261107-EAST-SH");
    let unrelated = seeing(&gz1, "gz1", gz_customer.id, "B999999");
    push_ok(&server, &gz1, vec![visit.push, unrelated.push]).await;
    assert!(
        flags_on(&server, visit.id).is_empty(),
        "nothing shipped yet"
    );

    let before = change_count(&server);
    let order = shipping(&sh1, "sh1", sh_customer.id, "b261107-east-sh");
    push_ok(&server, &sh1, vec![order.push]).await;
    assert_eq!(stock_flags(&server, visit.id), both_regions());
    assert!(flags_on(&server, unrelated.id).is_empty());
    // The order itself and one flag for both regions; nothing else was touched.
    assert_eq!(change_count(&server) - before, 2);

    // A full re-check finds the same flags and writes nothing new.
    let summary = server::flags::recheck_all(&server.state.store).expect("re-checks");
    assert_eq!(summary.flag_changes, 0);
    server.stop().await;
}

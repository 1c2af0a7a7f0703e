//! Scope as rule 2 says: a salesperson holds their own customers (客户归属) and those customers'
//! records, and reads the office's dealers; every change of scope (a customer reassigned, a
//! role changed, a territory re-parented, a device revoked) is a logged realignment that pull
//! replays, in pages within the budget.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use chrono::Utc;
use common::flags::{Made, customer, edit, make, push, push_ok};
use common::{Session, TestServer};
use reqwest::StatusCode;
use shared::RecordId;
use shared::domain::{Customer, Dealer, Visit};
use shared::protocol::{DEFAULT_PULL_BUDGET, SyncResponse};

fn docs_of(pages: &[SyncResponse]) -> BTreeSet<RecordId> {
    pages
        .iter()
        .flat_map(|p| p.changes.iter().map(|c| c.doc_id))
        .collect()
}

fn purged(pages: &[SyncResponse]) -> BTreeSet<RecordId> {
    pages.iter().flat_map(|p| p.purge.iter().copied()).collect()
}

async fn holds(server: &TestServer, session: &Session) -> BTreeSet<RecordId> {
    docs_of(&server.pull_all(session, 0).await.0)
}

fn visit(session_user: &str, customer: RecordId) -> Visit {
    Visit::new(
        customer,
        session_user.into(),
        chrono_tz::Asia::Shanghai,
        Utc::now(),
    )
}

/// sh1 and sh2 share the Shanghai office; each makes a customer with a visit.
async fn two_salespeople(server: &TestServer) -> (Session, Session, Made, Made, Made) {
    let sh1 = server.login("sh1").await;
    let sh2 = server.login("sh2").await;
    let mine = make(&sh1, &customer("上海一号", "EAST-SH", "sh1"));
    let my_visit = make(&sh1, &visit("sh1", mine.id));
    let theirs = make(&sh2, &customer("上海二号", "EAST-SH", "sh2"));
    push_ok(server, &sh1, vec![mine.push.clone(), my_visit.push.clone()]).await;
    push_ok(server, &sh2, vec![theirs.push.clone()]).await;
    (sh1, sh2, mine, my_visit, theirs)
}

#[tokio::test]
async fn a_salesperson_holds_and_edits_only_their_own_customers() {
    let server = TestServer::start().await;
    let (sh1, sh2, mut mine, my_visit, theirs) = two_salespeople(&server).await;
    let boss = server.login("east.boss").await;
    let mut dealer = make(&boss, &{
        let mut d = Dealer::new("华东经销", Utc::now());
        d.region = Some("EAST-SH".into());
        d
    });
    push_ok(&server, &boss, vec![dealer.push.clone()]).await;

    assert_eq!(
        holds(&server, &sh1).await,
        BTreeSet::from([mine.id, my_visit.id, dealer.id])
    );
    assert_eq!(
        holds(&server, &sh2).await,
        BTreeSet::from([theirs.id, dealer.id])
    );
    assert_eq!(
        holds(&server, &boss).await,
        BTreeSet::from([mine.id, my_visit.id, theirs.id, dealer.id])
    );

    // sh2 may not edit sh1's customer, nor add a visit to it, nor edit the office's dealer.
    let poached = edit(&mut mine, &sh2.actor, |c: &mut Customer| {
        c.basics.phone = Some("021-0".into())
    });
    let side_visit = make(&sh2, &visit("sh2", mine.id));
    let dealer_edit = edit(&mut dealer, &sh2.actor, |d: &mut Dealer| {
        d.phone = Some("021-1".into())
    });
    let response = push(&server, &sh2, vec![poached, side_visit.push, dealer_edit]).await;
    let codes: Vec<&str> = response.rejected.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(codes, ["out_of_scope"; 3], "{:?}", response.rejected);
}

#[tokio::test]
async fn reassigning_a_customer_moves_it_and_its_records_to_the_new_owner() {
    let server = TestServer::start().await;
    let (sh1, sh2, mine, my_visit, _) = two_salespeople(&server).await;
    let (_, sh1_cursor) = server.pull_all(&sh1, 0).await;
    let (_, sh2_cursor) = server.pull_all(&sh2, 0).await;

    let admin = server.state.admin();
    assert!(
        admin.assign_customer(mine.id, "hz1").is_err(),
        "not of that office"
    );
    assert!(
        admin.assign_customer(mine.id, "east.boss").is_err(),
        "not a salesperson"
    );
    assert_eq!(admin.assign_customer(mine.id, "sh2").expect("assigns"), 2);
    assert_eq!(admin.assign_customer(mine.id, "sh2").expect("again"), 0);

    let (pages, _) = server.pull_all(&sh2, sh2_cursor).await;
    assert_eq!(docs_of(&pages), BTreeSet::from([mine.id, my_visit.id]));
    let (pages, _) = server.pull_all(&sh1, sh1_cursor).await;
    assert_eq!(purged(&pages), BTreeSet::from([mine.id, my_visit.id]));
    assert!(docs_of(&pages).is_empty());
    // A laptop set up afresh agrees.
    assert!(!holds(&server, &sh1).await.contains(&mine.id));
}

#[tokio::test]
async fn a_role_change_is_a_logged_scope_change() {
    let server = TestServer::start().await;
    let (sh1, sh2, mine, my_visit, theirs) = two_salespeople(&server).await;
    let (_, cursor) = server.pull_all(&sh2, 0).await;
    let promote = |role: &str| {
        format!("[[user]]\nname = \"sh2\"\nrole = \"{role}\"\nterritory = \"EAST-SH\"\n")
    };
    server
        .state
        .admin()
        .import_toml(&promote("region_manager"))
        .expect("promotes");
    let (pages, cursor) = server.pull_all(&sh2, cursor).await;
    assert_eq!(docs_of(&pages), BTreeSet::from([mine.id, my_visit.id]));

    server
        .state
        .admin()
        .import_toml(&promote("salesperson"))
        .expect("demotes");
    let (pages, _) = server.pull_all(&sh2, cursor).await;
    assert_eq!(purged(&pages), BTreeSet::from([mine.id, my_visit.id]));
    assert_eq!(holds(&server, &sh2).await, BTreeSet::from([theirs.id]));
    drop(sh1);
}

#[tokio::test]
async fn a_large_realignment_arrives_in_pages_within_the_budget() {
    let server = TestServer::start().await;
    let sh1 = server.login("sh1").await;
    let sh2 = server.login("sh2").await;
    let mut made = BTreeMap::new();
    let mut pushes = Vec::new();
    for n in 0..40 {
        let c = make(
            &sh1,
            &customer(&format!("上海客户{n:02}"), "EAST-SH", "sh1"),
        );
        pushes.push(c.push.clone());
        made.insert(c.id, c.push.bytes.len() as u64);
    }
    push_ok(&server, &sh1, pushes).await;
    let (_, cursor) = server.pull_all(&sh2, 0).await;
    server
        .state
        .admin()
        .import_toml(
            "[[user]]\nname = \"sh2\"\nrole = \"region_manager\"\nterritory = \"EAST-SH\"\n",
        )
        .expect("promotes");

    // One marker brings 40 customers; a budget of about three lets each page hold a few.
    let largest = made.values().copied().max().expect("some");
    let budget = 3 * largest;
    let mut cursor = cursor;
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = server.sync(&sh2, cursor, Vec::new(), budget).await;
        let bytes: u64 = page.changes.iter().map(|c| c.bytes.len() as u64).sum();
        assert!(bytes <= budget, "page {pages}: {bytes} bytes over {budget}");
        seen.extend(page.changes.iter().map(|c| c.doc_id));
        pages += 1;
        cursor = page.next_cursor;
        if !page.more {
            break;
        }
    }
    assert!(pages >= 10, "{pages} pages");
    let unique: BTreeSet<RecordId> = seen.iter().copied().collect();
    assert_eq!(seen.len(), 40, "nothing twice");
    assert_eq!(unique, made.keys().copied().collect(), "nothing missing");
    // After the last page the cursor is past the marker: nothing more comes.
    let after = server
        .sync(&sh2, cursor, Vec::new(), DEFAULT_PULL_BUDGET)
        .await;
    assert!(after.changes.is_empty() && !after.more);
}

#[tokio::test]
async fn territory_add_does_not_silently_move_and_import_logs_the_move() {
    let server = TestServer::start().await;
    let hz1 = server.login("hz1").await;
    let customer = make(&hz1, &customer("杭州客户", "EAST-HZ", "hz1"));
    push_ok(&server, &hz1, vec![customer.push.clone()]).await;
    server
        .state
        .admin()
        .import_toml(
            "[[user]]\nname = \"north.boss\"\nrole = \"large_region_manager\"\nterritory = \"NORTH\"\npassword = \"pw-north.boss\"\n",
        )
        .expect("imports");
    let north = server.login("north.boss").await;
    let (pages, cursor) = server.pull_all(&north, 0).await;
    assert!(docs_of(&pages).is_empty());

    let admin = server.state.admin();
    let refused = admin.add_territory("EAST-HZ", "杭州办事处", Some("NORTH"));
    assert!(refused.is_err_and(|e| e.to_string().contains("territory move")));
    admin
        .add_territory("EAST-HZ", "杭州分公司", Some("EAST"))
        .expect("a rename in place is fine");

    admin
        .import_toml("[[territory]]\ncode = \"EAST-HZ\"\nname = \"杭州\"\nparent = \"NORTH\"\n")
        .expect("imports a move");
    let (pages, _) = server.pull_all(&north, cursor).await;
    assert_eq!(docs_of(&pages), BTreeSet::from([customer.id]));
}

#[tokio::test]
async fn a_revoked_device_is_purged_refused_and_locked_out() {
    let server = TestServer::start().await;
    let (sh1, _, mut mine, my_visit, _) = two_salespeople(&server).await;
    let other = server.login("sh1").await;
    let (_, cursor) = server.pull_all(&sh1, 0).await;
    let admin = server.state.admin();
    assert_eq!(admin.revoke_devices("sh1", Some("nope")).ok(), None);
    // Both sessions log in as "sh1-laptop"; revoke the first one's device by actor instead.
    let devices = admin.devices("sh1").expect("devices");
    assert_eq!(devices.len(), 2);
    server
        .state
        .store
        .blocking(|c| server::store::realign::revoke_device(c, "sh1", &sh1.actor.to_hex_string()))
        .expect("revokes");

    // Its next sync refuses its edit and purges everything it holds.
    let late_edit = edit(&mut mine, &sh1.actor, |c: &mut Customer| {
        c.basics.phone = Some("021-9".into())
    });
    let page = server
        .sync(&sh1, cursor, vec![late_edit], DEFAULT_PULL_BUDGET)
        .await;
    assert_eq!(page.rejected.len(), 1);
    assert_eq!(page.rejected[0].code, "device_revoked");
    let wiped: BTreeSet<RecordId> = page.purge.iter().copied().collect();
    assert!(
        wiped.contains(&mine.id) && wiped.contains(&my_visit.id),
        "{wiped:?}"
    );

    // Once settled, the token stops working and the device cannot log in again.
    let body = zstd::encode_all(
        &shared::protocol::encode(&shared::protocol::SyncRequest {
            protocol: shared::protocol::PROTOCOL_VERSION,
            cursor: page.next_cursor,
            push: Vec::new(),
            pull_budget: DEFAULT_PULL_BUDGET,
        })[..],
        3,
    )
    .expect("compresses");
    let (status, _) = server
        .raw_sync(Some(&sh1.token), shared::protocol::CONTENT_TYPE, body)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = server.login_raw("sh1", "pw-sh1", &sh1.actor).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The user's other device is untouched.
    assert!(holds(&server, &other).await.contains(&mine.id));
}

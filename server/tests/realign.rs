//! Realignment on the server: a salesperson changing territory (replayed by pull from any
//! cursor), effective-dated assignments, documents' origins, and merging duplicate customers.

mod common;

use std::collections::BTreeSet;

use common::flags::{Made, customer, edit, make, push, push_ok};
use common::{Session, TestServer};
use shared::RecordId;
use shared::domain::{Customer, Visit};
use shared::protocol::SyncResponse;

fn docs_of(pages: &[SyncResponse]) -> BTreeSet<RecordId> {
    pages
        .iter()
        .flat_map(|p| p.changes.iter().map(|c| c.doc_id))
        .collect()
}

fn purged(pages: &[SyncResponse]) -> BTreeSet<RecordId> {
    pages.iter().flat_map(|p| p.purge.iter().copied()).collect()
}

/// Pulls from `cursor` one entry at a time (the smallest budget), as a slow link would.
async fn pull_in_small_pages(
    server: &TestServer,
    session: &Session,
    mut cursor: u64,
) -> Vec<SyncResponse> {
    let mut pages = Vec::new();
    loop {
        let page = server.sync(session, cursor, Vec::new(), 1).await;
        cursor = page.next_cursor;
        let more = page.more;
        pages.push(page);
        if !more {
            return pages;
        }
    }
}

fn db<T>(
    server: &TestServer,
    f: impl FnOnce(&mut rusqlite::Connection) -> Result<T, server::ServerError>,
) -> T {
    server.state.store.blocking(f).expect("database")
}

#[tokio::test]
async fn a_salesperson_moving_territory_is_replayed_from_any_cursor() {
    let server = TestServer::start().await;
    let sh1 = server.login("sh1").await;
    let hz1 = server.login("hz1").await;
    let mut shanghai = make(&sh1, &customer("上海东方贸易有限公司", "EAST-SH", "sh1"));
    let hangzhou = make(&hz1, &customer("杭州西湖茶业有限公司", "EAST-HZ", "hz1"));
    push_ok(&server, &sh1, vec![shanghai.push.clone()]).await;
    push_ok(&server, &hz1, vec![hangzhou.push.clone()]).await;
    let (pages, cursor) = server.pull_all(&sh1, 0).await;
    assert_eq!(docs_of(&pages), BTreeSet::from([shanghai.id]));

    // Offline, sh1 edits the Shanghai customer; meanwhile head office moves sh1 to Hangzhou.
    let offline = edit::<Customer>(&mut shanghai, &sh1.actor, |c| {
        c.basics.phone = Some("021-5555".into());
    });
    assert!(
        server
            .state
            .admin()
            .move_user("sh1", "EAST-HZ", None)
            .expect("moves")
    );

    // The edit is judged by the rule in force now (refused) and the Shanghai customer is
    // purged. Hangzhou's customers are hz1's (rule 2: 客户归属) until the manager hands one
    // over; then it arrives whole.
    let response = server.sync(&sh1, cursor, vec![offline], 1 << 20).await;
    assert_eq!(response.rejected.len(), 1, "{:?}", response.rejected);
    assert_eq!(response.rejected[0].code, "out_of_scope");
    assert_eq!(response.purge, vec![shanghai.id]);
    assert!(docs_of(std::slice::from_ref(&response)).is_empty());
    let admin = server.state.admin();
    assert_eq!(
        admin.assign_customer(hangzhou.id, "sh1").expect("assigns"),
        1
    );
    let (pages, handed_over) = server.pull_all(&sh1, response.next_cursor).await;
    assert_eq!(docs_of(&pages), BTreeSet::from([hangzhou.id]));

    // From scratch, and in the smallest pages, the answer is the same: the old scope's
    // document arrives and is then purged at the marker, the new scope's arrives whole.
    let (pages, _) = server.pull_all(&sh1, 0).await;
    assert_eq!(docs_of(&pages), BTreeSet::from([hangzhou.id]));
    assert_eq!(purged(&pages), BTreeSet::from([shanghai.id]));
    let small = pull_in_small_pages(&server, &sh1, 0).await;
    assert!(docs_of(&small).contains(&hangzhou.id));
    assert_eq!(purged(&small), BTreeSet::from([shanghai.id]));

    // New work lands in the new scope; the old one is closed to sh1.
    let (pages, _) = server.pull_all(&sh1, handed_over).await;
    assert!(docs_of(&pages).is_empty());
    let new_customer = make(&sh1, &customer("杭州新客户有限公司", "EAST-HZ", "sh1"));
    push_ok(&server, &sh1, vec![new_customer.push.clone()]).await;
    let old_region = make(&sh1, &customer("上海新客户有限公司", "EAST-SH", "sh1"));
    assert_eq!(
        push(&server, &sh1, vec![old_region.push.clone()])
            .await
            .rejected
            .len(),
        1
    );

    // Other users see nothing of sh1's move: the Shanghai customer stays sh1's, unassigned
    // in practice, until the manager hands it to a colleague.
    let sh2 = server.login("sh2").await;
    let (pages, _) = server.pull_all(&sh2, 0).await;
    assert!(docs_of(&pages).is_empty());
    assert!(purged(&pages).is_empty());
    admin
        .assign_customer(shanghai.id, "sh2")
        .expect("hands over");
    let (pages, _) = server.pull_all(&sh2, 0).await;
    assert_eq!(docs_of(&pages), BTreeSet::from([shanghai.id]));

    // The history of the assignment is kept.
    let history = server.state.admin().assignments("sh1").expect("lists");
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].territory, "EAST-HZ");
    assert!(history[0].applied_seq.is_some_and(|s| s > 0));
}

#[tokio::test]
async fn assignments_wait_for_their_day_and_bad_moves_are_refused() {
    let server = TestServer::start().await;
    let admin = server.state.admin();
    let tomorrow = chrono::Utc::now().date_naive() + chrono::Days::new(1);
    assert!(
        !admin
            .move_user("sh2", "EAST-HZ", Some(tomorrow))
            .expect("records")
    );
    let territory = |name: &str| {
        admin
            .list_users()
            .expect("lists")
            .into_iter()
            .find(|u| u.name == name)
            .map(|u| u.territory)
    };
    assert_eq!(territory("sh2").as_deref(), Some("EAST-SH"));
    assert_eq!(
        admin.assignments("sh2").expect("lists")[0].applied_seq,
        None
    );
    // A day already past takes effect at once.
    let yesterday = tomorrow - chrono::Days::new(2);
    assert!(
        admin
            .move_user("bj1", "EAST-HZ", Some(yesterday))
            .expect("moves")
    );
    assert_eq!(territory("bj1").as_deref(), Some("EAST-HZ"));

    assert!(admin.move_user("sh1", "NOWHERE", None).is_err());
    assert!(admin.move_user("nobody", "EAST-HZ", None).is_err());
    assert!(admin.move_user("system", "EAST-HZ", None).is_err());
}

#[tokio::test]
async fn documents_keep_the_territory_and_author_they_were_made_in() {
    let server = TestServer::start().await;
    let sh1 = server.login("sh1").await;
    let boss = server.login("east.boss").await;
    let mut made: Made = make(&sh1, &customer("宁波港口物流有限公司", "EAST-SH", "sh1"));
    push_ok(&server, &sh1, vec![made.push.clone()]).await;
    let moved = edit::<Customer>(&mut made, &boss.actor, |c| {
        c.region = Some("EAST-HZ".into());
    });
    push_ok(&server, &boss, vec![moved]).await;
    let id = made.id.to_string();
    let origin = db(&server, |c| server::store::realign::origin(c, &id)).expect("a document");
    assert_eq!(origin.territory.as_deref(), Some("EAST-SH"));
    assert_eq!(origin.user.as_deref(), Some("sh1"));
    let now = db(&server, |c| server::store::log::kind_and_territory(c, &id));
    assert_eq!(now.map(|(_, t)| t).as_deref(), Some("EAST-HZ"));
}

#[tokio::test]
async fn merging_a_duplicate_keeps_both_histories_and_moves_its_records_to_the_survivor() {
    let server = TestServer::start().await;
    let sh1 = server.login("sh1").await;
    let hz1 = server.login("hz1").await;
    let mut kept = customer("上海华东食品有限公司", "EAST-SH", "sh1");
    kept.basics.phone = Some("021-1000".into());
    let survivor = make(&sh1, &kept);
    let mut dup = customer("上海华东食品 有限公司", "EAST-HZ", "hz1");
    dup.basics.phone = Some("0571-2000".into());
    dup.basics.address = Some("上海市浦东新区".into());
    let duplicate = make(&hz1, &dup);
    push_ok(&server, &sh1, vec![survivor.push.clone()]).await;
    push_ok(&server, &hz1, vec![duplicate.push.clone()]).await;
    let visit = make(
        &hz1,
        &Visit::new(
            duplicate.id,
            "hz1".into(),
            chrono_tz::Asia::Shanghai,
            chrono::Utc::now(),
        ),
    );
    push_ok(&server, &hz1, vec![visit.push.clone()]).await;
    let (_, sh_cursor) = server.pull_all(&sh1, 0).await;
    let (_, hz_cursor) = server.pull_all(&hz1, 0).await;

    let summary = server
        .state
        .admin()
        .merge_customers(survivor.id, duplicate.id)
        .expect("merges");
    assert_eq!(summary.filled, vec!["basics.address"]);
    assert_eq!(summary.dependents, 1);

    // Shanghai receives the survivor's merge change and the visit with its whole history;
    // Hangzhou receives the duplicate's merge change and loses the visit. Both receive the
    // 撞单 flag of the pair, which the merge closed.
    let dup_flag =
        shared::domain::Flag::id_of_finding(&common::flags::flag_key(&server, duplicate.id));
    let (pages, _) = server.pull_all(&sh1, sh_cursor).await;
    assert_eq!(
        docs_of(&pages),
        BTreeSet::from([survivor.id, visit.id, dup_flag])
    );
    let (pages, _) = server.pull_all(&hz1, hz_cursor).await;
    assert_eq!(docs_of(&pages), BTreeSet::from([duplicate.id, dup_flag]));
    assert_eq!(purged(&pages), BTreeSet::from([visit.id]));

    // Both documents and histories are kept; the duplicate names its survivor.
    let read = |id: RecordId| -> Customer {
        let row = db(&server, |c| {
            server::store::log::document(c, &id.to_string())
        })
        .expect("stored");
        let doc = shared::doc::load(&row.snapshot, &automerge::ActorId::random()).expect("loads");
        shared::doc::read_as(&doc).expect("reads")
    };
    let merged = read(duplicate.id);
    assert_eq!(merged.merged_into, Some(survivor.id));
    let voided = merged.voided.expect("voided");
    assert_eq!(voided.reason, format!("merged into {}", survivor.id));
    let kept = read(survivor.id);
    assert_eq!(kept.basics.phone.as_deref(), Some("021-1000"));
    assert_eq!(kept.basics.address.as_deref(), Some("上海市浦东新区"));

    // A visit made later against the old id counts as the survivor's.
    let late = make(
        &sh1,
        &Visit::new(
            duplicate.id,
            "sh1".into(),
            chrono_tz::Asia::Shanghai,
            chrono::Utc::now(),
        ),
    );
    push_ok(&server, &sh1, vec![late.push.clone()]).await;
    let hung = db(&server, |c| {
        Ok(server::store::log::document(c, &late.id.to_string())?.and_then(|r| r.customer_id))
    });
    assert_eq!(hung, Some(survivor.id.to_string()));

    // Merging again does nothing; nonsense merges are refused.
    let admin = server.state.admin();
    assert!(
        admin
            .merge_customers(survivor.id, duplicate.id)
            .expect("idempotent")
            .already_merged
    );
    assert!(admin.merge_customers(survivor.id, survivor.id).is_err());
    assert!(admin.merge_customers(duplicate.id, survivor.id).is_err());
    assert!(admin.merge_customers(survivor.id, visit.id).is_err());
    assert!(admin.merge_customers(survivor.id, RecordId::new()).is_err());
}

#[tokio::test]
async fn a_region_moving_to_another_large_region_changes_its_managers_scope() {
    let server = TestServer::start().await;
    server
        .state
        .admin()
        .import_toml(
            r#"
[[user]]
name = "north.boss"
role = "large_region_manager"
territory = "NORTH"
password = "pw-north.boss"
"#,
        )
        .expect("imports");
    let hz1 = server.login("hz1").await;
    let east = server.login("east.boss").await;
    let north = server.login("north.boss").await;
    let hangzhou = make(&hz1, &customer("杭州西湖茶业有限公司", "EAST-HZ", "hz1"));
    push_ok(&server, &hz1, vec![hangzhou.push.clone()]).await;
    let (_, east_cursor) = server.pull_all(&east, 0).await;
    let (pages, north_cursor) = server.pull_all(&north, 0).await;
    assert!(docs_of(&pages).is_empty());

    let admin = server.state.admin();
    admin.move_territory("EAST-HZ", "NORTH").expect("moves");
    assert!(admin.move_territory("NORTH", "EAST-HZ").is_err(), "a cycle");
    assert!(admin.move_territory("CN", "NORTH").is_err(), "the root");
    assert!(admin.move_territory("EAST-HZ", "NOWHERE").is_err());

    let (pages, _) = server.pull_all(&east, east_cursor).await;
    assert_eq!(purged(&pages), BTreeSet::from([hangzhou.id]));
    let (pages, _) = server.pull_all(&north, north_cursor).await;
    assert_eq!(docs_of(&pages), BTreeSet::from([hangzhou.id]));
    // The salesperson of the region keeps their scope.
    let (pages, _) = server.pull_all(&hz1, 0).await;
    assert_eq!(docs_of(&pages), BTreeSet::from([hangzhou.id]));
    assert!(purged(&pages).is_empty());
}

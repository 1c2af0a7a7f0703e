//! Pushing, pulling, scopes, idempotence, paging and moves.

mod common;

use common::{TestServer, move_customer, new_customer};
use shared::protocol::DEFAULT_PULL_BUDGET;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_pull_and_scopes() {
    let server = TestServer::start().await;
    let sh1 = server.login("sh1").await;
    let sh2 = server.login("sh2").await;
    let bj1 = server.login("bj1").await;
    let head = server.login("head").await;

    let (id, _doc, change) = new_customer(&sh1.actor, "上海某某有限公司", Some("EAST-SH"));
    let answer = server
        .sync(&sh1, 0, vec![change.clone()], DEFAULT_PULL_BUDGET)
        .await;
    assert_eq!(answer.acked as usize, 1, "{answer:?}");
    assert!(answer.rejected.is_empty());
    assert!(answer.changes.is_empty(), "own change is not sent back");

    // Pushing it again is harmless and stores it once.
    let again = server
        .sync(&sh1, 0, vec![change.clone()], DEFAULT_PULL_BUDGET)
        .await;
    assert_eq!(again.acked, answer.acked);
    let count = server
        .state
        .store
        .blocking(|c| server::store::log::change_count(c))
        .expect("counts");
    assert_eq!(count, 1);

    // Rule 2: the salesperson's colleague in the same office does not read it (the customer is
    // sh1's), the office's large-region manager does, another region does not, head office
    // reads everything.
    let colleague = server.sync(&sh2, 0, vec![], DEFAULT_PULL_BUDGET).await;
    assert!(colleague.changes.is_empty());
    let boss = server.login("east.boss").await;
    let pulled = server.sync(&boss, 0, vec![], DEFAULT_PULL_BUDGET).await;
    assert_eq!(pulled.changes.len(), 1);
    assert_eq!(pulled.changes[0].doc_id, id);
    assert_eq!(pulled.changes[0].bytes, change.bytes);
    assert!(pulled.next_cursor > 0 && !pulled.more);
    let none = server.sync(&bj1, 0, vec![], DEFAULT_PULL_BUDGET).await;
    assert!(none.changes.is_empty());
    assert_eq!(none.next_cursor, pulled.next_cursor);
    let all = server.sync(&head, 0, vec![], DEFAULT_PULL_BUDGET).await;
    assert_eq!(all.changes.len(), 1);

    // A salesperson cannot create a customer outside their scope.
    let (_, _, outside) = new_customer(&sh1.actor, "北京客户", Some("NORTH-BJ"));
    let refused = server
        .sync(&sh1, 0, vec![outside], DEFAULT_PULL_BUDGET)
        .await;
    assert_eq!(refused.rejected.len(), 1);
    assert_eq!(refused.rejected[0].code, "out_of_scope");

    // Head office writes only master data (credit terms, dealers), not customer files.
    let (_, _, by_head) = new_customer(&head.actor, "总部客户", Some("EAST-SH"));
    let refused = server
        .sync(&head, 0, vec![by_head], DEFAULT_PULL_BUDGET)
        .await;
    assert_eq!(refused.rejected[0].code, "field_not_permitted");

    // A change made by another device's actor is not yours to push.
    let (_, _, foreign) = new_customer(&sh2.actor, "别人的客户", Some("EAST-SH"));
    let refused = server
        .sync(&sh1, 0, vec![foreign], DEFAULT_PULL_BUDGET)
        .await;
    assert_eq!(refused.rejected[0].code, "not_your_change");

    // An unknown region is an invalid record; no region means the salesperson's own.
    let (_, _, unknown) = new_customer(&sh1.actor, "无名", Some("MARS"));
    let (empty_id, _, empty) = new_customer(&sh1.actor, "无区域客户", None);
    let answer = server
        .sync(&sh1, 0, vec![unknown, empty], DEFAULT_PULL_BUDGET)
        .await;
    assert_eq!(answer.rejected.len(), 1);
    assert_eq!(answer.rejected[0].code, "invalid_record");
    assert_eq!(
        answer.acked as usize, 1,
        "one bad change does not block the rest"
    );
    let pulled = server.sync(&boss, 0, vec![], DEFAULT_PULL_BUDGET).await;
    assert!(pulled.changes.iter().any(|c| c.doc_id == empty_id));

    // Projections were filled.
    let names: i64 = server
        .state
        .store
        .blocking(|c| Ok(c.query_row("SELECT count(*) FROM customers", [], |r| r.get(0))?))
        .expect("counts");
    assert_eq!(names, 2);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_pages_by_budget() {
    let server = TestServer::start().await;
    let sh1 = server.login("sh1").await;
    // The office manager reads every customer of the office (a colleague would read none).
    let sh2 = server.login("east.boss").await;
    let mut pushes = Vec::new();
    for i in 0..10 {
        pushes.push(new_customer(&sh1.actor, &format!("客户 {i}"), Some("EAST-SH")).2);
    }
    let answer = server
        .sync(&sh1, 0, pushes.clone(), DEFAULT_PULL_BUDGET)
        .await;
    assert_eq!(answer.acked as usize, 10);

    let one = pushes[0].bytes.len() as u64;
    let mut cursor = 0;
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = server.sync(&sh2, cursor, vec![], one * 3 + 1).await;
        pages += 1;
        assert!(!page.changes.is_empty());
        assert!(page.changes.len() <= 4);
        seen.extend(page.changes.iter().map(|c| c.doc_id));
        cursor = page.next_cursor;
        if !page.more {
            break;
        }
    }
    assert!(pages >= 3, "{pages} pages");
    assert_eq!(seen.len(), 10);
    let expected: Vec<_> = pushes.iter().map(|p| p.doc_id).collect();
    assert_eq!(seen, expected, "log order");
    // A budget of one byte still makes progress.
    let tiny = server.sync(&sh2, 0, vec![], 1).await;
    assert_eq!(tiny.changes.len(), 1);
    assert!(tiny.more);
    // Nothing after the end.
    let done = server.sync(&sh2, cursor, vec![], DEFAULT_PULL_BUDGET).await;
    assert!(done.changes.is_empty() && !done.more);
    assert_eq!(done.next_cursor, cursor);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moving_a_customer_purges_and_delivers_history() {
    let server = TestServer::start().await;
    let sh1 = server.login("sh1").await;
    let sh2 = server.login("sh2").await;
    let hz1 = server.login("hz1").await;
    let boss = server.login("east.boss").await;

    let (id, mut doc, created) = new_customer(&sh1.actor, "搬家客户", Some("EAST-SH"));
    assert_eq!(
        server
            .sync(&sh1, 0, vec![created.clone()], DEFAULT_PULL_BUDGET)
            .await
            .acked,
        1
    );
    // The owner, sh1, holds it; sh2 never does (rule 2).
    let (_, sh2_cursor) = server.pull_all(&sh1, 0).await;
    assert!(
        server
            .pull_all(&sh2, 0)
            .await
            .0
            .iter()
            .all(|p| p.changes.is_empty())
    );
    let (hz_pages, hz_cursor) = server.pull_all(&hz1, 0).await;
    assert!(hz_pages.iter().all(|p| p.changes.is_empty()));

    // A salesperson may not move it out of their scope.
    let mut copy = doc.fork();
    let out = move_customer(&mut copy, id, &sh1.actor, "EAST-HZ");
    let refused = server.sync(&sh1, 0, vec![out], DEFAULT_PULL_BUDGET).await;
    assert_eq!(refused.rejected[0].code, "out_of_scope");

    // The large-region manager moves it from Shanghai to Hangzhou.
    let moved = move_customer(&mut doc, id, &boss.actor, "EAST-HZ");
    let answer = server
        .sync(&boss, 0, vec![moved.clone()], DEFAULT_PULL_BUDGET)
        .await;
    assert_eq!(answer.acked as usize, 1, "{answer:?}");

    let (pages, _) = server.pull_all(&sh1, sh2_cursor).await;
    let purged: Vec<_> = pages.iter().flat_map(|p| p.purge.clone()).collect();
    assert_eq!(purged, vec![id]);
    assert!(
        pages
            .iter()
            .all(|p| p.changes.iter().all(|c| c.doc_id != id))
    );

    // Hangzhou's salesperson receives it, whole, once it is assigned to them.
    server
        .state
        .admin()
        .assign_customer(id, "hz1")
        .expect("assigns");
    let (pages, _) = server.pull_all(&hz1, hz_cursor).await;
    let got: Vec<Vec<u8>> = pages
        .iter()
        .flat_map(|p| {
            p.changes
                .iter()
                .filter(|c| c.doc_id == id)
                .map(|c| c.bytes.clone())
        })
        .collect();
    assert!(got.contains(&created.bytes), "whole history arrives");
    assert!(got.contains(&moved.bytes));
    assert!(pages.iter().all(|p| p.purge.is_empty()));

    // The whole history applies to a fresh document and shows the new region.
    let mut fresh = automerge::AutoCommit::new();
    for bytes in &got {
        fresh.load_incremental(bytes).expect("applies");
    }
    let customer: shared::domain::Customer = shared::doc::read_as(&fresh).expect("reads");
    assert_eq!(customer.region.as_deref(), Some("EAST-HZ"));

    // The Shanghai salesperson may no longer edit it.
    let mut sh_doc = fresh.fork();
    let sh_edit = move_customer(&mut sh_doc, id, &sh1.actor, "EAST-SH");
    let refused = server
        .sync(&sh1, 0, vec![sh_edit], DEFAULT_PULL_BUDGET)
        .await;
    assert_eq!(refused.rejected[0].code, "out_of_scope");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn visits_follow_their_customer() {
    use shared::RecordId;
    use shared::doc::CommitMeta;
    use shared::domain::Visit;
    let server = TestServer::start().await;
    let sh1 = server.login("sh1").await;
    let hz1 = server.login("hz1").await;
    let boss = server.login("east.boss").await;

    let visit_for = |customer: RecordId| {
        let id = RecordId::new();
        let visit = Visit::new(
            customer,
            "sh1".into(),
            chrono_tz::Asia::Shanghai,
            chrono::Utc::now(),
        );
        let mut doc = shared::doc::create(&sh1.actor, id, &visit, &CommitMeta::now("visit"))
            .expect("creates");
        common::last_change(&mut doc, id)
    };

    // A visit to a customer the server does not hold yet is held until it arrives (see
    // tests/held.rs), not refused.
    let orphan = visit_for(RecordId::new());
    let answer = server
        .sync(&sh1, 0, vec![orphan], DEFAULT_PULL_BUDGET)
        .await;
    assert_eq!(answer.held, vec![0]);

    // A pushed change under the wrong id is refused.
    let (_, _, mut misfiled) = new_customer(&sh1.actor, "错号客户", Some("EAST-SH"));
    misfiled.doc_id = RecordId::new();
    let answer = server
        .sync(&sh1, 0, vec![misfiled], DEFAULT_PULL_BUDGET)
        .await;
    assert_eq!(answer.rejected[0].code, "invalid_record");

    let (customer, mut doc, created) = new_customer(&sh1.actor, "有拜访的客户", Some("EAST-SH"));
    let visit = visit_for(customer);
    let answer = server
        .sync(&sh1, 0, vec![created, visit.clone()], DEFAULT_PULL_BUDGET)
        .await;
    assert_eq!(answer.acked as usize, 2, "{:?}", answer.rejected);
    let (_, sh2_cursor) = server.pull_all(&sh1, 0).await;
    let (_, hz_cursor) = server.pull_all(&hz1, 0).await;

    let moved = move_customer(&mut doc, customer, &boss.actor, "EAST-HZ");
    assert_eq!(
        server
            .sync(&boss, 0, vec![moved], DEFAULT_PULL_BUDGET)
            .await
            .acked,
        1
    );

    let (pages, _) = server.pull_all(&sh1, sh2_cursor).await;
    let mut purged: Vec<_> = pages.iter().flat_map(|p| p.purge.clone()).collect();
    purged.sort();
    let mut expected = vec![customer, visit.doc_id];
    expected.sort();
    assert_eq!(purged, expected);
    server
        .state
        .admin()
        .assign_customer(customer, "hz1")
        .expect("assigns");
    let (pages, _) = server.pull_all(&hz1, hz_cursor).await;
    assert!(
        pages
            .iter()
            .flat_map(|p| &p.changes)
            .any(|c| c.doc_id == visit.doc_id && c.bytes == visit.bytes),
        "the visit's history follows its customer"
    );
    server.stop().await;
}

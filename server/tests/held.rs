//! Temporary refusals are not final: a change whose dependencies the server lacks is held and
//! applied when they arrive, from the same laptop or another; and a document must name itself.

mod common;

use common::{TestServer, last_change, new_customer};
use shared::RecordId;
use shared::doc::CommitMeta;
use shared::domain::Visit;
use shared::protocol::DEFAULT_PULL_BUDGET;

/// Whether `session` can pull a change with exactly these bytes.
async fn pulls(server: &TestServer, session: &common::Session, bytes: &[u8]) -> bool {
    let (pages, _) = server.pull_all(session, 0).await;
    pages
        .iter()
        .flat_map(|p| &p.changes)
        .any(|c| c.bytes == bytes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_built_on_what_the_server_lacks_is_held_until_it_arrives() {
    let server = TestServer::start().await;
    let sh1 = server.login("sh1").await;
    // The office manager: a colleague may not edit sh1's customer (rule 2).
    let sh2 = server.login("east.boss").await;
    let head = server.login("head").await;

    // sh1 creates a customer offline; sh2 got it laptop to laptop and edits it.
    let (id, mut doc, created) = new_customer(&sh1.actor, "先建后改", Some("EAST-SH"));
    doc.set_actor(sh2.actor.clone());
    let mut edit_phone = |phone: &str| {
        let mut customer: shared::domain::Customer = shared::doc::read_as(&doc).expect("reads");
        customer.basics.phone = Some(phone.into());
        shared::doc::update(&mut doc, &customer, &CommitMeta::now("phone"))
            .expect("updates")
            .expect("changed");
        last_change(&mut doc, id)
    };
    let edit = edit_phone("021-5555");
    let second = edit_phone("021-6666");

    // sh2 syncs first: both edits are held, not refused, and not yet visible to anyone.
    let answer = server
        .sync(
            &sh2,
            0,
            vec![edit.clone(), second.clone()],
            DEFAULT_PULL_BUDGET,
        )
        .await;
    assert!(answer.rejected.is_empty(), "{:?}", answer.rejected);
    assert_eq!(answer.held, vec![0, 1]);
    assert_eq!(answer.acked, 0);
    assert!(!pulls(&server, &head, &edit.bytes).await);
    // Pushed again before anything arrived: still held, stored once.
    let again = server
        .sync(&sh2, 0, vec![edit.clone()], DEFAULT_PULL_BUDGET)
        .await;
    assert_eq!(again.held, vec![0]);

    // sh1 syncs the creation: sh2's edits apply with it, as sh2's, in order.
    let answer = server
        .sync(&sh1, 0, vec![created.clone()], DEFAULT_PULL_BUDGET)
        .await;
    assert_eq!(answer.acked, 1, "{:?}", answer.rejected);
    assert!(pulls(&server, &head, &created.bytes).await);
    assert!(pulls(&server, &head, &edit.bytes).await);
    assert!(pulls(&server, &head, &second.bytes).await);
    // sh2's laptop pushes them again and now hears they are applied.
    let answer = server
        .sync(&sh2, 0, vec![edit, second], DEFAULT_PULL_BUDGET)
        .await;
    assert_eq!(answer.acked, 2, "{answer:?}");
    assert!(answer.held.is_empty());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visit_for_a_customer_not_yet_here_is_held_until_the_customer_arrives() {
    let server = TestServer::start().await;
    let sh1 = server.login("sh1").await;
    // The office manager: a colleague may not visit sh1's customer (rule 2).
    let sh2 = server.login("east.boss").await;
    let (customer, _, created) = new_customer(&sh1.actor, "后到的客户", Some("EAST-SH"));

    // sh2 visits the customer (merged from sh1's laptop) and syncs before sh1 does.
    let visit_id = RecordId::new();
    let visit = Visit::new(
        customer,
        "sh2".into(),
        chrono_tz::Asia::Shanghai,
        chrono::Utc::now(),
    );
    let mut visit_doc =
        shared::doc::create(&sh2.actor, visit_id, &visit, &CommitMeta::now("visit"))
            .expect("creates");
    let visit_change = last_change(&mut visit_doc, visit_id);
    let answer = server
        .sync(&sh2, 0, vec![visit_change.clone()], DEFAULT_PULL_BUDGET)
        .await;
    assert!(answer.rejected.is_empty(), "{:?}", answer.rejected);
    assert_eq!(answer.held, vec![0]);

    // The customer arrives from sh1: the visit applies with it.
    let answer = server
        .sync(&sh1, 0, vec![created], DEFAULT_PULL_BUDGET)
        .await;
    assert_eq!(answer.acked, 1, "{:?}", answer.rejected);
    assert!(pulls(&server, &sh1, &visit_change.bytes).await);
    let answer = server
        .sync(&sh2, 0, vec![visit_change], DEFAULT_PULL_BUDGET)
        .await;
    assert_eq!(answer.acked, 1, "{answer:?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_without_its_id_is_refused() {
    use automerge::{ROOT, transaction::Transactable};
    let server = TestServer::start().await;
    let sh1 = server.login("sh1").await;
    let (id, mut doc, created) = new_customer(&sh1.actor, "无名文档", Some("EAST-SH"));
    doc.delete(ROOT, "$id").expect("deletes");
    doc.commit();
    let unnamed = last_change(&mut doc, id);
    let answer = server
        .sync(&sh1, 0, vec![created, unnamed], DEFAULT_PULL_BUDGET)
        .await;
    assert_eq!(answer.acked, 1, "{answer:?}");
    assert_eq!(answer.rejected.len(), 1, "{answer:?}");
    assert_eq!(answer.rejected[0].index, 1);
    assert_eq!(answer.rejected[0].code, "invalid_record");
    assert!(answer.rejected[0].reason.contains("$id"));
    server.stop().await;
}

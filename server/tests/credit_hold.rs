//! Credit holds end to end (rule 4): an order past its customer's credit limit is held in its
//! own document, a held order may not be delivered, and only a region manager or above with the
//! order in scope may release it.

mod common;

use automerge::AutoCommit;
use common::flags::*;
use common::{Session, TestServer};
use rust_decimal::Decimal;
use shared::RecordId;
use shared::domain::{CreditHold, Order, OrderStatus};
use shared::protocol::PushChange;

/// Brings the laptop's copy up to date with everything the server sends this user for it.
async fn pull_into(server: &TestServer, session: &Session, made: &mut Made) {
    let (pages, _) = server.pull_all(session, 0).await;
    for change in pages.iter().flat_map(|p| &p.changes) {
        if change.doc_id == made.id {
            shared::doc::apply_incremental(&mut made.doc, &change.bytes).expect("applies");
        }
    }
}

/// The order as a laptop that pulled everything from scratch sees it.
async fn on_laptop(server: &TestServer, session: &Session, id: RecordId) -> Order {
    let (pages, _) = server.pull_all(session, 0).await;
    let mut doc = AutoCommit::new();
    for change in pages.iter().flat_map(|p| &p.changes) {
        if change.doc_id == id {
            shared::doc::apply_incremental(&mut doc, &change.bytes).expect("applies");
        }
    }
    shared::doc::read_as(&doc).expect("reads the order")
}

/// The `credit_hold` column of the server's orders projection.
fn projected(server: &TestServer, id: RecordId) -> Option<String> {
    server
        .state
        .store
        .blocking(move |c| {
            Ok(c.query_row(
                "SELECT credit_hold FROM orders WHERE doc_id = ?1",
                [id.to_string()],
                |r| r.get(0),
            )?)
        })
        .expect("queries")
}

fn release(who: &str) -> impl FnOnce(&mut Order) {
    let who = who.to_string();
    move |o: &mut Order| {
        if let Some(hold) = o.credit_hold.as_mut() {
            hold.released_by = Some(who);
            hold.released_at = Some(chrono::Utc::now());
            hold.note = Some("客户已付预付款".into());
        }
    }
}

fn deliver(o: &mut Order) {
    o.status = OrderStatus::Delivered;
}

/// Pushes one change and returns the rejection code, if any.
async fn verdict(server: &TestServer, session: &Session, change: PushChange) -> Option<String> {
    let response = push(server, session, vec![change]).await;
    response.rejected.first().map(|r| r.code.clone())
}

/// A copy of the laptop's document, for a push that is expected to be refused.
fn fork(made: &mut Made) -> Made {
    Made {
        id: made.id,
        doc: made.doc.fork(),
        push: made.push.clone(),
    }
}

#[tokio::test]
async fn an_order_past_the_limit_is_held_until_a_manager_releases_it() {
    let server = start().await;
    let sh1 = server.login("sh1").await;
    let mgr = server.login("sh.mgr").await;
    let bj = server.login("bj.mgr").await;
    let mut limited = customer("限额客户有限公司", "EAST-SH", "sh1");
    limited.credit.limit = Some(Decimal::from(1000));
    // Credit limits are set by a manager, not the salesperson.
    let c = make(&mgr, &limited);
    push_ok(&server, &mgr, vec![c.push]).await;

    // 600 is within 1000: not held. Another 600 takes the exposure to 1200: held.
    let within = make(&sh1, &order(c.id, "sh1", "600"));
    push_ok(&server, &sh1, vec![within.push.clone()]).await;
    let mut over = make(&sh1, &order(c.id, "sh1", "600"));
    push_ok(&server, &sh1, vec![over.push.clone()]).await;
    assert_eq!(on_laptop(&server, &sh1, within.id).await.credit_hold, None);
    assert_eq!(projected(&server, within.id), None);
    let held = on_laptop(&server, &sh1, over.id).await;
    let hold = held.credit_hold.clone().expect("held");
    assert!(held.is_held(), "{hold:?}");
    assert!(hold.reason.contains("授信"), "{hold:?}");
    assert_eq!(projected(&server, over.id).as_deref(), Some("held"));
    assert_eq!(kinds_on(&server, over.id), ["credit_limit"]);

    // Delivering it is refused, whether or not the laptop has seen the hold yet.
    let unaware = edit::<Order>(&mut fork(&mut over), &sh1.actor, deliver);
    assert_eq!(
        verdict(&server, &sh1, unaware).await.as_deref(),
        Some("credit_hold")
    );
    pull_into(&server, &sh1, &mut over).await;
    let aware = edit::<Order>(&mut fork(&mut over), &sh1.actor, deliver);
    assert_eq!(
        verdict(&server, &sh1, aware).await.as_deref(),
        Some("credit_hold")
    );

    // A salesperson may not release it, nor remove or forge the hold.
    let own = edit::<Order>(&mut fork(&mut over), &sh1.actor, release("sh1"));
    assert_eq!(
        verdict(&server, &sh1, own).await.as_deref(),
        Some("release_not_allowed")
    );
    let removed = edit::<Order>(&mut fork(&mut over), &sh1.actor, |o| o.credit_hold = None);
    assert_eq!(
        verdict(&server, &sh1, removed).await.as_deref(),
        Some("credit_hold")
    );
    let signed_for_boss = edit::<Order>(&mut fork(&mut over), &sh1.actor, release("sh.mgr"));
    assert_eq!(
        verdict(&server, &sh1, signed_for_boss).await.as_deref(),
        Some("release_not_allowed")
    );
    // A new order may not arrive already held or released.
    let mut forged = order(c.id, "sh1", "1");
    forged.credit_hold = Some(CreditHold {
        reason: "none".into(),
        placed_at: chrono::Utc::now(),
        released_by: Some("sh1".into()),
        released_at: Some(chrono::Utc::now()),
        note: None,
    });
    let forged = make(&sh1, &forged);
    assert_eq!(
        verdict(&server, &sh1, forged.push).await.as_deref(),
        Some("credit_hold")
    );
    // A manager of another region has no say over it.
    let elsewhere = edit::<Order>(&mut fork(&mut over), &bj.actor, release("bj.mgr"));
    assert!(verdict(&server, &bj, elsewhere).await.is_some());
    assert!(on_laptop(&server, &sh1, over.id).await.is_held());

    // The region manager's release (made on their laptop) is accepted, and then delivery is.
    let mut managers = fork(&mut over);
    let released = edit::<Order>(&mut managers, &mgr.actor, release("sh.mgr"));
    push_ok(&server, &mgr, vec![released]).await;
    let seen = on_laptop(&server, &sh1, over.id).await;
    let hold = seen
        .credit_hold
        .clone()
        .expect("kept as the record of the release");
    assert_eq!(hold.released_by.as_deref(), Some("sh.mgr"));
    assert!(!seen.is_held());
    assert_eq!(projected(&server, over.id).as_deref(), Some("released"));
    pull_into(&server, &sh1, &mut over).await;
    let delivered = edit::<Order>(&mut over, &sh1.actor, deliver);
    push_ok(&server, &sh1, vec![delivered]).await;

    // A full re-check never holds the released order again.
    server::flags::recheck_all(&server.state.store).expect("rechecks");
    assert_eq!(projected(&server, over.id).as_deref(), Some("released"));
    let last = on_laptop(&server, &sh1, over.id).await;
    assert_eq!(last.status, OrderStatus::Delivered);
    assert!(!last.is_held());
    server.stop().await;
}

//! Approvals end to end: who may approve, approvals lapsing on edit, and an approval requested
//! and granted while both people are offline, synced in both orders.

mod common;

use automerge::ActorId;
use common::flags::*;
use common::{Session, last_change};
use rust_decimal::Decimal;
use shared::RecordId;
use shared::doc::CommitMeta;
use shared::domain::{Decision, Order, Quotation, QuoteStatus};
use shared::protocol::PushChange;

#[tokio::test]
async fn approvals_need_authority_and_scope_and_lapse_on_edit() {
    let server = start().await;
    let sh1 = server.login("sh1").await;
    let sh2 = server.login("sh2").await;
    let boss = server.login("east.boss").await;
    let mgr = server.login("sh.mgr").await;
    let c = make(&sh1, &customer("客户", "EAST-SH", "sh1"));
    let mut q = make(&sh1, &quotation(c.id, "sh1", "100", "25"));
    push_ok(&server, &sh1, vec![c.push, q.push.clone()]).await;

    // A colleague cannot even touch the deal (rule 2: sh1's customer is sh1's); a region
    // manager's 20 % does not cover 25 %.
    for (session, who, code, reason) in [
        (&sh2, "sh2", "out_of_scope", "may not write"),
        (
            &mgr,
            "sh.mgr",
            "approval_not_allowed",
            "discount_beyond_authority",
        ),
    ] {
        let mut copy = Made {
            id: q.id,
            doc: q.doc.fork(),
            push: q.push.clone(),
        };
        let change = approve(&mut copy, &session.actor, who, Decision::Approved);
        let response = push(&server, session, vec![change]).await;
        assert_eq!(response.rejected.len(), 1, "{who}");
        assert_eq!(response.rejected[0].code, code);
        assert!(
            response.rejected[0].reason.contains(reason),
            "{:?}",
            response.rejected
        );
    }
    // Nobody approves their own deal.
    let mut own = Made {
        id: q.id,
        doc: q.doc.fork(),
        push: q.push.clone(),
    };
    let change = approve(&mut own, &sh1.actor, "sh1", Decision::Approved);
    let response = push(&server, &sh1, vec![change]).await;
    assert!(response.rejected[0].reason.contains("own_deal"));

    // The large-region manager (30 %) may; the request's flag stays for people to resolve.
    let change = approve(&mut q, &boss.actor, "east.boss", Decision::Approved);
    push_ok(&server, &boss, vec![change]).await;
    assert_eq!(
        flags_on(&server, q.id).len(),
        1,
        "the original request's flag"
    );
    // Edited after approval: a new flag says approval is needed again.
    let change = edit::<Quotation>(&mut q, &sh1.actor, |q| {
        if let Some(line) = q.lines.get_mut("l1") {
            line.quantity = Decimal::from(2);
        }
    });
    push_ok(&server, &sh1, vec![change]).await;
    let flags = flags_on(&server, q.id);
    assert_eq!(flags.len(), 2, "{flags:?}");
    let lapsed = server
        .state
        .store
        .blocking(|c| {
            Ok(c.query_row(
                "SELECT count(*) FROM flags WHERE message_en LIKE '%no longer valid%'",
                [],
                |r| r.get::<_, i64>(0),
            )?)
        })
        .expect("queries");
    assert_eq!(lapsed, 1);
    server.stop().await;
}

#[tokio::test]
async fn approval_requested_and_granted_offline_converges_in_both_orders() {
    let mut finals = Vec::new();
    let sales_actor = ActorId::random();
    let boss_actor = ActorId::random();
    let shared_start = {
        let id = RecordId::new();
        let c = customer("客户", "EAST-SH", "sh1");
        (id, c)
    };
    let q_id = RecordId::new();
    // Both laptops hold the same draft; each then works offline.
    let (c_id, c) = shared_start;
    let c_doc = shared::doc::create(&sales_actor, c_id, &c, &CommitMeta::now("c")).expect("c");
    let q = quotation(c_id, "sh1", "100", "15");
    let q_doc = shared::doc::create(&sales_actor, q_id, &q, &CommitMeta::now("q")).expect("q");
    let mut draft = Made {
        id: q_id,
        doc: q_doc.clone(),
        push: PushChange {
            doc_id: q_id,
            bytes: Vec::new(),
        },
    };
    draft.push = last_change(&mut draft.doc, q_id);
    let mut c_made = Made {
        id: c_id,
        doc: c_doc,
        push: draft.push.clone(),
    };
    c_made.push = last_change(&mut c_made.doc, c_id);
    let mut salesperson = Made {
        id: q_id,
        doc: draft.doc.fork(),
        push: draft.push.clone(),
    };
    let submit = edit::<Quotation>(&mut salesperson, &sales_actor, |q| {
        q.status = QuoteStatus::Submitted;
        q.notes = Some("请审批".into());
    });
    let mut manager = Made {
        id: q_id,
        doc: draft.doc.fork(),
        push: draft.push.clone(),
    };
    let grant = approve(&mut manager, &boss_actor, "sh.mgr", Decision::Approved);

    for boss_first in [false, true] {
        let server = start().await;
        let login = |user: &'static str, actor: &ActorId| {
            let actor = actor.clone();
            let server = &server;
            async move {
                let (status, body) = server.login_raw(user, &format!("pw-{user}"), &actor).await;
                assert_eq!(status, reqwest::StatusCode::OK, "{body}");
                Session {
                    token: body["token"].as_str().expect("token").to_string(),
                    actor,
                }
            }
        };
        let sh1 = login("sh1", &sales_actor).await;
        let mgr = login("sh.mgr", &boss_actor).await;
        push_ok(&server, &sh1, vec![c_made.push.clone(), draft.push.clone()]).await;
        if boss_first {
            push_ok(&server, &mgr, vec![grant.clone()]).await;
            push_ok(&server, &sh1, vec![submit.clone()]).await;
        } else {
            push_ok(&server, &sh1, vec![submit.clone()]).await;
            push_ok(&server, &mgr, vec![grant.clone()]).await;
        }
        let row = server
            .state
            .store
            .blocking(|c| server::store::log::document(c, &q_id.to_string()))
            .expect("reads")
            .expect("stored");
        let doc = shared::doc::load(&row.snapshot, &sales_actor).expect("loads");
        let record: Quotation = shared::doc::read_as(&doc).expect("a quotation");
        assert_eq!(
            record.approval.as_ref().map(|a| a.decision),
            Some(Decision::Approved)
        );
        assert_eq!(record.notes.as_deref(), Some("请审批"));
        // The approval covers the content, so no authority flag stays... except the one raised
        // by the draft before approval arrived, identical in both orders.
        finals.push((record, kinds_on(&server, q_id)));
        server.stop().await;
    }
    assert_eq!(finals[0], finals[1]);
}

/// A decision on an order signed by `who`, tied to its current content.
fn decide_order(made: &mut Made, actor: &ActorId, who: &str, decision: Decision) -> PushChange {
    let id = made.id;
    edit::<Order>(made, actor, |o| {
        o.approval = Some(shared::rules::approval::decide(
            decision,
            who,
            chrono::Utc::now(),
            &o.facts(id, None),
            Some("说明".into()),
        ));
    })
}

#[tokio::test]
async fn order_approvals_are_verified_like_quotations() {
    let server = start().await;
    let sh1 = server.login("sh1").await;
    let sh2 = server.login("sh2").await;
    let mgr = server.login("sh.mgr").await;
    let c = make(&sh1, &customer("订单审批客户", "EAST-SH", "sh1"));
    // 300,000 is past a regular salesperson's 200,000, within a region manager's 1,000,000.
    let mut o = make(&sh1, &order(c.id, "sh1", "300000"));
    push_ok(&server, &sh1, vec![c.push, o.push.clone()]).await;
    assert_eq!(kinds_on(&server, o.id), ["beyond_authority"]);

    // Not their own order; a colleague may not even touch it (rule 2: sh1's customer is sh1's).
    let colleague = {
        let mut copy = Made {
            id: o.id,
            doc: o.doc.fork(),
            push: o.push.clone(),
        };
        let change = decide_order(&mut copy, &sh2.actor, "sh2", Decision::Approved);
        push(&server, &sh2, vec![change]).await
    };
    assert_eq!(colleague.rejected[0].code, "out_of_scope");
    for (session, who, reason) in [(&sh1, "sh1", "own_deal")] {
        let mut copy = Made {
            id: o.id,
            doc: o.doc.fork(),
            push: o.push.clone(),
        };
        let change = decide_order(&mut copy, &session.actor, who, Decision::Approved);
        let response = push(&server, session, vec![change]).await;
        assert_eq!(response.rejected.len(), 1, "{who}");
        assert_eq!(response.rejected[0].code, "approval_not_allowed");
        let why = &response.rejected[0].reason;
        assert!(why.contains(reason) && why.contains("审批"), "{why}");
    }
    // Signed by one person, pushed by another.
    let mut forged = Made {
        id: o.id,
        doc: o.doc.fork(),
        push: o.push.clone(),
    };
    let change = decide_order(&mut forged, &sh1.actor, "sh.mgr", Decision::Approved);
    let response = push(&server, &sh1, vec![change]).await;
    assert_eq!(response.rejected.len(), 1);

    // The region manager's approval is accepted and covers the order: a later edit that
    // leaves the priced content alone raises nothing new.
    let change = decide_order(&mut o, &mgr.actor, "sh.mgr", Decision::Approved);
    push_ok(&server, &mgr, vec![change]).await;
    let change = edit::<Order>(&mut o, &sh1.actor, |o| o.shipping = Some("自提".into()));
    push_ok(&server, &sh1, vec![change]).await;
    assert_eq!(
        flags_on(&server, o.id).len(),
        1,
        "only the original request"
    );
    // Edited after approval: approval is needed again.
    let change = edit::<Order>(&mut o, &sh1.actor, |o| {
        if let Some(line) = o.lines.values_mut().next() {
            line.quantity = Decimal::from(2);
        }
    });
    push_ok(&server, &sh1, vec![change]).await;
    assert_eq!(flags_on(&server, o.id).len(), 2);
    server.stop().await;
}

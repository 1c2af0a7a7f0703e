//! A flag's life: one flag per finding for every region involved, handled only by the managers
//! of those regions or head office (and the server says who), closing itself when its
//! situation is gone and re-opening when it recurs, with the reasons in its history; and the
//! per-region copies an older server wrote replaced by the one flag.

mod common;

use std::collections::BTreeMap;

use automerge::AutoCommit;
use common::TestServer;
use common::flags::*;
use shared::RecordId;
use shared::doc::CommitMeta;
use shared::domain::{Authorisation, Dealer, Flag, FlagStatus, Order, Voided};
use shared::protocol::PushChange;
use shared::rules::{Finding, FindingKind, Message, Severity, key_prefix};

/// A Shanghai customer, a dealer authorised only for Shanghai, and an order of it delivered
/// into Beijing: one 窜货 finding involving both regions. Returns the order and the dealer.
async fn cross_region_order(server: &TestServer, sh1: &common::Session) -> (Made, RecordId) {
    let c = make(sh1, &customer("上海甲公司", "EAST-SH", "sh1"));
    let mut dealer = Dealer::new("沪经销", chrono::Utc::now());
    dealer.region = Some("EAST-SH".into());
    dealer.authorised_regions = BTreeMap::from([("EAST-SH".into(), Authorisation { since: None })]);
    // Only head office grants a dealer regions.
    let head = server.login("head").await;
    let d = make(&head, &dealer);
    push_ok(server, &head, vec![d.push]).await;
    let mut o = order(c.id, "sh1", "100");
    o.dealer_id = Some(d.id);
    o.delivery_region = Some("NORTH-BJ".into());
    let o = make(sh1, &o);
    push_ok(server, sh1, vec![c.push, o.push.clone()]).await;
    (o, d.id)
}

/// The flag document as the server holds it.
fn server_doc(server: &TestServer, id: RecordId) -> AutoCommit {
    let row = server
        .state
        .store
        .blocking(|c| server::store::log::document(c, &id.to_string()))
        .expect("reads")
        .expect("the server holds the flag");
    AutoCommit::load(&row.snapshot).expect("loads")
}

fn server_flag(server: &TestServer, id: RecordId) -> Flag {
    shared::doc::read_as(&server_doc(server, id)).expect("a flag")
}

/// A user's laptop copy of the one flag, ready to edit.
async fn pulled_flag(server: &TestServer, session: &common::Session) -> Made {
    let mut flags = laptop_flags(server, session).await;
    assert_eq!(flags.len(), 1);
    let (id, doc) = flags.remove(0);
    Made {
        id,
        doc,
        push: PushChange {
            doc_id: id,
            bytes: Vec::new(),
        },
    }
}

#[tokio::test]
async fn a_salesperson_may_not_resolve_a_flag_and_the_server_names_who_did() {
    let server = start().await;
    let sh1 = server.login("sh1").await;
    let (order, _) = cross_region_order(&server, &sh1).await;
    let id = Flag::id_of_finding(&flag_key(&server, order.id));

    // The salesperson sees the flag but may not rule on it.
    let mut theirs = pulled_flag(&server, &sh1).await;
    let change = edit::<Flag>(&mut theirs, &sh1.actor, |f| {
        f.status = FlagStatus::Resolved;
        f.handled_by = Some("sh1".into());
        f.note = Some("没问题".into());
    });
    let response = push(&server, &sh1, vec![change]).await;
    assert_eq!(response.rejected.len(), 1);
    assert_eq!(response.rejected[0].code, "flag_not_allowed");
    let reason = &response.rejected[0].reason;
    assert!(
        reason.contains("只有") && reason.contains("only a manager"),
        "{reason}"
    );
    assert_eq!(server_flag(&server, id).status, FlagStatus::Open);

    // Beijing's manager (a region the flag involves) resolves it, claiming to be someone else:
    // the server records who really did.
    let bj_mgr = server.login("bj.mgr").await;
    let mut managers = pulled_flag(&server, &bj_mgr).await;
    let change = edit::<Flag>(&mut managers, &bj_mgr.actor, |f| {
        f.status = FlagStatus::Resolved;
        f.handled_by = Some("sh.mgr".into());
        f.note = Some("已与经销商核实".into());
    });
    push_ok(&server, &bj_mgr, vec![change]).await;
    let flag = server_flag(&server, id);
    assert_eq!(flag.status, FlagStatus::Resolved);
    assert_eq!(flag.handled_by.as_deref(), Some("bj.mgr"));

    // Handled once, handled for everyone: Shanghai's manager holds the same, resolved document.
    let sh_mgr = server.login("sh.mgr").await;
    let seen = pulled_flag(&server, &sh_mgr).await;
    let theirs: Flag = shared::doc::read_as(&seen.doc).expect("a flag");
    assert_eq!(seen.id, id);
    assert_eq!(
        (theirs.status, theirs.handled_by.as_deref()),
        (FlagStatus::Resolved, Some("bj.mgr"))
    );
    server.stop().await;
}

#[tokio::test]
async fn a_flag_closes_when_its_situation_is_gone_and_reopens_when_it_recurs() {
    let server = start().await;
    let sh1 = server.login("sh1").await;
    let (mut order, _) = cross_region_order(&server, &sh1).await;
    let id = Flag::id_of_finding(&flag_key(&server, order.id));

    // Delivered at home instead: the 窜货 is gone, and the flag closes itself, saying why.
    let change = edit::<Order>(&mut order, &sh1.actor, |o| {
        o.delivery_region = Some("EAST-SH".into());
    });
    push_ok(&server, &sh1, vec![change]).await;
    let closed = server_flag(&server, id);
    assert_eq!(closed.status, FlagStatus::Resolved);
    assert_eq!(closed.handled_by.as_deref(), Some("system"));
    assert!(closed.cleared_at.is_some());
    let note = closed.note.clone().unwrap_or_default();
    assert!(
        note.contains("自动关闭") && note.contains("Closed automatically"),
        "{note}"
    );

    // Into Beijing again: the cause recurred, and the flag re-opens.
    let change = edit::<Order>(&mut order, &sh1.actor, |o| {
        o.delivery_region = Some("NORTH-BJ".into());
    });
    push_ok(&server, &sh1, vec![change]).await;
    let reopened = server_flag(&server, id);
    assert_eq!(reopened.status, FlagStatus::Open);
    assert!(reopened.cleared_at.is_none());
    assert!(reopened.note.unwrap_or_default().contains("Re-opened"));

    // The history keeps every step, each the server's, with its reason.
    let mut doc = server_doc(&server, id);
    let system = server::flags::system_actor_hex();
    let steps: Vec<String> = shared::doc::history(&mut doc)
        .into_iter()
        .filter(|e| e.actor == system)
        .map(|e| e.message)
        .collect();
    assert!(steps[0].starts_with("raise flag"), "{steps:?}");
    assert!(
        steps
            .iter()
            .any(|m| m.starts_with("close flag: Closed automatically"))
    );
    assert!(
        steps.last().is_some_and(|m| m.starts_with("reopen flag")),
        "{steps:?}"
    );

    // Voiding the order closes it again, for that reason.
    let change = edit::<Order>(&mut order, &sh1.actor, |o| {
        o.voided = Some(Voided {
            reason: "录错".into(),
            at: chrono::Utc::now(),
            by: "sh1".into(),
        });
    });
    push_ok(&server, &sh1, vec![change]).await;
    let voided = server_flag(&server, id);
    assert_eq!(voided.status, FlagStatus::Resolved);
    assert!(voided.note.unwrap_or_default().contains("相关记录已作废"));
    server.stop().await;
}

#[tokio::test]
async fn a_credit_flag_closes_when_another_order_of_the_customer_is_voided() {
    let server = start().await;
    let sh1 = server.login("sh1").await;
    let mut limited = customer("限额客户", "EAST-SH", "sh1");
    limited.credit.limit = Some(1000.into());
    // A credit limit is set by a manager.
    let mgr = server.login("sh.mgr").await;
    let c = make(&mgr, &limited);
    push_ok(&server, &mgr, vec![c.push]).await;
    let mut first = make(&sh1, &order(c.id, "sh1", "600"));
    let second = make(&sh1, &order(c.id, "sh1", "600"));
    push_ok(&server, &sh1, vec![first.push.clone()]).await;
    push_ok(&server, &sh1, vec![second.push]).await;
    assert_eq!(kinds_on(&server, second.id), ["credit_limit"]);
    let id = Flag::id_of_finding(&flag_key(&server, second.id));
    assert_eq!(server_flag(&server, id).status, FlagStatus::Open);

    let change = edit::<Order>(&mut first, &sh1.actor, |o| {
        o.voided = Some(Voided {
            reason: "客户取消".into(),
            at: chrono::Utc::now(),
            by: "sh1".into(),
        });
    });
    push_ok(&server, &sh1, vec![change]).await;
    let flag = server_flag(&server, id);
    assert_eq!(flag.status, FlagStatus::Resolved, "{flag:?}");
    assert!(flag.note.unwrap_or_default().contains("credit limit"));
    server.stop().await;
}

#[tokio::test]
async fn per_region_copies_of_an_older_server_give_way_to_one_flag() {
    let server = start().await;
    let sh1 = server.login("sh1").await;
    let c = make(&sh1, &customer("上海甲公司", "EAST-SH", "sh1"));
    let mut dealer = Dealer::new("沪经销", chrono::Utc::now());
    dealer.region = Some("EAST-SH".into());
    // Dealers are the office's, read-only to salespeople (rule 2): the manager records them.
    let mgr = server.login("sh.mgr").await;
    let d = make(&mgr, &dealer);
    push_ok(&server, &mgr, vec![d.push.clone()]).await;
    let mut o = order(c.id, "sh1", "100");
    o.dealer_id = Some(d.id);
    o.delivery_region = Some("NORTH-BJ".into());
    let o = make(&sh1, &o);
    push_ok(&server, &sh1, vec![c.push]).await;

    // What an older server left: one copy per region, Shanghai's resolved by its manager.
    let key = key_prefix(
        FindingKind::CrossRegionSale,
        &["order", &o.id.to_string(), &d.id.to_string(), "NORTH-BJ"],
    )
    .trim_end_matches(':')
    .to_string();
    let finding = Finding {
        kind: FindingKind::CrossRegionSale,
        severity: Severity::Critical,
        key: key.clone(),
        records: vec![o.id, d.id, c.id],
        people: vec!["sh1".into()],
        regions: vec!["EAST-SH".into(), "NORTH-BJ".into()],
        message: Message {
            en: "old".into(),
            zh_cn: "旧".into(),
        },
        detail: shared::rules::Detail::CrossRegionOrder {
            delivery_region: "NORTH-BJ".into(),
            dealer_region: Some("EAST-SH".into()),
            authorised: Vec::new(),
        },
    };
    let mut copies = Vec::new();
    for region in ["EAST-SH", "NORTH-BJ"] {
        let copy_id = Flag::id_for(&key, region);
        let mut flag = Flag::from_finding(&finding, region, chrono::Utc::now());
        if region == "EAST-SH" {
            flag.status = FlagStatus::Resolved;
            flag.handled_by = Some("sh.mgr".into());
            flag.handled_at = Some(chrono::Utc::now());
            flag.note = Some("已处理".into());
        }
        let mut doc = shared::doc::create(
            &server::flags::system_actor(),
            copy_id,
            &flag,
            &CommitMeta::now("raise flag"),
        )
        .expect("creates");
        server
            .state
            .store
            .blocking(|conn| {
                let filing = server::flags::commit::Filing {
                    kind: "flag",
                    territory: region,
                    customer_id: None,
                };
                server::flags::commit::store_last(
                    conn,
                    copy_id,
                    &mut doc,
                    shared::record::Record::Flag(flag),
                    filing,
                )
            })
            .expect("stores");
        copies.push(copy_id);
    }

    // The order arrives (or `admin recheck` runs): one flag, keeping the handling, and the
    // copies voided with a reason naming it.
    push_ok(&server, &sh1, vec![o.push]).await;
    let flags = flags_on(&server, o.id);
    assert_eq!(flags.len(), 1, "{flags:?}");
    let one = server_flag(&server, Flag::id_of_finding(&key));
    assert_eq!(one.status, FlagStatus::Resolved);
    assert_eq!(one.handled_by.as_deref(), Some("sh.mgr"));
    for copy in copies {
        let old = server_flag(&server, copy);
        let voided = old.voided.expect("the copy is voided");
        assert!(
            voided
                .reason
                .contains(&Flag::id_of_finding(&key).to_string())
        );
    }
    server.stop().await;
}

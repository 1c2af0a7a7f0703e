//! Business-conflict flags and approvals end to end: a real server, changes pushed as laptops
//! would push them, flags pulled back as laptops would pull them.

mod common;

use std::collections::BTreeMap;

use automerge::{ActorId, AutoCommit};
use common::{Session, TestServer, last_change};
use rust_decimal::Decimal;
use shared::RecordId;
use shared::doc::CommitMeta;
use shared::domain::{
    Approval, Authorisation, Customer, Dealer, Decision, Flag, FlagStatus, Line, Order,
    OrderStatus, Quotation, QuoteStatus,
};
use shared::money::Currency;
use shared::protocol::{PushChange, SyncResponse};
use shared::record::RecordType;
use shared::rules::FindingKind;
use shared::rules::authority::Fingerprint;

/// Region managers and grades on top of the common organisation.
const MANAGERS: &str = r#"
[[user]]
name = "sh.mgr"
role = "region_manager"
territory = "EAST-SH"
password = "pw-sh.mgr"
[[user]]
name = "bj.mgr"
role = "region_manager"
territory = "NORTH-BJ"
password = "pw-bj.mgr"
[[user]]
name = "sh1"
role = "salesperson"
territory = "EAST-SH"
grade = "regular"
"#;

async fn start() -> TestServer {
    let server = TestServer::start().await;
    server.state.admin().import_toml(MANAGERS).expect("imports");
    server
}

/// A document made on a laptop, with the change to push.
struct Made {
    id: RecordId,
    doc: AutoCommit,
    push: PushChange,
}

fn make<T: RecordType>(session: &Session, record: &T) -> Made {
    let id = RecordId::new();
    let mut doc = shared::doc::create(&session.actor, id, record, &CommitMeta::now("create"))
        .expect("creates");
    let push = last_change(&mut doc, id);
    Made { id, doc, push }
}

/// Edits a record on the laptop holding `doc`; returns the change.
fn edit<T: RecordType>(made: &mut Made, actor: &ActorId, f: impl FnOnce(&mut T)) -> PushChange {
    made.doc.set_actor(actor.clone());
    let mut record: T = shared::doc::read_as(&made.doc).expect("reads");
    f(&mut record);
    shared::doc::update(&mut made.doc, &record, &CommitMeta::now("edit"))
        .expect("updates")
        .expect("changed");
    last_change(&mut made.doc, made.id)
}

/// Pushes changes without pulling anything back.
async fn push(server: &TestServer, session: &Session, changes: Vec<PushChange>) -> SyncResponse {
    server.sync(session, i64::MAX as u64, changes, 1).await
}

async fn push_ok(server: &TestServer, session: &Session, changes: Vec<PushChange>) {
    let response = push(server, session, changes).await;
    assert!(response.rejected.is_empty(), "{:?}", response.rejected);
}

fn customer(name: &str, region: &str, salesperson: &str) -> Customer {
    let mut c = Customer::new(name, chrono::Utc::now());
    c.region = Some(region.into());
    c.salesperson = Some(salesperson.into());
    c
}

fn lines(price: &str, discount: &str) -> BTreeMap<String, Line> {
    BTreeMap::from([(
        "l1".to_string(),
        Line {
            product: "P-1".into(),
            description: None,
            quantity: Decimal::ONE,
            unit_price: price.parse().expect("price"),
            discount_pct: discount.parse().expect("discount"),
            position: 1024,
        },
    )])
}

fn quotation(customer: RecordId, salesperson: &str, price: &str, discount: &str) -> Quotation {
    Quotation {
        number: format!("Q-{}", RecordId::new()),
        customer_id: customer,
        salesperson: salesperson.into(),
        currency: Currency::CNY,
        lines: lines(price, discount),
        valid_until: None,
        delivery_terms: None,
        payment_terms: None,
        status: QuoteStatus::Draft,
        notes: None,
        created_at: chrono::Utc::now(),
        voided: None,
        approval: None,
    }
}

fn order(customer: RecordId, salesperson: &str, price: &str) -> Order {
    let q = quotation(customer, salesperson, price, "0");
    let mut o = Order::from_quotation(
        RecordId::new(),
        &q,
        format!("O-{}", RecordId::new()),
        salesperson.into(),
        chrono::Utc::now(),
    );
    o.quotation_id = None;
    o.status = OrderStatus::Confirmed;
    o
}

/// The server's flags (kind, territory, status) whose records include `record`.
fn flags_on(server: &TestServer, record: RecordId) -> Vec<(String, String, String)> {
    server
        .state
        .store
        .blocking(|c| {
            let mut stmt = c.prepare(
                "SELECT f.kind, d.territory, f.status FROM flags f
                 JOIN documents d ON d.doc_id = f.doc_id
                 WHERE f.records LIKE '%' || ?1 || '%' ORDER BY f.kind, d.territory",
            )?;
            let rows = stmt.query_map([record.to_string()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .expect("queries")
}

fn kinds_on(server: &TestServer, record: RecordId) -> Vec<String> {
    let mut kinds: Vec<String> = flags_on(server, record).into_iter().map(|f| f.0).collect();
    kinds.dedup();
    kinds
}

/// Every flag a user's laptop receives, rebuilt from a full pull, with the documents.
async fn laptop_flags(server: &TestServer, session: &Session) -> Vec<(RecordId, AutoCommit)> {
    let (pages, _) = server.pull_all(session, 0).await;
    let mut docs: BTreeMap<RecordId, AutoCommit> = BTreeMap::new();
    for change in pages.iter().flat_map(|p| &p.changes) {
        let doc = docs.entry(change.doc_id).or_default();
        shared::doc::apply_incremental(doc, &change.bytes).expect("applies");
    }
    docs.into_iter()
        .filter(|(_, d)| shared::doc::read_as::<Flag>(d).is_ok())
        .collect()
}

fn change_count(server: &TestServer) -> u64 {
    server
        .state
        .store
        .blocking(|c| server::store::log::change_count(c))
        .expect("counts")
}

#[tokio::test]
async fn cross_region_order_is_flagged_for_both_regions_unless_authorised() {
    let server = start().await;
    let sh1 = server.login("sh1").await;
    let bj1 = server.login("bj1").await;
    let c = make(&sh1, &customer("上海甲公司", "EAST-SH", "sh1"));
    let mut only_sh = Dealer::new("沪经销", chrono::Utc::now());
    only_sh.region = Some("EAST-SH".into());
    only_sh.authorised_regions =
        BTreeMap::from([("EAST-SH".into(), Authorisation { since: None })]);
    let mut both = only_sh.clone();
    both.name = "两地经销".into();
    both.authorised_regions
        .insert("NORTH-BJ".into(), Authorisation { since: None });
    let (d1, d2) = (make(&sh1, &only_sh), make(&sh1, &both));
    let mut o1 = order(c.id, "sh1", "100");
    o1.dealer_id = Some(d1.id);
    o1.delivery_region = Some("NORTH-BJ".into());
    let mut o2 = o1.clone();
    o2.dealer_id = Some(d2.id);
    let (o1, o2) = (make(&sh1, &o1), make(&sh1, &o2));
    push_ok(
        &server,
        &sh1,
        vec![c.push, d1.push, d2.push, o1.push, o2.push],
    )
    .await;

    let flags = flags_on(&server, o1.id);
    let regions: Vec<&str> = flags.iter().map(|f| f.1.as_str()).collect();
    assert_eq!(regions, ["EAST-SH", "NORTH-BJ"], "{flags:?}");
    assert!(
        flags
            .iter()
            .all(|f| f.0 == "cross_region_sale" && f.2 == "open")
    );
    assert!(
        kinds_on(&server, o2.id).is_empty(),
        "authorised for both regions"
    );
    // Both regions' people receive it on their laptops.
    for session in [&sh1, &bj1] {
        let seen = laptop_flags(&server, session).await;
        assert_eq!(seen.len(), 1, "one copy per region");
    }
    server.stop().await;
}

#[tokio::test]
async fn duplicate_customers_by_two_salespeople_are_flagged_near_misses_are_not() {
    let server = start().await;
    let sh1 = server.login("sh1").await;
    let hz1 = server.login("hz1").await;
    let mut a = customer("上海甲乙贸易有限公司", "EAST-SH", "sh1");
    a.basics.tax_id = Some("91310000132200821H".into());
    let mut same_tax = customer("甲乙", "EAST-HZ", "hz1");
    same_tax.basics.tax_id = Some("91310000132200821H".into());
    let mut b = customer("杭州丙丁公司", "EAST-SH", "sh1");
    b.basics.phone = Some("021-6123 4567".into());
    let mut same_phone = customer("丙丁丁", "EAST-HZ", "hz1");
    same_phone.basics.phone = Some("+86 21 61234567".into());
    let c = customer("北京戊己科技有限公司", "EAST-SH", "sh1");
    let same_name = customer("北京戊己科技 股份有限公司", "EAST-HZ", "hz1");
    let mut d = customer("南京庚辛商贸有限公司", "EAST-SH", "sh1");
    d.basics.tax_id = Some("91320000132200821A".into());
    let mut similar = customer("南京庚辛商行有限公司", "EAST-HZ", "hz1");
    similar.basics.tax_id = Some("91320000132200821B".into());

    let mine = [
        make(&sh1, &a),
        make(&sh1, &b),
        make(&sh1, &c),
        make(&sh1, &d),
    ];
    let theirs = [
        make(&hz1, &same_tax),
        make(&hz1, &same_phone),
        make(&hz1, &same_name),
        make(&hz1, &similar),
    ];
    push_ok(&server, &sh1, mine.iter().map(|m| m.push.clone()).collect()).await;
    push_ok(
        &server,
        &hz1,
        theirs.iter().map(|m| m.push.clone()).collect(),
    )
    .await;
    for (m, t) in mine.iter().zip(&theirs).take(3) {
        let flags = flags_on(&server, t.id);
        assert_eq!(flags.len(), 2, "one per region: {flags:?}");
        assert!(flags.iter().all(|f| f.0 == "duplicate_customer"));
        assert_eq!(flags_on(&server, m.id), flags);
    }
    assert!(
        flags_on(&server, theirs[3].id).is_empty(),
        "similar names, other tax ids"
    );
    server.stop().await;
}

#[tokio::test]
async fn contested_customer_and_authority_and_credit() {
    let server = start().await;
    let sh1 = server.login("sh1").await;
    let sh2 = server.login("sh2").await;
    let mut limited = customer("限额客户", "EAST-SH", "sh1");
    limited.credit.limit = Some(Decimal::from(1000));
    let (c, lone, lim) = (
        make(&sh1, &customer("争抢客户", "EAST-SH", "sh1")),
        make(&sh1, &customer("独家客户", "EAST-SH", "sh1")),
        make(&sh1, &limited),
    );
    push_ok(&server, &sh1, vec![c.push, lone.push, lim.push]).await;

    // Contested: two salespeople quote one customer; one salesperson twice is fine.
    let q1 = make(&sh1, &quotation(c.id, "sh1", "100", "0"));
    let q2 = make(&sh2, &quotation(c.id, "sh2", "100", "0"));
    let q3 = make(&sh1, &quotation(lone.id, "sh1", "100", "0"));
    let q4 = make(&sh1, &quotation(lone.id, "sh1", "100", "0"));
    push_ok(&server, &sh1, vec![q1.push, q3.push, q4.push]).await;
    push_ok(&server, &sh2, vec![q2.push]).await;
    assert_eq!(kinds_on(&server, c.id), ["contested_customer"]);
    assert!(kinds_on(&server, lone.id).is_empty());

    // Authority: a regular salesperson may give 10 %.
    let beyond = make(&sh1, &quotation(lone.id, "sh1", "100", "15"));
    let within = make(&sh1, &quotation(lone.id, "sh1", "100", "5"));
    push_ok(&server, &sh1, vec![beyond.push, within.push]).await;
    assert_eq!(kinds_on(&server, beyond.id), ["beyond_authority"]);
    assert!(kinds_on(&server, within.id).is_empty());

    // Credit: 600 + 300 is within 1000; another 300 is not.
    let o1 = make(&sh1, &order(lim.id, "sh1", "600"));
    let o2 = make(&sh1, &order(lim.id, "sh1", "300"));
    push_ok(&server, &sh1, vec![o1.push, o2.push]).await;
    assert!(kinds_on(&server, o2.id).is_empty());
    let o3 = make(&sh1, &order(lim.id, "sh1", "300"));
    push_ok(&server, &sh1, vec![o3.push]).await;
    assert_eq!(kinds_on(&server, o3.id), ["credit_limit"]);

    // A full re-check finds nothing new, however often it runs.
    let before = change_count(&server);
    let first = server::flags::recheck_all(&server.state.store).expect("rechecks");
    let second = server::flags::recheck_all(&server.state.store).expect("rechecks");
    assert_eq!((first.flag_changes, second.flag_changes), (0, 0));
    assert!(first.documents >= 10);
    assert_eq!(change_count(&server), before);
    server.stop().await;
}

#[tokio::test]
async fn flag_handling_syncs_and_content_is_read_only() {
    let server = start().await;
    let sh1 = server.login("sh1").await;
    let mgr = server.login("sh.mgr").await;
    let c = make(&sh1, &customer("客户", "EAST-SH", "sh1"));
    let q = make(&sh1, &quotation(c.id, "sh1", "100", "15"));
    push_ok(&server, &sh1, vec![c.push, q.push]).await;
    let mut flags = laptop_flags(&server, &mgr).await;
    assert_eq!(flags.len(), 1);
    let (id, doc) = flags.remove(0);
    let mut held = Made {
        id,
        push: PushChange {
            doc_id: id,
            bytes: Vec::new(),
        },
        doc,
    };
    // Editing the content is refused.
    let mut forged = Made {
        id,
        doc: held.doc.fork(),
        push: held.push.clone(),
    };
    let change = edit::<Flag>(&mut forged, &mgr.actor, |f| {
        f.kind = FindingKind::CreditLimit
    });
    let response = push(&server, &mgr, vec![change]).await;
    assert_eq!(response.rejected.len(), 1);
    assert_eq!(response.rejected[0].code, "flag_readonly");
    // Handling it is accepted and reaches the salesperson's laptop.
    let change = edit::<Flag>(&mut held, &mgr.actor, |f| {
        f.status = FlagStatus::Resolved;
        f.handled_by = Some("sh.mgr".into());
        f.handled_at = Some(chrono::Utc::now());
        f.note = Some("已与业务员确认".into());
    });
    push_ok(&server, &mgr, vec![change]).await;
    let seen = laptop_flags(&server, &sh1).await;
    let flag: Flag = shared::doc::read_as(&seen[0].1).expect("a flag");
    assert_eq!(flag.status, FlagStatus::Resolved);
    assert_eq!(flag.note.as_deref(), Some("已与业务员确认"));
    // Detecting the same situation again does not re-open it or write anything.
    let before = change_count(&server);
    let summary = server::flags::recheck_all(&server.state.store).expect("rechecks");
    assert_eq!(summary.flag_changes, 0);
    assert_eq!(change_count(&server), before);
    assert_eq!(flags_on(&server, q.id)[0].2, "resolved");
    server.stop().await;
}

fn approval_by(who: &str, quote: &Quotation, id: RecordId, decision: Decision) -> Approval {
    Approval {
        decision,
        by: who.into(),
        at: chrono::Utc::now(),
        fingerprint: Fingerprint::of(&quote.facts(id, None)).as_str().to_string(),
        note: None,
    }
}

fn approve(made: &mut Made, actor: &ActorId, who: &str, decision: Decision) -> PushChange {
    let id = made.id;
    edit::<Quotation>(made, actor, |q| {
        q.approval = Some(approval_by(who, q, id, decision));
        q.status = match decision {
            Decision::Approved => QuoteStatus::Approved,
            Decision::Rejected => QuoteStatus::Rejected,
        };
    })
}

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

    // A salesperson cannot approve; a region manager's 20 % does not cover 25 %.
    for (session, who, reason) in [
        (&sh2, "sh2", "discount_beyond_authority"),
        (&mgr, "sh.mgr", "discount_beyond_authority"),
    ] {
        let mut copy = Made {
            id: q.id,
            doc: q.doc.fork(),
            push: q.push.clone(),
        };
        let change = approve(&mut copy, &session.actor, who, Decision::Approved);
        let response = push(&server, session, vec![change]).await;
        assert_eq!(response.rejected.len(), 1, "{who}");
        assert_eq!(response.rejected[0].code, "approval_not_allowed");
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

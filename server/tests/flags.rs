//! Business-conflict flags end to end: a real server, changes pushed as laptops would push
//! them, flags pulled back as laptops would pull them.

mod common;

use std::collections::BTreeMap;

use common::flags::*;
use rust_decimal::Decimal;
use shared::domain::{Authorisation, Dealer, Flag, FlagStatus};
use shared::protocol::PushChange;
use shared::rules::FindingKind;

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
    // Only head office grants a dealer regions.
    let head = server.login("head").await;
    let (d1, d2) = (make(&head, &only_sh), make(&head, &both));
    let mut o1 = order(c.id, "sh1", "100");
    o1.dealer_id = Some(d1.id);
    o1.delivery_region = Some("NORTH-BJ".into());
    let mut o2 = o1.clone();
    o2.dealer_id = Some(d2.id);
    let (o1, o2) = (make(&sh1, &o1), make(&sh1, &o2));
    push_ok(&server, &head, vec![d1.push, d2.push]).await;
    push_ok(&server, &sh1, vec![c.push, o1.push, o2.push]).await;

    // One finding, one flag, filed under both regions.
    let flags = flags_on(&server, o1.id);
    assert_eq!(
        flags,
        [(
            "cross_region_sale".to_string(),
            "EAST-SH NORTH-BJ".to_string(),
            "open".to_string()
        )]
    );
    assert!(
        kinds_on(&server, o2.id).is_empty(),
        "authorised for both regions"
    );
    // Both regions' people, their managers and head office receive the same document.
    let (sh_mgr, bj_mgr, head) = (
        server.login("sh.mgr").await,
        server.login("bj.mgr").await,
        server.login("head").await,
    );
    let mut ids = Vec::new();
    for session in [&sh1, &bj1, &sh_mgr, &bj_mgr, &head] {
        let seen = laptop_flags(&server, session).await;
        assert_eq!(seen.len(), 1, "one flag, not one per region");
        ids.push(seen[0].0);
    }
    ids.dedup();
    assert_eq!(ids, [Flag::id_of_finding(&flag_key(&server, o1.id))]);
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
        assert_eq!(flags.len(), 1, "one flag for both regions: {flags:?}");
        assert_eq!(flags[0].1, "EAST-HZ EAST-SH");
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
    let (c, lone) = (
        make(&sh1, &customer("争抢客户", "EAST-SH", "sh1")),
        make(&sh1, &customer("独家客户", "EAST-SH", "sh1")),
    );
    push_ok(&server, &sh1, vec![c.push, lone.push]).await;
    // Credit limits are set by a manager, not the salesperson.
    let mgr = server.login("sh.mgr").await;
    let lim = make(&mgr, &limited);
    push_ok(&server, &mgr, vec![lim.push]).await;

    // Contested: two salespeople's quotations for one customer; one salesperson twice is fine.
    // sh2 cannot write sh1's customer's deals (rule 2), so the manager enters sh2's.
    let mgr = server.login("sh.mgr").await;
    let q1 = make(&sh1, &quotation(c.id, "sh1", "100", "0"));
    let q2 = make(&mgr, &quotation(c.id, "sh2", "100", "0"));
    let q3 = make(&sh1, &quotation(lone.id, "sh1", "100", "0"));
    let q4 = make(&sh1, &quotation(lone.id, "sh1", "100", "0"));
    push_ok(&server, &sh1, vec![q1.push, q3.push, q4.push]).await;
    push_ok(&server, &mgr, vec![q2.push]).await;
    let refused = push(
        &server,
        &sh2,
        vec![make(&sh2, &quotation(c.id, "sh2", "1", "0")).push],
    )
    .await;
    assert_eq!(refused.rejected[0].code, "out_of_scope");
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

/// A unit price below the price list is a discount (rule 3): a regular salesperson (10 %
/// authority) quoting a product listed at 100 for 50 with no stated discount is beyond
/// authority; at the list price it is not.
#[tokio::test]
async fn a_price_below_the_list_price_is_judged_as_a_discount() {
    let server = start().await;
    server
        .state
        .admin()
        .import_toml(
            "[[user]]\nname = \"admin\"\nrole = \"admin\"\nterritory = \"CN\"\npassword = \"pw-admin\"\n",
        )
        .expect("imports");
    let admin = server.login("admin").await;
    let product = shared::domain::Product {
        code: "P-1".into(),
        name: "啤酒".into(),
        spec: None,
        unit: "箱".into(),
        list_price: Decimal::from(100),
        currency: shared::money::Currency::CNY,
        created_at: chrono::Utc::now(),
        voided: None,
    };
    push_ok(&server, &admin, vec![make(&admin, &product).push]).await;
    let sh1 = server.login("sh1").await;
    let c = make(&sh1, &customer("上海甲公司", "EAST-SH", "sh1"));
    let cheap = make(&sh1, &quotation(c.id, "sh1", "50", "0"));
    let listed = make(&sh1, &quotation(c.id, "sh1", "100", "0"));
    push_ok(&server, &sh1, vec![c.push, cheap.push, listed.push]).await;
    assert!(
        kinds_on(&server, cheap.id).contains(&"beyond_authority".to_string()),
        "{:?}",
        flags_on(&server, cheap.id)
    );
    assert!(
        !kinds_on(&server, listed.id).contains(&"beyond_authority".to_string()),
        "{:?}",
        flags_on(&server, listed.id)
    );
    server.stop().await;
}

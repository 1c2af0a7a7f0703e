//! Field permissions (rules 3-5: "never trust the client's word"): a salesperson's laptop may
//! not raise its customer's credit limit, grant a dealer regions, name another salesperson on a
//! deal or mark an order paid. Each is refused with its reason and nothing is stored; a manager,
//! finance or head office making the same change is accepted.

mod common;

use common::flags::*;
use common::{Session, TestServer};
use rust_decimal::Decimal;
use shared::RecordId;
use shared::domain::{Authorisation, Customer, Dealer, Order, OrderStatus};
use shared::protocol::PushChange;

/// A finance user for the east.
const FINANCE: &str = r#"
[[user]]
name = "east.cash"
role = "finance"
territory = "EAST"
password = "pw-east.cash"
"#;

async fn start_with_finance() -> TestServer {
    let server = start().await;
    server.state.admin().import_toml(FINANCE).expect("imports");
    server
}

/// Pushes one change; the refusal's code and reason, if refused.
async fn verdict(
    server: &TestServer,
    session: &Session,
    change: PushChange,
) -> Option<(String, String)> {
    let response = push(server, session, vec![change]).await;
    response
        .rejected
        .first()
        .map(|r| (r.code.clone(), r.reason.clone()))
}

/// One column of one projection row on the server.
fn column(server: &TestServer, table: &str, column: &str, id: RecordId) -> Option<String> {
    let sql = format!("SELECT {column} FROM {table} WHERE doc_id = ?1");
    server
        .state
        .store
        .blocking(move |c| Ok(c.query_row(&sql, [id.to_string()], |r| r.get(0))?))
        .expect("queries")
}

fn has_document(server: &TestServer, id: RecordId) -> bool {
    server
        .state
        .store
        .blocking(move |c| Ok(server::store::log::document(c, &id.to_string())?.is_some()))
        .expect("queries")
}

/// A copy of the laptop's document, for a change expected to be refused.
fn fork(made: &mut Made) -> Made {
    Made {
        id: made.id,
        doc: made.doc.fork(),
        push: made.push.clone(),
    }
}

#[tokio::test]
async fn a_salesperson_cannot_raise_a_credit_limit_but_a_manager_and_finance_can() {
    let server = start_with_finance().await;
    let sh1 = server.login("sh1").await;
    let mut c = make(&sh1, &customer("上海甲公司", "EAST-SH", "sh1"));
    push_ok(&server, &sh1, vec![c.push.clone()]).await;

    let raise = |c: &mut Customer| c.credit.limit = Some(Decimal::from(99_999_999));
    let own = edit::<Customer>(&mut fork(&mut c), &sh1.actor, raise);
    let (code, reason) = verdict(&server, &sh1, own).await.expect("refused");
    assert_eq!(code, "field_not_permitted");
    assert!(
        reason.contains("credit.limit") && reason.contains("业务员"),
        "{reason}"
    );
    assert_eq!(column(&server, "customers", "credit_limit", c.id), None);
    // A new customer cannot bring a limit with it either.
    let mut limited = customer("上海乙公司", "EAST-SH", "sh1");
    limited.credit.limit = Some(Decimal::from(50_000));
    let new = make(&sh1, &limited);
    let (code, _) = verdict(&server, &sh1, new.push.clone())
        .await
        .expect("refused");
    assert_eq!(code, "field_not_permitted");
    assert!(!has_document(&server, new.id), "nothing stored");

    let mgr = server.login("sh.mgr").await;
    let by_manager = edit::<Customer>(&mut c, &mgr.actor, |c| {
        c.credit.limit = Some(Decimal::from(100_000));
    });
    push_ok(&server, &mgr, vec![by_manager]).await;
    assert_eq!(
        column(&server, "customers", "credit_limit", c.id).as_deref(),
        Some("100000")
    );
    let cash = server.login("east.cash").await;
    let by_finance = edit::<Customer>(&mut c, &cash.actor, |c| {
        c.credit.limit = Some(Decimal::from(80_000));
        c.credit.rating = Some("A".into());
    });
    push_ok(&server, &cash, vec![by_finance]).await;
    // Finance writes only financial fields.
    let renamed = edit::<Customer>(&mut fork(&mut c), &cash.actor, |c| c.name = "改名".into());
    let (code, _) = verdict(&server, &cash, renamed).await.expect("refused");
    assert_eq!(code, "field_not_permitted");
    // The salesperson's other edits still go through.
    let phone = edit::<Customer>(&mut c, &sh1.actor, |c| {
        c.basics.phone = Some("021-5555".into());
    });
    push_ok(&server, &sh1, vec![phone]).await;
    assert_eq!(
        column(&server, "customers", "credit_limit", c.id).as_deref(),
        Some("80000")
    );
    server.stop().await;
}

#[tokio::test]
async fn only_head_office_grants_a_dealer_regions() {
    let server = start().await;
    let sh1 = server.login("sh1").await;
    // Dealers are the office's: read-only to salespeople (rule 2), recorded by the manager.
    let mgr = server.login("sh.mgr").await;
    let mut dealer = Dealer::new("沪经销", chrono::Utc::now());
    dealer.region = Some("EAST-SH".into());
    let mut d = make(&mgr, &dealer);
    push_ok(&server, &mgr, vec![d.push.clone()]).await;

    let grant = |d: &mut Dealer| {
        d.authorised_regions
            .insert("NORTH-BJ".into(), Authorisation { since: None });
    };
    let change = edit::<Dealer>(&mut fork(&mut d), &sh1.actor, grant);
    let (code, _) = verdict(&server, &sh1, change).await.expect("refused");
    assert_eq!(code, "out_of_scope");
    for who in ["sh.mgr", "east.boss"] {
        let session = server.login(who).await;
        let change = edit::<Dealer>(&mut fork(&mut d), &session.actor, grant);
        let (code, reason) = verdict(&server, &session, change).await.expect("refused");
        assert_eq!(code, "field_not_permitted", "{who}");
        assert!(reason.contains("authorised_regions"), "{reason}");
    }
    assert_eq!(
        column(&server, "dealers", "authorised_regions", d.id).as_deref(),
        Some("")
    );
    let head = server.login("head").await;
    let by_head = edit::<Dealer>(&mut d, &head.actor, grant);
    push_ok(&server, &head, vec![by_head]).await;
    assert_eq!(
        column(&server, "dealers", "authorised_regions", d.id).as_deref(),
        Some("NORTH-BJ")
    );
    server.stop().await;
}

#[tokio::test]
async fn a_deal_names_its_author_or_a_manager_assigns_it() {
    let server = start().await;
    let sh1 = server.login("sh1").await;
    let c = make(&sh1, &customer("上海甲公司", "EAST-SH", "sh1"));
    push_ok(&server, &sh1, vec![c.push]).await;

    let theirs = make(&sh1, &quotation(c.id, "sh2", "100", "0"));
    let (code, reason) = verdict(&server, &sh1, theirs.push.clone())
        .await
        .expect("refused");
    assert_eq!(code, "not_your_name");
    assert!(reason.contains("sh2"), "{reason}");
    assert!(!has_document(&server, theirs.id), "nothing stored");

    let mut mine = make(&sh1, &order(c.id, "sh1", "100"));
    push_ok(&server, &sh1, vec![mine.push.clone()]).await;
    let handed = edit::<Order>(&mut fork(&mut mine), &sh1.actor, |o| {
        o.salesperson = "sh2".into()
    });
    let (code, _) = verdict(&server, &sh1, handed).await.expect("refused");
    assert_eq!(code, "not_your_name");
    assert_eq!(
        column(&server, "orders", "salesperson", mine.id).as_deref(),
        Some("sh1")
    );

    let mgr = server.login("sh.mgr").await;
    let assigned = edit::<Order>(&mut mine, &mgr.actor, |o| o.salesperson = "sh2".into());
    push_ok(&server, &mgr, vec![assigned]).await;
    assert_eq!(
        column(&server, "orders", "salesperson", mine.id).as_deref(),
        Some("sh2")
    );
    server.stop().await;
}

#[tokio::test]
async fn only_finance_marks_an_order_paid() {
    let server = start_with_finance().await;
    let sh1 = server.login("sh1").await;
    let c = make(&sh1, &customer("上海甲公司", "EAST-SH", "sh1"));
    let mut o = make(&sh1, &order(c.id, "sh1", "100"));
    push_ok(&server, &sh1, vec![c.push, o.push.clone()]).await;
    let invoiced = edit::<Order>(&mut o, &sh1.actor, |o| o.status = OrderStatus::Invoiced);
    push_ok(&server, &sh1, vec![invoiced]).await;

    let paid = |o: &mut Order| o.status = OrderStatus::Paid;
    for who in ["sh1", "sh.mgr", "east.boss"] {
        let session = server.login(who).await;
        let change = edit::<Order>(&mut fork(&mut o), &session.actor, paid);
        let (code, reason) = verdict(&server, &session, change).await.expect("refused");
        assert_eq!(code, "paid_by_finance", "{who}");
        assert!(reason.contains("财务"), "{reason}");
    }
    assert_eq!(
        column(&server, "orders", "status", o.id).as_deref(),
        Some("invoiced")
    );
    let cash = server.login("east.cash").await;
    let by_finance = edit::<Order>(&mut o, &cash.actor, paid);
    push_ok(&server, &cash, vec![by_finance]).await;
    assert_eq!(
        column(&server, "orders", "status", o.id).as_deref(),
        Some("paid")
    );
    server.stop().await;
}

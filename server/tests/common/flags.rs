//! Helpers for the flag and approval tests: laptops making records, the server's flags.

use std::collections::BTreeMap;

use automerge::{ActorId, AutoCommit};
use rust_decimal::Decimal;
use shared::RecordId;
use shared::doc::CommitMeta;
use shared::domain::{
    Approval, Customer, Decision, Flag, Line, Order, OrderStatus, Quotation, QuoteStatus,
};
use shared::money::Currency;
use shared::protocol::{PushChange, SyncResponse};
use shared::record::RecordType;
use shared::rules::authority::Fingerprint;

use super::{Session, TestServer, last_change};

/// Region managers and grades on top of the common organisation.
pub const MANAGERS: &str = r#"
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

pub async fn start() -> TestServer {
    let server = TestServer::start().await;
    server.state.admin().import_toml(MANAGERS).expect("imports");
    server
}

/// A document made on a laptop, with the change to push.
pub struct Made {
    /// The record id.
    pub id: RecordId,
    /// The laptop's copy of the document.
    pub doc: AutoCommit,
    /// The change to push.
    pub push: PushChange,
}

pub fn make<T: RecordType>(session: &Session, record: &T) -> Made {
    let id = RecordId::new();
    let mut doc = shared::doc::create(&session.actor, id, record, &CommitMeta::now("create"))
        .expect("creates");
    let push = last_change(&mut doc, id);
    Made { id, doc, push }
}

/// Edits a record on the laptop holding `doc`; returns the change.
pub fn edit<T: RecordType>(made: &mut Made, actor: &ActorId, f: impl FnOnce(&mut T)) -> PushChange {
    made.doc.set_actor(actor.clone());
    let mut record: T = shared::doc::read_as(&made.doc).expect("reads");
    f(&mut record);
    shared::doc::update(&mut made.doc, &record, &CommitMeta::now("edit"))
        .expect("updates")
        .expect("changed");
    last_change(&mut made.doc, made.id)
}

/// Pushes changes without pulling anything back.
pub async fn push(
    server: &TestServer,
    session: &Session,
    changes: Vec<PushChange>,
) -> SyncResponse {
    server.sync(session, i64::MAX as u64, changes, 1).await
}

pub async fn push_ok(server: &TestServer, session: &Session, changes: Vec<PushChange>) {
    let response = push(server, session, changes).await;
    assert!(response.rejected.is_empty(), "{:?}", response.rejected);
}

pub fn customer(name: &str, region: &str, salesperson: &str) -> Customer {
    let mut c = Customer::new(name, chrono::Utc::now());
    c.region = Some(region.into());
    c.salesperson = Some(salesperson.into());
    c
}

pub fn lines(price: &str, discount: &str) -> BTreeMap<String, Line> {
    BTreeMap::from([(
        "l1".to_string(),
        Line {
            product: "P-1".into(),
            description: None,
            quantity: Decimal::ONE,
            unit_price: price.parse().expect("price"),
            discount_pct: discount.parse().expect("discount"),
            position: 1024,
            batch: None,
        },
    )])
}

pub fn quotation(customer: RecordId, salesperson: &str, price: &str, discount: &str) -> Quotation {
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

pub fn order(customer: RecordId, salesperson: &str, price: &str) -> Order {
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

/// The server's live flags (kind, territory, status) whose records include `record`.
pub fn flags_on(server: &TestServer, record: RecordId) -> Vec<(String, String, String)> {
    server
        .state
        .store
        .blocking(|c| {
            let mut stmt = c.prepare(
                "SELECT f.kind, d.territory, f.status FROM flags f
                 JOIN documents d ON d.doc_id = f.doc_id
                 WHERE f.records LIKE '%' || ?1 || '%' AND f.voided = 0
                 ORDER BY f.kind, d.territory",
            )?;
            let rows = stmt.query_map([record.to_string()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .expect("queries")
}

/// The key of the one flag whose records include `record`.
pub fn flag_key(server: &TestServer, record: RecordId) -> String {
    server
        .state
        .store
        .blocking(|c| {
            Ok(c.query_row(
                "SELECT key FROM flags WHERE records LIKE '%' || ?1 || '%' AND voided = 0",
                [record.to_string()],
                |r| r.get(0),
            )?)
        })
        .expect("one flag")
}

pub fn kinds_on(server: &TestServer, record: RecordId) -> Vec<String> {
    let mut kinds: Vec<String> = flags_on(server, record).into_iter().map(|f| f.0).collect();
    kinds.dedup();
    kinds
}

/// Every flag a user's laptop receives, rebuilt from a full pull, with the documents.
pub async fn laptop_flags(server: &TestServer, session: &Session) -> Vec<(RecordId, AutoCommit)> {
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

pub fn change_count(server: &TestServer) -> u64 {
    server
        .state
        .store
        .blocking(|c| server::store::log::change_count(c))
        .expect("counts")
}

pub fn approval_by(who: &str, quote: &Quotation, id: RecordId, decision: Decision) -> Approval {
    Approval {
        decision,
        by: who.into(),
        at: chrono::Utc::now(),
        fingerprint: Fingerprint::of(&quote.facts(id, None)).as_str().to_string(),
        note: None,
    }
}

pub fn approve(made: &mut Made, actor: &ActorId, who: &str, decision: Decision) -> PushChange {
    let id = made.id;
    edit::<Quotation>(made, actor, |q| {
        q.approval = Some(approval_by(who, q, id, decision));
        q.status = match decision {
            Decision::Approved => QuoteStatus::Approved,
            Decision::Rejected => QuoteStatus::Rejected,
        };
    })
}

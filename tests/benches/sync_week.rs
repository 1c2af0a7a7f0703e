//! Scenario benchmark: one salesperson's week offline, then one sync.
//!
//! A real server (in-process, tokio, port 0, temporary SQLite) holds a territory of about 11,000
//! documents that the benchmark laptop already holds. The laptop then works a week offline
//! (125 new visits, 50 new quotations of 5 lines, 25 new orders, 75 edits to existing customers)
//! while another salesperson of the same territory pushes about 300 changes. Only the laptop's
//! final `client::sync::sync` is measured: round trips, messages, bytes up and down on the wire.
//!
//! Beside it, from the same run:
//! - the floor: the changes that had to cross, concatenated raw in one envelope per direction
//!   and compressed with zstd level 3 (as the client and server compress);
//! - Automerge's own per-document sync protocol over every document (one `sync::State` per
//!   document on each side, all documents' messages of a round batched into one exchange).
//!
//! ```text
//! cargo bench -p fieldsync-tests --bench sync_week                 # readable table
//! cargo bench -p fieldsync-tests --bench sync_week -- --json       # one JSON object
//! cargo bench -p fieldsync-tests --bench sync_week -- --docs 500   # a quick, smaller territory
//! ```
//!
//! Territory mix (scaled by `--docs`, default 11,000): 2/11 customers, 6/11 visits, 2/11
//! quotations (5 lines each), the rest orders (made from quotations) — 2,000 / 6,000 / 2,000 /
//! 1,000 at the default size. Each seeded document has the history of its creating change only.
//! The other salesperson's ~300 changes: 120 new visits, 30 new quotations, 10 new orders,
//! 100 customer edits and 40 visit edits.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use automerge::AutoCommit;
use automerge::sync::{self, SyncDoc};
use chrono::{Duration as Days, Utc};
use client::Store;
use client::store::Outgoing;
use client::sync::{Http, SyncOptions, SyncReport};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use server::{AppState, Config};
use shared::RecordId;
use shared::domain::{
    Contact, Customer, CustomerKind, Grade, Lifecycle, Line, Order, OrderStatus, Quotation,
    QuoteStatus, StockSeen, Visit,
};
use shared::protocol::{
    self, ActorInfo, PROTOCOL_VERSION, PullChange, PushChange, SyncRequest, SyncResponse,
};

/// The organisation: one office with two salespeople.
const ORG: &str = r#"
[[territory]]
code = "CN"
name = "公司总部"
[[territory]]
code = "EAST"
name = "华东大区"
parent = "CN"
[[territory]]
code = "EAST-SH"
name = "上海办事处"
parent = "EAST"

[[user]]
name = "sh1"
role = "salesperson"
territory = "EAST-SH"
password = "pw-sh1"
[[user]]
name = "sh2"
role = "salesperson"
territory = "EAST-SH"
password = "pw-sh2"
"#;

const TERRITORY: &str = "EAST-SH";

/// The week: what the benchmark laptop does offline.
const WEEK_VISITS: usize = 125;
const WEEK_QUOTES: usize = 50;
const WEEK_ORDERS: usize = 25;
const WEEK_CUSTOMER_EDITS: usize = 75;

/// The other salesperson's changes meanwhile (300 in all).
const OTHER_VISITS: usize = 120;
const OTHER_QUOTES: usize = 30;
const OTHER_ORDERS: usize = 10;
const OTHER_CUSTOMER_EDITS: usize = 100;
const OTHER_VISIT_EDITS: usize = 40;

const LINES_PER_QUOTE: usize = 5;

/// Push budget for seeding only (the measured sync uses the client's defaults).
const SEED_PUSH_BUDGET: usize = 8 * 1024 * 1024;

/// Command-line options.
struct Args {
    docs: usize,
    json: bool,
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        docs: 11_000,
        json: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--json" => args.json = true,
            "--docs" => {
                let n = it.next().context("--docs needs a number")?;
                args.docs = n.parse().context("--docs needs a number")?;
            }
            other if other.starts_with("--docs=") => {
                args.docs = other["--docs=".len()..]
                    .parse()
                    .context("--docs needs a number")?;
            }
            // `cargo bench` passes `--bench`; filters and other harness flags mean nothing here.
            _ => {}
        }
    }
    if args.docs < 22 {
        bail!("--docs must be at least 22");
    }
    Ok(args)
}

/// A small deterministic generator (xorshift64*), so every run makes the same kind of week.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// `n` distinct items when there are enough, else with repeats.
    fn sample<T: Clone>(&mut self, items: &[T], n: usize) -> Vec<T> {
        let mut pool: Vec<T> = items.to_vec();
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            if pool.is_empty() {
                pool = items.to_vec();
            }
            let i = self.below(pool.len());
            out.push(pool.swap_remove(i));
        }
        out
    }
}

const STREETS: &[&str] = &[
    "南京西路",
    "淮海中路",
    "四川北路",
    "漕溪北路",
    "张杨路",
    "曹杨路",
    "长寿路",
    "虹桥路",
];
const PRODUCTS: &[(&str, &str, i64)] = &[
    ("BEER-500ML", "纯生啤酒 500ml×12", 6_800),
    ("BEER-330ML", "经典啤酒 330ml×24", 7_200),
    ("TEA-GREEN", "绿茶饮料 500ml×15", 4_500),
    ("WATER-550", "矿泉水 550ml×24", 2_400),
    ("JUICE-OJ", "橙汁 1L×6", 5_900),
    ("COLA-2L", "可乐 2L×6", 3_300),
];
const PURPOSES: &[&str] = &[
    "例行拜访，检查陈列与库存",
    "新品推介，洽谈进货",
    "回款催收，核对对账单",
    "处理客户投诉：破损与退换货",
    "节前备货沟通",
];
const OUTCOMES: &[&str] = &[
    "客户同意下周补货，陈列已整改",
    "老板不在，约定周四再访",
    "对价格有异议，需申请特价",
    "已收回部分货款，余款月底结清",
    "竞品促销力度大，客户观望",
];

fn customer(i: usize, salesperson: &str, rng: &mut Rng) -> Customer {
    let mut c = Customer::new(format!("上海{i:05}商贸有限公司"), Utc::now());
    c.region = Some(TERRITORY.to_string());
    c.salesperson = Some(salesperson.to_string());
    c.basics.address = Some(format!(
        "上海市{}{}号",
        rng.pick(STREETS),
        1 + rng.below(1500)
    ));
    c.basics.phone = Some(format!("021-{:08}", rng.next() % 100_000_000));
    c.basics.owner = Some(format!(
        "王{}",
        ["伟", "芳", "强", "敏", "磊"][rng.below(5)]
    ));
    c.basics.industry = Some("食品饮料批发零售".to_string());
    c.kind = [
        CustomerKind::Retailer,
        CustomerKind::Wholesaler,
        CustomerKind::Chain,
    ][rng.below(3)];
    c.grade = [Grade::Key, Grade::General, Grade::Occasional][rng.below(3)];
    c.lifecycle = Lifecycle::Active;
    c.route = Some(rng.below(400) as u64);
    c.credit.payment_terms = Some("月结30天".to_string());
    c.credit.limit = Some(Decimal::new(50_000 + (rng.below(20) as i64) * 10_000, 0));
    c.contacts.insert(
        shared::domain::new_item_key(),
        Contact {
            name: format!("李{}", ["娜", "静", "军", "洋"][rng.below(4)]),
            title: Some("采购经理".to_string()),
            phone: Some(format!("139{:08}", rng.next() % 100_000_000)),
            email: None,
        },
    );
    c
}

fn visit(customer_id: RecordId, salesperson: &str, store: &Store, rng: &mut Rng) -> Visit {
    let now = Utc::now();
    let mut v = Visit::new(
        customer_id,
        salesperson.to_string(),
        store.device().time_zone,
        now,
    );
    v.actual_at = Some(now - Days::minutes(rng.below(600) as i64));
    v.place = Some(format!("门店：{}", rng.pick(STREETS)));
    v.purpose = Some(rng.pick(PURPOSES).to_string());
    v.people_met = Some("店长、采购".to_string());
    v.outcome = Some(rng.pick(OUTCOMES).to_string());
    v.next_step = Some("下周二电话跟进".to_string());
    v.follow_up = Some((now + Days::days(7)).date_naive());
    for k in 0..1 + rng.below(2) {
        let (code, _, _) = rng.pick(PRODUCTS);
        v.stock_seen.insert(
            shared::domain::new_item_key(),
            StockSeen {
                product: (*code).to_string(),
                code: Some(format!("B{}", 240_000 + rng.below(9_999))),
                quantity: Decimal::new(1 + rng.below(80) as i64, 0),
                position: (k as i64 + 1) * shared::domain::POSITION_STEP,
            },
        );
    }
    v
}

/// A quotation of five lines. Built through serde rather than a struct literal, so that fields
/// added later as `Option`s (absent means `None`) do not break the benchmark.
fn quotation(
    n: usize,
    customer_id: RecordId,
    salesperson: &str,
    rng: &mut Rng,
) -> Result<Quotation> {
    let now = Utc::now();
    let mut lines = BTreeMap::new();
    for k in 0..LINES_PER_QUOTE {
        let (code, description, price) = rng.pick(PRODUCTS);
        lines.insert(
            shared::domain::new_item_key(),
            Line {
                product: (*code).to_string(),
                description: Some((*description).to_string()),
                quantity: Decimal::new(10 + rng.below(200) as i64, 0),
                unit_price: Decimal::new(*price, 2),
                discount_pct: Decimal::new(rng.below(4) as i64 * 25, 1),
                position: (k as i64 + 1) * shared::domain::POSITION_STEP,
                batch: None,
            },
        );
    }
    let value = json!({
        "number": format!("Q-{}-{n:05}", now.format("%Y%m%d")),
        "customer_id": customer_id,
        "salesperson": salesperson,
        "currency": shared::money::Currency::CNY,
        "lines": lines,
        "valid_until": (now + Days::days(30)).date_naive(),
        "delivery_terms": "送货上门，运费我方承担",
        "payment_terms": "月结30天",
        "status": QuoteStatus::Draft,
        "notes": null,
        "created_at": now,
        "voided": null,
    });
    serde_json::from_value(value).context("building a quotation")
}

fn order(n: usize, quotation_id: RecordId, quote: &Quotation, salesperson: &str) -> Order {
    let now = Utc::now();
    let mut o = Order::from_quotation(
        quotation_id,
        quote,
        format!("O-{}-{n:05}", now.format("%Y%m%d")),
        salesperson.to_string(),
        now,
    );
    o.status = OrderStatus::Confirmed;
    o.delivery_deadline = Some((now + Days::days(10)).date_naive());
    o.shipping = Some("汽运，我方承担运费".to_string());
    o
}

/// The records one laptop made, by kind.
#[derive(Default)]
struct Made {
    customers: Vec<RecordId>,
    visits: Vec<RecordId>,
    quotes: Vec<(RecordId, Quotation)>,
    orders: Vec<RecordId>,
}

/// The in-process server.
struct Running {
    url: String,
    db_path: PathBuf,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

fn start_server(rt: &tokio::runtime::Runtime, dir: &Path) -> Result<Running> {
    let config = Config {
        db_path: dir.join("server.db"),
        ..Config::default()
    };
    let state = AppState::open(&config).context("opening the server state")?;
    state
        .admin()
        .import_toml(ORG)
        .context("importing the organisation")?;
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .context("binding port 0")?;
    let url = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = rt.spawn(async move {
        let served = server::serve(listener, state, async {
            let _ = stopped.await;
        })
        .await;
        if let Err(e) = served {
            eprintln!("server stopped with an error: {e}");
        }
    });
    Ok(Running {
        url,
        db_path: config.db_path,
        stop,
        task,
    })
}

/// Opens a laptop store and signs it in, as `fieldsync login` does.
fn laptop(home: &Path, url: &str, user: &str) -> Result<(Store, Http)> {
    let mut store = Store::open_home(home)?;
    let http = Http::new(url)?;
    let device = format!("{user}-laptop");
    let actor = store.device().actor.to_hex_string();
    let reply = http.login(user, &format!("pw-{user}"), &device, &actor)?;
    let tz = store.device().time_zone;
    store.set_identity(&reply.user, &device, tz)?;
    store.set_meta("server", url)?;
    store.set_meta("token", &reply.token)?;
    Ok((store, http))
}

fn sync_checked(store: &mut Store, http: &Http, options: &SyncOptions) -> Result<SyncReport> {
    let report = client::sync::sync(store, http, options, |_| {})?;
    if report.rejected > 0 {
        bail!("the server refused {} changes", report.rejected);
    }
    Ok(report)
}

/// Seeds the territory from one seeding laptop (the other salesperson's).
fn seed(store: &mut Store, docs: usize, rng: &mut Rng) -> Result<Made> {
    let customers = docs * 2 / 11;
    let visits = docs * 6 / 11;
    let quotes = docs * 2 / 11;
    let orders = docs - customers - visits - quotes;
    let mut made = Made::default();
    for i in 0..customers {
        made.customers
            .push(store.create(&customer(i, "sh1", rng), "create customer")?);
    }
    for _ in 0..visits {
        let c = *rng.pick(&made.customers);
        let v = visit(c, "sh2", store, rng);
        made.visits.push(store.create(&v, "create visit")?);
    }
    for n in 0..quotes {
        let c = *rng.pick(&made.customers);
        let q = quotation(n, c, "sh2", rng)?;
        let id = store.create(&q, "create quotation")?;
        made.quotes.push((id, q));
    }
    for n in 0..orders {
        let (qid, q) = made.quotes[n % made.quotes.len()].clone();
        made.orders
            .push(store.create(&order(n, qid, &q, "sh2"), "create order")?);
    }
    Ok(made)
}

/// Every document a laptop holds, as bytes Automerge can load (snapshot then changes).
fn laptop_documents(store: &Store) -> Result<BTreeMap<String, Vec<u8>>> {
    let conn = rusqlite::Connection::open_with_flags(
        store.path(),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )?;
    let mut out: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut docs = conn.prepare("SELECT doc_id, snapshot FROM documents")?;
    for row in docs.query_map([], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
    })? {
        let (id, snapshot) = row?;
        out.insert(id, snapshot);
    }
    let mut changes = conn.prepare("SELECT doc_id, bytes FROM doc_changes ORDER BY id")?;
    for row in changes.query_map([], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
    })? {
        let (id, bytes) = row?;
        if let Some(doc) = out.get_mut(&id) {
            doc.extend_from_slice(&bytes);
        }
    }
    Ok(out)
}

/// Every document the server holds in the territory: its stored snapshots.
fn server_documents(db_path: &Path) -> Result<BTreeMap<String, Vec<u8>>> {
    let conn =
        rusqlite::Connection::open_with_flags(db_path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut statement =
        conn.prepare("SELECT doc_id, snapshot FROM documents WHERE territory = ?1")?;
    let rows = statement.query_map([TERRITORY], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Changes concatenated raw and compressed like the wire: (raw bytes, compressed bytes).
fn envelope(changes: &[Vec<u8>]) -> Result<(u64, u64)> {
    let raw: Vec<u8> = changes.concat();
    let compressed = zstd::encode_all(raw.as_slice(), 3)?;
    Ok((raw.len() as u64, compressed.len() as u64))
}

/// Where our bytes go: the measured request and response rebuilt from the same data (they
/// compress to the measured sizes when the rebuild is faithful), then without the
/// acknowledgements, and the floor with each change's document id beside it.
struct Breakdown {
    request: u64,
    response: u64,
    response_without_acks: u64,
    floor_with_ids_up: u64,
    floor_with_ids_down: u64,
    /// Every change the laptop had to receive: the other salesperson's and any the server itself
    /// wrote meanwhile (its flags), in log order.
    down_changes: Vec<Vec<u8>>,
}

fn zstd_len(bytes: &[u8]) -> Result<u64> {
    Ok(zstd::encode_all(bytes, 3)?.len() as u64)
}

fn breakdown(db_path: &Path, outbox: &[Outgoing], cursor: u64) -> Result<Breakdown> {
    let request = SyncRequest {
        protocol: PROTOCOL_VERSION,
        cursor,
        push: outbox
            .iter()
            .map(|o| PushChange {
                doc_id: o.doc_id,
                bytes: o.bytes.clone(),
            })
            .collect(),
        pull_budget: SyncOptions::default().pull_budget,
    };
    let conn =
        rusqlite::Connection::open_with_flags(db_path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut statement = conn.prepare(
        "SELECT seq, doc_id, bytes FROM changes
         WHERE seq > ?1 AND bytes IS NOT NULL AND user <> 'sh1' ORDER BY seq",
    )?;
    let mut changes = Vec::new();
    for row in statement.query_map([cursor as i64], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Vec<u8>>(2)?,
        ))
    })? {
        let (seq, doc_id, bytes) = row?;
        changes.push(PullChange {
            seq: seq as u64,
            doc_id: doc_id.parse().context("a document id")?,
            bytes,
        });
    }
    let last: i64 = conn.query_row("SELECT MAX(seq) FROM changes", [], |r| r.get(0))?;
    // The actor directory the server sends beside the changes: who wrote the pulled documents.
    let docs: BTreeSet<String> = changes.iter().map(|c| c.doc_id.to_string()).collect();
    let mut who = conn.prepare(
        "SELECT DISTINCT d.actor, d.user, d.device FROM changes c
         JOIN devices d ON d.actor = c.actor WHERE c.doc_id = ?1",
    )?;
    let mut actors = BTreeSet::new();
    for doc in &docs {
        for row in who.query_map([doc], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })? {
            actors.insert(row?);
        }
    }
    let mut response = SyncResponse {
        acked: u32::try_from(outbox.len())?,
        rejected: Vec::new(),
        changes,
        purge: Vec::new(),
        next_cursor: last as u64,
        more: false,
        actors: actors
            .into_iter()
            .map(|(actor, user, device)| ActorInfo {
                actor,
                user,
                device,
            })
            .collect(),
    };
    let with_ids = |items: &mut dyn Iterator<Item = (RecordId, &Vec<u8>)>| -> Result<u64> {
        let mut framed = Vec::new();
        for (id, bytes) in items {
            framed.extend_from_slice(id.as_uuid().as_bytes());
            framed.extend_from_slice(bytes);
        }
        zstd_len(&framed)
    };
    let floor_with_ids_up = with_ids(&mut outbox.iter().map(|o| (o.doc_id, &o.bytes)))?;
    let floor_with_ids_down = with_ids(&mut response.changes.iter().map(|c| (c.doc_id, &c.bytes)))?;
    let response_len = zstd_len(&protocol::encode(&response))?;
    let down_changes = response.changes.iter().map(|c| c.bytes.clone()).collect();
    response.acked = 0;
    Ok(Breakdown {
        request: zstd_len(&protocol::encode(&request))?,
        response: response_len,
        response_without_acks: zstd_len(&protocol::encode(&response))?,
        floor_with_ids_up,
        floor_with_ids_down,
        down_changes,
    })
}

/// Persisted sync states by document: (laptop's, server's), as `State::encode` writes them.
type States = HashMap<String, (Vec<u8>, Vec<u8>)>;

/// One document on both sides of Automerge's per-document protocol.
struct Pair {
    id: [u8; 16],
    laptop: AutoCommit,
    server: AutoCommit,
    laptop_state: sync::State,
    server_state: sync::State,
}

/// What the per-document protocol cost.
#[derive(Default)]
struct PerDoc {
    documents: u64,
    round_trips: u64,
    messages_up: u64,
    messages_down: u64,
    raw_up: u64,
    raw_down: u64,
    batched_up: u64,
    batched_down: u64,
    converged: bool,
}

impl PerDoc {
    fn messages(&self) -> u64 {
        self.messages_up + self.messages_down
    }
    fn raw(&self) -> u64 {
        self.raw_up + self.raw_down
    }
    fn batched(&self) -> u64 {
        self.batched_up + self.batched_down
    }
    fn json(&self) -> Value {
        json!({
            "documents": self.documents,
            "round_trips": self.round_trips,
            "messages": self.messages(),
            "messages_up": self.messages_up,
            "messages_down": self.messages_down,
            "bytes_raw_up": self.raw_up,
            "bytes_raw_down": self.raw_down,
            "bytes_raw": self.raw(),
            "bytes_batched_zstd_up": self.batched_up,
            "bytes_batched_zstd_down": self.batched_down,
            "bytes_batched_zstd": self.batched(),
            "converged": self.converged,
        })
    }
}

fn load(bytes: Option<&Vec<u8>>) -> Result<AutoCommit> {
    match bytes {
        Some(bytes) => AutoCommit::load(bytes).context("loading a document"),
        None => Ok(AutoCommit::new()),
    }
}

fn doc_key(id: &str) -> Result<[u8; 16]> {
    let id: RecordId = id.parse().context("a document id")?;
    Ok(*id.as_uuid().as_bytes())
}

/// Builds both sides for every document either side holds. A document only one side holds is
/// an empty document on the other (the per-document protocol needs some list of documents to
/// run over; giving it the union for free is generous to it).
fn pairs(
    laptop: &BTreeMap<String, Vec<u8>>,
    server: &BTreeMap<String, Vec<u8>>,
    states: &States,
) -> Result<Vec<Pair>> {
    let ids: BTreeSet<&String> = laptop.keys().chain(server.keys()).collect();
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let (laptop_state, server_state) = match states.get(id) {
            Some((l, s)) => (
                sync::State::decode(l).context("decoding a sync state")?,
                sync::State::decode(s).context("decoding a sync state")?,
            ),
            None => (sync::State::new(), sync::State::new()),
        };
        out.push(Pair {
            id: doc_key(id)?,
            laptop: load(laptop.get(id))?,
            server: load(server.get(id))?,
            laptop_state,
            server_state,
        });
    }
    Ok(out)
}

/// One direction's batch: each message framed by its document id and length, then zstd.
fn batch_size(messages: &[(usize, Vec<u8>)], pairs: &[Pair]) -> Result<u64> {
    let mut framed = Vec::new();
    for (i, bytes) in messages {
        framed.extend_from_slice(&pairs[*i].id);
        framed.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        framed.extend_from_slice(bytes);
    }
    Ok(zstd::encode_all(framed.as_slice(), 3)?.len() as u64)
}

/// Runs Automerge's per-document sync over all pairs until both sides are quiet. Each round is
/// one round trip: the laptop's messages for every document in one request, the server's
/// answers for every document in one response.
fn per_document(pairs: &mut [Pair]) -> Result<PerDoc> {
    let mut figures = PerDoc {
        documents: pairs.len() as u64,
        ..PerDoc::default()
    };
    loop {
        let mut up = Vec::new();
        for (i, p) in pairs.iter_mut().enumerate() {
            if let Some(m) = p.laptop.sync().generate_sync_message(&mut p.laptop_state) {
                up.push((i, m.encode()));
            }
        }
        for (i, bytes) in &up {
            let p = &mut pairs[*i];
            let message = sync::Message::decode(bytes).context("decoding a sync message")?;
            p.server
                .sync()
                .receive_sync_message(&mut p.server_state, message)?;
        }
        let mut down = Vec::new();
        for (i, p) in pairs.iter_mut().enumerate() {
            if let Some(m) = p.server.sync().generate_sync_message(&mut p.server_state) {
                down.push((i, m.encode()));
            }
        }
        for (i, bytes) in &down {
            let p = &mut pairs[*i];
            let message = sync::Message::decode(bytes).context("decoding a sync message")?;
            p.laptop
                .sync()
                .receive_sync_message(&mut p.laptop_state, message)?;
        }
        if up.is_empty() && down.is_empty() {
            break;
        }
        figures.round_trips += 1;
        figures.messages_up += up.len() as u64;
        figures.messages_down += down.len() as u64;
        figures.raw_up += up.iter().map(|(_, b)| b.len() as u64).sum::<u64>();
        figures.raw_down += down.iter().map(|(_, b)| b.len() as u64).sum::<u64>();
        if !up.is_empty() {
            figures.batched_up += batch_size(&up, pairs)?;
        }
        if !down.is_empty() {
            figures.batched_down += batch_size(&down, pairs)?;
        }
        if figures.round_trips > 50 {
            bail!("the per-document protocol did not settle in 50 rounds");
        }
    }
    figures.converged = pairs
        .iter_mut()
        .all(|p| p.laptop.get_heads() == p.server.get_heads());
    Ok(figures)
}

/// Sync states both sides would have persisted after a per-document sync of the pre-week
/// documents (identical on both sides then), saved with `State::encode` as an app would.
fn primed_states(pre_week: &BTreeMap<String, Vec<u8>>) -> Result<States> {
    let mut primed = pairs(pre_week, pre_week, &HashMap::new())?;
    per_document(&mut primed)?;
    let ids: Vec<&String> = pre_week.keys().collect();
    Ok(ids
        .into_iter()
        .zip(primed.iter())
        .map(|(id, p)| {
            (
                id.clone(),
                (p.laptop_state.encode(), p.server_state.encode()),
            )
        })
        .collect())
}

/// Progress goes to standard error, so that `--json` leaves standard output one JSON object.
fn log(started: Instant, message: &str) {
    eprintln!("[{:>6.1}s] {message}", started.elapsed().as_secs_f64());
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        f64::INFINITY
    } else {
        a as f64 / b as f64
    }
}

fn main() -> Result<()> {
    let args = parse_args()?;
    let started = Instant::now();
    let say = |m: &str| log(started, m);
    let dir = tempfile::tempdir()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let server = start_server(&rt, dir.path())?;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);

    // --- Setup, not measured: the territory, seeded by the other salesperson's laptop. ---
    let (mut other, other_http) = laptop(&dir.path().join("sh2"), &server.url, "sh2")?;
    let seeding = SyncOptions {
        push_budget: SEED_PUSH_BUDGET,
        ..SyncOptions::default()
    };
    let seeded = seed(&mut other, args.docs, &mut rng)?;
    say(&format!("seeding laptop made {} documents", args.docs));
    let report = sync_checked(&mut other, &other_http, &seeding)?;
    say(&format!(
        "seeding laptop pushed {} changes in {} round trips",
        report.pushed, report.round_trips
    ));

    // The benchmark laptop's initial sync: it now holds the whole territory.
    let (mut bench, bench_http) = laptop(&dir.path().join("sh1"), &server.url, "sh1")?;
    let report = sync_checked(&mut bench, &bench_http, &SyncOptions::default())?;
    say(&format!(
        "benchmark laptop's initial sync pulled {} changes in {} round trips",
        report.pulled, report.round_trips
    ));
    if report.pulled < args.docs as u64 {
        bail!("the benchmark laptop pulled only {} changes", report.pulled);
    }
    let pre_week = server_documents(&server.db_path)?;

    // --- The week offline, not measured. ---
    let mut week = Made::default();
    for _ in 0..WEEK_VISITS {
        let c = *rng.pick(&seeded.customers);
        let v = visit(c, "sh1", &bench, &mut rng);
        week.visits.push(bench.create(&v, "record visit")?);
    }
    for n in 0..WEEK_QUOTES {
        let c = *rng.pick(&seeded.customers);
        let q = quotation(100_000 + n, c, "sh1", &mut rng)?;
        let id = bench.create(&q, "create quotation")?;
        week.quotes.push((id, q));
    }
    for n in 0..WEEK_ORDERS {
        let (qid, q) = week.quotes[n * 2 % week.quotes.len()].clone();
        week.orders
            .push(bench.create(&order(100_000 + n, qid, &q, "sh1"), "create order")?);
    }
    for (k, id) in rng
        .sample(&seeded.customers, WEEK_CUSTOMER_EDITS)
        .into_iter()
        .enumerate()
    {
        bench.update::<Customer>(id, "edit customer", |c| {
            c.basics.phone = Some(format!("021-6{:07}", 1_000_000 + k));
            c.lifecycle = Lifecycle::Active;
            c.profile.staff = Some(5 + k as u64);
            Ok(())
        })?;
    }

    // Meanwhile the other salesperson works and syncs.
    for _ in 0..OTHER_VISITS {
        let c = *rng.pick(&seeded.customers);
        let v = visit(c, "sh2", &other, &mut rng);
        other.create(&v, "record visit")?;
    }
    let mut other_quotes = Vec::new();
    for n in 0..OTHER_QUOTES {
        let c = *rng.pick(&seeded.customers);
        let q = quotation(200_000 + n, c, "sh2", &mut rng)?;
        other_quotes.push((other.create(&q, "create quotation")?, q));
    }
    for n in 0..OTHER_ORDERS {
        let (qid, q) = other_quotes[n % other_quotes.len()].clone();
        other.create(&order(200_000 + n, qid, &q, "sh2"), "create order")?;
    }
    for (k, id) in rng
        .sample(&seeded.customers, OTHER_CUSTOMER_EDITS)
        .into_iter()
        .enumerate()
    {
        other.update::<Customer>(id, "edit customer", |c| {
            c.credit.limit = Some(Decimal::new(80_000 + k as i64 * 1_000, 0));
            c.basics.manager = Some(format!("赵经理{k}"));
            Ok(())
        })?;
    }
    for id in rng.sample(&seeded.visits, OTHER_VISIT_EDITS) {
        other.update::<Visit>(id, "edit visit", |v| {
            v.outcome = Some("补充：客户已确认下单意向".to_string());
            v.next_step = Some("周五送样品".to_string());
            Ok(())
        })?;
    }
    let others_changes: Vec<Vec<u8>> = other
        .outbox_batch(usize::MAX)?
        .into_iter()
        .map(|o| o.bytes)
        .collect();
    let report = sync_checked(&mut other, &other_http, &SyncOptions::default())?;
    say(&format!(
        "the other salesperson pushed {} changes",
        report.pushed
    ));

    // What had to cross, and both sides' documents, just before the measured sync.
    let laptop_outbox = bench.outbox_batch(usize::MAX)?;
    let laptop_changes: Vec<Vec<u8>> = laptop_outbox.iter().map(|o| o.bytes.clone()).collect();
    let cursor_before = bench.cursor()?;
    let laptop_docs = laptop_documents(&bench)?;
    let server_docs = server_documents(&server.db_path)?;

    // --- Measured: the laptop's sync. ---
    let clock = Instant::now();
    let ours = client::sync::sync(&mut bench, &bench_http, &SyncOptions::default(), |_| {})?;
    let ours_time = clock.elapsed();
    say(&format!(
        "measured sync: {} round trips, {} B up, {} B down",
        ours.round_trips, ours.bytes_up, ours.bytes_down
    ));
    let breakdown = breakdown(&server.db_path, &laptop_outbox, cursor_before)?;
    let down_changes = &breakdown.down_changes;
    let mut complete = ours.acknowledged == laptop_changes.len() as u64
        && ours.rejected == 0
        && ours.pulled == down_changes.len() as u64;

    // Did the laptop converge with the server? Every document's heads must match.
    let after_laptop = laptop_documents(&bench)?;
    let after_server = server_documents(&server.db_path)?;
    for (id, bytes) in &after_server {
        let heads = |b: Option<&Vec<u8>>| load(b).map(|mut d| d.get_heads());
        if heads(Some(bytes))? != heads(after_laptop.get(id))? {
            complete = false;
            eprintln!(
                "document {id} differs between the laptop and the server (the laptop holds it: {})",
                after_laptop.contains_key(id)
            );
            break;
        }
    }

    let _ = server.stop.send(());
    rt.block_on(server.task)?;

    // --- The floor. ---
    let (floor_raw_up, floor_up) = envelope(&laptop_changes)?;
    let (floor_raw_down, floor_down) = envelope(down_changes)?;
    let floor = floor_up + floor_down;

    // --- Automerge's per-document protocol, fresh states. ---
    // Fresh `sync::State`s: the in-memory state from the laptop's previous session is gone (the
    // laptop was closed and reopened during the week), and the protocol's docs say a state
    // must be reset when a connection is re-established. The persisted variant below keeps
    // only what `State::encode` keeps (the shared heads), as an app storing states would.
    let mut fresh = pairs(&laptop_docs, &server_docs, &HashMap::new())?;
    let per_doc = per_document(&mut fresh)?;
    drop(fresh);
    say(&format!(
        "per-document protocol (fresh states): {} messages in {} round trips",
        per_doc.messages(),
        per_doc.round_trips
    ));
    let states = primed_states(&pre_week)?;
    let mut persisted = pairs(&laptop_docs, &server_docs, &states)?;
    let per_doc_persisted = per_document(&mut persisted)?;
    drop(persisted);
    say(&format!(
        "per-document protocol (persisted states): {} messages in {} round trips",
        per_doc_persisted.messages(),
        per_doc_persisted.round_trips
    ));

    // --- Figures and targets. ---
    let ours_bytes = ours.bytes_up + ours.bytes_down;
    let ours_messages = 2 * ours.round_trips;
    let vs_floor = ratio(ours_bytes, floor);
    let fewer_bytes = ratio(per_doc.batched(), ours_bytes);
    let fewer_bytes_raw = ratio(per_doc.raw(), ours_bytes);
    let fewer_messages = ratio(per_doc.messages(), ours_messages);
    let targets = [
        ("round trips <= 2", ours.round_trips <= 2),
        ("bytes on the wire <= 1.25x the floor", vs_floor <= 1.25),
        (
            ">= 10x fewer bytes than the per-document protocol",
            fewer_bytes >= 10.0,
        ),
        (
            ">= 1,000x fewer messages than the per-document protocol",
            fewer_messages >= 1000.0,
        ),
    ];

    let territory = laptop_docs.len() - WEEK_VISITS - WEEK_QUOTES - WEEK_ORDERS;
    if args.json {
        let out = json!({
            "scenario": {
                "territory_documents": territory,
                "laptop_documents_at_sync": laptop_docs.len(),
                "server_documents_at_sync": server_docs.len(),
                "laptop_changes": laptop_changes.len(),
                "others_changes": others_changes.len(),
                "server_changes": down_changes.len() - others_changes.len(),
                "changes_down": down_changes.len(),
            },
            "ours": {
                "round_trips": ours.round_trips,
                "messages": ours_messages,
                "bytes_up": ours.bytes_up,
                "bytes_down": ours.bytes_down,
                "bytes": ours_bytes,
                "pushed": ours.pushed,
                "acknowledged": ours.acknowledged,
                "rejected": ours.rejected,
                "pulled": ours.pulled,
                "seconds": ours_time.as_secs_f64(),
                "converged": complete,
            },
            "floor": {
                "bytes_raw_up": floor_raw_up,
                "bytes_raw_down": floor_raw_down,
                "bytes_up": floor_up,
                "bytes_down": floor_down,
                "bytes": floor,
            },
            "breakdown": {
                "request_rebuilt_zstd": breakdown.request,
                "response_rebuilt_zstd": breakdown.response,
                "response_without_acks_zstd": breakdown.response_without_acks,
                "floor_with_doc_ids_up": breakdown.floor_with_ids_up,
                "floor_with_doc_ids_down": breakdown.floor_with_ids_down,
                "floor_with_doc_ids": breakdown.floor_with_ids_up + breakdown.floor_with_ids_down,
                "ours_without_acks": ours.bytes_up + breakdown.response_without_acks,
            },
            "per_document": per_doc.json(),
            "per_document_persisted_states": per_doc_persisted.json(),
            "ratios": {
                "ours_over_floor": vs_floor,
                "per_document_batched_bytes_over_ours": fewer_bytes,
                "per_document_raw_bytes_over_ours": fewer_bytes_raw,
                "per_document_messages_over_ours": fewer_messages,
            },
            "targets": targets.iter().map(|(name, met)| json!({"target": name, "met": met})).collect::<Vec<_>>(),
            "total_seconds": started.elapsed().as_secs_f64(),
        });
        println!("{out}");
    } else {
        print_table(&Table {
            territory,
            laptop_docs: laptop_docs.len(),
            server_docs: server_docs.len(),
            laptop_changes: laptop_changes.len(),
            others_changes: others_changes.len(),
            down_changes: down_changes.len(),
            ours: &ours,
            ours_time,
            complete,
            floor: (floor_raw_up, floor_raw_down, floor_up, floor_down),
            per_doc: &per_doc,
            persisted: &per_doc_persisted,
        });
        println!();
        println!(
            "ours / floor: {vs_floor:.2}x   per-document / ours: {fewer_bytes:.1}x bytes (batched, zstd), {fewer_bytes_raw:.1}x bytes (raw), {fewer_messages:.0}x messages"
        );
        println!();
        let with_ids = breakdown.floor_with_ids_up + breakdown.floor_with_ids_down;
        let without_acks = ours.bytes_up + breakdown.response_without_acks;
        println!("where our bytes go (request and response rebuilt from the same data):");
        println!(
            "  request rebuilt {} B (measured {}); response rebuilt {} B (measured {})",
            breakdown.request, ours.bytes_up, breakdown.response, ours.bytes_down
        );
        println!(
            "  response without the hex acknowledgements: {} B ({} B of acks)",
            breakdown.response_without_acks,
            breakdown
                .response
                .saturating_sub(breakdown.response_without_acks)
        );
        println!(
            "  floor with each change's 16-byte document id: {} B up, {} B down, {} B total",
            breakdown.floor_with_ids_up, breakdown.floor_with_ids_down, with_ids
        );
        println!(
            "  ours without acks: {without_acks} B = {:.2}x the floor, {:.2}x the floor with ids",
            ratio(without_acks, floor),
            ratio(without_acks, with_ids)
        );
        println!();
        println!("targets:");
        for (name, met) in &targets {
            println!("  [{}] {name}", if *met { "met" } else { "MISSED" });
        }
        println!();
        println!("total run time {:.0} s", started.elapsed().as_secs_f64());
    }
    if !complete {
        bail!("the measured sync did not leave the laptop level with the server");
    }
    Ok(())
}

struct Table<'a> {
    territory: usize,
    laptop_docs: usize,
    server_docs: usize,
    laptop_changes: usize,
    others_changes: usize,
    down_changes: usize,
    ours: &'a SyncReport,
    ours_time: Duration,
    complete: bool,
    floor: (u64, u64, u64, u64),
    per_doc: &'a PerDoc,
    persisted: &'a PerDoc,
}

fn print_table(t: &Table<'_>) {
    let (raw_up, raw_down, floor_up, floor_down) = t.floor;
    println!("Sync: one salesperson's week");
    println!(
        "territory {} documents; laptop holds {} at sync, server {}; {} changes up, {} down \
         ({} from the other salesperson, {} written by the server itself, e.g. flags)",
        t.territory,
        t.laptop_docs,
        t.server_docs,
        t.laptop_changes,
        t.down_changes,
        t.others_changes,
        t.down_changes.saturating_sub(t.others_changes)
    );
    println!(
        "measured sync took {:.2} s (wall clock, noisy); laptop level with the server: {}",
        t.ours_time.as_secs_f64(),
        if t.complete { "yes" } else { "NO" }
    );
    println!();
    let rows: [(&str, String, String, String, String); 5] = [
        (
            "ours (change log)",
            t.ours.round_trips.to_string(),
            (2 * t.ours.round_trips).to_string(),
            t.ours.bytes_up.to_string(),
            t.ours.bytes_down.to_string(),
        ),
        (
            "floor (raw changes, zstd)",
            "-".into(),
            "-".into(),
            floor_up.to_string(),
            floor_down.to_string(),
        ),
        (
            "floor (raw changes, uncompressed)",
            "-".into(),
            "-".into(),
            raw_up.to_string(),
            raw_down.to_string(),
        ),
        (
            "per-document, fresh, batched zstd",
            t.per_doc.round_trips.to_string(),
            t.per_doc.messages().to_string(),
            t.per_doc.batched_up.to_string(),
            t.per_doc.batched_down.to_string(),
        ),
        (
            "per-document, fresh, raw",
            t.per_doc.round_trips.to_string(),
            t.per_doc.messages().to_string(),
            t.per_doc.raw_up.to_string(),
            t.per_doc.raw_down.to_string(),
        ),
    ];
    let persisted = [
        (
            "per-document, persisted, batched zstd",
            t.persisted.round_trips.to_string(),
            t.persisted.messages().to_string(),
            t.persisted.batched_up.to_string(),
            t.persisted.batched_down.to_string(),
        ),
        (
            "per-document, persisted, raw",
            t.persisted.round_trips.to_string(),
            t.persisted.messages().to_string(),
            t.persisted.raw_up.to_string(),
            t.persisted.raw_down.to_string(),
        ),
    ];
    println!(
        "{:<40} {:>11} {:>9} {:>11} {:>11} {:>11}",
        "", "round trips", "messages", "bytes up", "bytes down", "bytes total"
    );
    for (name, trips, messages, up, down) in rows.iter().chain(persisted.iter()) {
        let total = up.parse::<u64>().unwrap_or(0) + down.parse::<u64>().unwrap_or(0);
        println!("{name:<40} {trips:>11} {messages:>9} {up:>11} {down:>11} {total:>11}");
    }
}

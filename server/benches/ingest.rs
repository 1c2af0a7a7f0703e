//! Ingest benchmark: push throughput with the flag rules on vs off.
//!
//! Issue 4 asks that rule checks be incremental: ingest with rules on must stay within 1.5× of
//! ingest with rules off. This benchmark starts TWO real servers in this process (tokio, port 0,
//! temporary SQLite, the same organisation), one with [`Config::rules_enabled`] true and one
//! with it false, builds one workload once, and pushes the same changes to both through
//! `/v1/sync`, batch by batch, alternating which server gets each batch first. Each round uses
//! fresh servers; the ratio reported is the median over rounds, with the spread.
//!
//! ```text
//! cargo bench -p fieldsync-server --bench ingest                  # readable table
//! cargo bench -p fieldsync-server --bench ingest -- --json        # one JSON object
//! cargo bench -p fieldsync-server --bench ingest -- --rounds 5    # more rounds (default 3)
//! ```
//!
//! Workload (deterministic, seeded): 8 regions in 4 large regions, 5 salespeople per region
//! (40; grades probation / regular / supervisor) and a region manager each. Managers create 3
//! dealers per region (some authorised for a neighbouring region too). Each salesperson creates
//! 50 customers (2,000; a third with a credit limit), a few duplicating another salesperson's
//! customer by tax id, phone or name with another company suffix; then 75 visits (some with
//! stock seen), 20 quotations of 3 lines (some with discounts or amounts beyond authority, two
//! on colleagues' customers), 10 orders (most from those quotations, with dealers, one supplied
//! by another large region's dealer), and edits: 10 customers, 5 quotations re-priced. Pushed
//! in the order a sync would need (dealers, customers, then each salesperson's week), one
//! salesperson per request, at most 200 changes per request.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use automerge::{ActorId, AutoCommit};
use chrono::Utc;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use server::{AppState, Config};
use shared::RecordId;
use shared::doc::CommitMeta;
use shared::domain::{
    Authorisation, Customer, CustomerKind, Dealer, Grade, Line, Order, OrderStatus, Quotation,
    QuoteStatus, StockSeen, Visit,
};
use shared::money::Currency;
use shared::protocol::{self, CONTENT_TYPE, PROTOCOL_VERSION, PushChange, SyncRequest};
use shared::record::RecordType;

/// Most changes per `/v1/sync` request.
const BATCH: usize = 200;
/// The target from issue 4: rules-on time at most this many times rules-off time.
const TARGET: f64 = 1.5;

/// Regions: code, office name, city, large region.
const REGIONS: [(&str, &str, &str, &str); 8] = [
    ("EAST-SH", "上海办事处", "上海", "EAST"),
    ("EAST-HZ", "杭州办事处", "杭州", "EAST"),
    ("SOUTH-GZ", "广州办事处", "广州", "SOUTH"),
    ("SOUTH-SZ", "深圳办事处", "深圳", "SOUTH"),
    ("NORTH-BJ", "北京办事处", "北京", "NORTH"),
    ("NORTH-TJ", "天津办事处", "天津", "NORTH"),
    ("WEST-CD", "成都办事处", "成都", "WEST"),
    ("WEST-CQ", "重庆办事处", "重庆", "WEST"),
];
const LARGE: [(&str, &str); 4] = [
    ("EAST", "华东大区"),
    ("SOUTH", "华南大区"),
    ("NORTH", "华北大区"),
    ("WEST", "西南大区"),
];
const PER_REGION: usize = 5;
const CUSTOMERS_EACH: usize = 50;
const VISITS_EACH: usize = 75;
const QUOTES_EACH: usize = 20;
const ORDERS_EACH: usize = 10;
const CUSTOMER_EDITS_EACH: usize = 10;
const QUOTE_EDITS_EACH: usize = 5;
const DEALERS_EACH_REGION: usize = 3;

const WORD1: [&str; 20] = [
    "华", "恒", "鑫", "联", "宏", "盛", "瑞", "泰", "金", "新", "永", "国", "天", "中", "顺", "嘉",
    "博", "海", "长", "锦",
];
const WORD2: [&str; 20] = [
    "达", "源", "通", "丰", "信", "德", "安", "兴", "昌", "利", "隆", "和", "成", "远", "辉", "祥",
    "益", "宇", "佳", "正",
];
const TRADE: [&str; 8] = [
    "商贸",
    "五金",
    "建材",
    "电器",
    "机电",
    "食品",
    "医疗器械",
    "化工",
];
const SUFFIX: [&str; 3] = ["有限公司", "股份有限公司", "有限责任公司"];
/// Characters of a unified social credit code (digits and capitals but I, O, S, V, Z).
const USCC: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// One person of the organisation with the actor their laptop signs changes with.
struct Person {
    name: String,
    actor: ActorId,
}

/// One `/v1/sync` request's worth of changes from one person.
struct Batch {
    person: usize,
    changes: usize,
    /// The zstd-compressed request body, built once and sent to both servers.
    body: Vec<u8>,
}

/// What the workload holds, for the report.
#[derive(Default)]
struct Mix {
    counts: BTreeMap<&'static str, usize>,
}

impl Mix {
    fn add(&mut self, what: &'static str) {
        *self.counts.entry(what).or_default() += 1;
    }
}

/// The workload: the organisation, the people and the batches to push.
struct Workload {
    org: String,
    people: Vec<Person>,
    batches: Vec<Batch>,
    changes: usize,
    mix: Mix,
}

/// A document being made on a laptop.
struct Made {
    id: RecordId,
    doc: AutoCommit,
}

/// Changes in push order: who pushes, and what.
struct Queue {
    items: Vec<(usize, PushChange)>,
}

impl Queue {
    fn create<T: RecordType>(
        &mut self,
        person: usize,
        actor: &ActorId,
        record: &T,
    ) -> Result<Made> {
        let id = RecordId::new();
        let mut doc = shared::doc::create(actor, id, record, &CommitMeta::now("create"))
            .context("creating a document")?;
        self.push_last(person, id, &mut doc)?;
        Ok(Made { id, doc })
    }

    fn update<T: RecordType>(&mut self, person: usize, made: &mut Made, record: &T) -> Result<()> {
        shared::doc::update(&mut made.doc, record, &CommitMeta::now("edit"))
            .context("editing a document")?
            .context("the edit changed nothing")?;
        self.push_last(person, made.id, &mut made.doc)
    }

    fn push_last(&mut self, person: usize, id: RecordId, doc: &mut AutoCommit) -> Result<()> {
        let change = doc.get_last_local_change().context("no local change")?;
        self.items.push((
            person,
            PushChange {
                doc_id: id,
                bytes: change.raw_bytes().to_vec(),
            },
        ));
        Ok(())
    }
}

fn tax_id(n: usize) -> String {
    // Unique per n: n spread by an odd multiplier, written in base 31 after a fixed prefix.
    let mut v = (n as u64).wrapping_mul(2_654_435_761) ^ 0x5bd1_e995;
    let mut tail = Vec::with_capacity(14);
    for _ in 0..14 {
        tail.push(USCC[(v % USCC.len() as u64) as usize]);
        v /= USCC.len() as u64;
    }
    tail.reverse();
    format!("9131{}", String::from_utf8_lossy(&tail))
}

fn lines(rng: &mut StdRng, big: bool, discount_beyond: bool) -> BTreeMap<String, Line> {
    (0..3)
        .map(|i| {
            let price = if big {
                rng.random_range(80_000..150_000)
            } else {
                rng.random_range(200..9_000)
            };
            let discount = if discount_beyond && i == 0 {
                rng.random_range(12..26)
            } else {
                rng.random_range(0..8)
            };
            (
                format!("l{i}"),
                Line {
                    product: format!("P-{:03}", rng.random_range(1..60)),
                    description: None,
                    quantity: Decimal::from(rng.random_range(1..20)),
                    unit_price: Decimal::from(price),
                    discount_pct: Decimal::from(discount),
                    position: 1024 * (i + 1),
                    batch: None,
                },
            )
        })
        .collect()
}

/// Builds the organisation and every change, once.
fn build() -> Result<Workload> {
    let mut rng = StdRng::seed_from_u64(20_240_404);
    let now = Utc::now();
    let mut org = String::from("[[territory]]\ncode = \"CN\"\nname = \"公司总部\"\n");
    for (code, name) in LARGE {
        org += &format!("[[territory]]\ncode = \"{code}\"\nname = \"{name}\"\nparent = \"CN\"\n");
    }
    for (code, name, _, large) in REGIONS {
        org +=
            &format!("[[territory]]\ncode = \"{code}\"\nname = \"{name}\"\nparent = \"{large}\"\n");
    }
    let mut people = Vec::new();
    let mut add_person = |org: &mut String, name: String, role: &str, region: &str, grade| {
        *org += &format!(
            "[[user]]\nname = \"{name}\"\nrole = \"{role}\"\nterritory = \"{region}\"\n\
             password = \"pw-{name}\"\ngrade = \"{grade}\"\n"
        );
        people.push(Person {
            name,
            actor: ActorId::random(),
        });
        people.len() - 1
    };
    // managers[r], sellers[r][k]
    let mut managers = Vec::new();
    let mut sellers: Vec<Vec<usize>> = Vec::new();
    for (code, ..) in REGIONS {
        let slug = code.to_lowercase();
        managers.push(add_person(
            &mut org,
            format!("{slug}.mgr"),
            "region_manager",
            code,
            "regular",
        ));
        sellers.push(
            (0..PER_REGION)
                .map(|k| {
                    let grade = match k {
                        0 => "probation",
                        4 => "supervisor",
                        _ => "regular",
                    };
                    add_person(&mut org, format!("{slug}.{k}"), "salesperson", code, grade)
                })
                .collect(),
        );
    }

    let mut queue = Queue { items: Vec::new() };
    let mut mix = Mix::default();

    // Dealers, by each region's manager; every other one also authorised for the neighbour
    // region of the same large region.
    let mut dealers: Vec<Vec<RecordId>> = Vec::new();
    for (r, (code, _, city, _)) in REGIONS.iter().enumerate() {
        let neighbour = REGIONS[r ^ 1].0;
        let manager = managers[r];
        let mut ids = Vec::new();
        for d in 0..DEALERS_EACH_REGION {
            let mut dealer = Dealer::new(
                format!("{city}{}{}经销有限公司", WORD1[d + r], WORD2[d * 3 + r]),
                now,
            );
            dealer.region = Some(code.to_string());
            dealer
                .authorised_regions
                .insert(code.to_string(), Authorisation { since: None });
            if d % 2 == 0 {
                dealer
                    .authorised_regions
                    .insert(neighbour.to_string(), Authorisation { since: None });
            }
            let actor = people[manager].actor.clone();
            ids.push(queue.create(manager, &actor, &dealer)?.id);
            mix.add("dealers");
        }
        dealers.push(ids);
    }

    // Customers: 50 per salesperson, with planted duplicates of a colleague's customer.
    struct Cust {
        made: Made,
        record: Customer,
    }
    let mut customers: Vec<Vec<Vec<Cust>>> = Vec::new();
    let mut serial = 0usize;
    for (r, (code, _, city, _)) in REGIONS.iter().enumerate() {
        let mut region_customers: Vec<Vec<Cust>> = Vec::new();
        for (k, &seller) in sellers[r].iter().enumerate() {
            let mut own = Vec::new();
            for i in 0..CUSTOMERS_EACH {
                serial += 1;
                let n = k * CUSTOMERS_EACH + i;
                let mut c = Customer::new(
                    format!(
                        "{city}{}{}{}{}",
                        WORD1[n % 20],
                        WORD2[(n / 20) % 20],
                        TRADE[(n / 400 + k) % 8],
                        SUFFIX[n % 3]
                    ),
                    now,
                );
                c.region = Some(code.to_string());
                c.salesperson = Some(people[seller].name.clone());
                c.kind = [CustomerKind::Retailer, CustomerKind::Wholesaler][i % 2];
                c.grade = [Grade::Key, Grade::General, Grade::Occasional][i % 3];
                c.basics.tax_id = Some(tax_id(serial));
                c.basics.phone = Some(format!("139{serial:08}"));
                c.basics.address = Some(format!("{city}市第{}大道{}号", n % 40 + 1, i + 1));
                if i % 3 == 0 {
                    c.credit.limit = Some(Decimal::from(100_000));
                }
                // Planted 撞单 against the previous salesperson of the region (k ≥ 1): the same
                // tax id, the same phone, or the same name with another company suffix.
                if k >= 1 {
                    let other: &Cust = &region_customers[k - 1][i];
                    match i {
                        7 => c.basics.tax_id = other.record.basics.tax_id.clone(),
                        17 => c.basics.phone = other.record.basics.phone.clone(),
                        27 => {
                            let base = other
                                .record
                                .name
                                .trim_end_matches(SUFFIX[1])
                                .trim_end_matches(SUFFIX[2])
                                .trim_end_matches(SUFFIX[0]);
                            c.name = format!("{base} 股份有限公司");
                        }
                        _ => {}
                    }
                    if matches!(i, 7 | 17 | 27) {
                        mix.add("planted duplicate customers");
                    }
                }
                let actor = people[seller].actor.clone();
                let made = queue.create(seller, &actor, &c)?;
                mix.add("customers");
                own.push(Cust { made, record: c });
            }
            region_customers.push(own);
        }
        customers.push(region_customers);
    }

    // Each salesperson's week: visits, quotations, orders, edits.
    for (r, (code, _, city, large)) in REGIONS.iter().enumerate() {
        for (k, &seller) in sellers[r].iter().enumerate() {
            let me = people[seller].name.clone();
            let actor = people[seller].actor.clone();
            for v in 0..VISITS_EACH {
                let c = &customers[r][k][v % CUSTOMERS_EACH];
                let mut visit = Visit::new(c.made.id, me.clone(), chrono_tz::Asia::Shanghai, now);
                visit.actual_at = Some(now - chrono::Duration::hours(v as i64));
                visit.purpose = Some("例行拜访".into());
                visit.outcome = Some(format!("{city}客户反馈良好，跟进报价"));
                if v % 4 == 0 {
                    visit.dealer_id = Some(dealers[r][v % DEALERS_EACH_REGION]);
                    visit.stock_seen.insert(
                        "s1".into(),
                        StockSeen {
                            product: format!("P-{:03}", v % 60 + 1),
                            code: Some(format!("B24{r}{k}{v:03}")),
                            quantity: Decimal::from(v % 12 + 1),
                            position: 1024,
                        },
                    );
                }
                queue.create(seller, &actor, &visit)?;
                mix.add("visits");
            }
            let mut quotes = Vec::new();
            for q in 0..QUOTES_EACH {
                // Two quotations on a colleague's customer (contested 撞单), the rest own.
                let customer = if q >= QUOTES_EACH - 2 {
                    mix.add("quotations on a colleague's customer");
                    customers[r][(k + 1) % PER_REGION][q].made.id
                } else {
                    customers[r][k][q * 2].made.id
                };
                let beyond_discount = q % 5 == 1;
                let big = q % 7 == 3;
                let quote = Quotation {
                    number: format!("Q-{code}-{k}-{q:03}"),
                    customer_id: customer,
                    salesperson: me.clone(),
                    currency: Currency::CNY,
                    lines: lines(&mut rng, big, beyond_discount),
                    valid_until: None,
                    delivery_terms: Some("送货上门".into()),
                    payment_terms: Some("月结30天".into()),
                    status: QuoteStatus::Sent,
                    notes: None,
                    created_at: now,
                    voided: None,
                    approval: None,
                };
                let made = queue.create(seller, &actor, &quote)?;
                mix.add("quotations");
                if beyond_discount || big {
                    mix.add("quotations beyond authority (before edits)");
                }
                quotes.push((made, quote));
            }
            for o in 0..ORDERS_EACH {
                let (q_made, quote) = &quotes[o];
                let mut order = if o < ORDERS_EACH - 2 {
                    Order::from_quotation(
                        q_made.id,
                        quote,
                        format!("O-{code}-{k}-{o:03}"),
                        me.clone(),
                        now,
                    )
                } else {
                    // A direct order on a customer with a credit limit, large enough to pass it.
                    let customer = &customers[r][k][o * 3];
                    Order {
                        number: format!("O-{code}-{k}-{o:03}"),
                        quotation_id: None,
                        customer_id: customer.made.id,
                        salesperson: me.clone(),
                        dealer_id: None,
                        currency: Currency::CNY,
                        lines: lines(&mut rng, o % 2 == 0, false),
                        delivery_deadline: None,
                        delivery_place: None,
                        delivery_region: None,
                        shipping: None,
                        payment_terms: None,
                        payment_due: None,
                        status: OrderStatus::Draft,
                        created_at: now,
                        voided: None,
                        credit_hold: None,
                    }
                };
                order.status = OrderStatus::Confirmed;
                order.delivery_region = Some(code.to_string());
                order.delivery_place = Some(format!("{city}仓库"));
                order.dealer_id = Some(if o == 4 {
                    // Supplied by a dealer of another large region: 窜货.
                    mix.add("orders via another large region's dealer");
                    let other = REGIONS
                        .iter()
                        .position(|(_, _, _, l)| l != large)
                        .context("another large region")?;
                    dealers[other][1]
                } else {
                    dealers[r][o % DEALERS_EACH_REGION]
                });
                queue.create(seller, &actor, &order)?;
                mix.add("orders");
            }
            for e in 0..CUSTOMER_EDITS_EACH {
                let c = &mut customers[r][k][e * 5 + 1];
                c.record.basics.address = Some(format!("{city}市新区{}路{}号", e + 1, k + 8));
                c.record.lifecycle = shared::domain::Lifecycle::Active;
                queue.update(seller, &mut c.made, &c.record)?;
                mix.add("customer edits");
            }
            for e in 0..QUOTE_EDITS_EACH {
                let (made, quote) = &mut quotes[e * 3 + 2];
                if let Some(line) = quote.lines.get_mut("l1") {
                    line.discount_pct += Decimal::from(8);
                }
                queue.update(seller, made, &*quote)?;
                mix.add("quotation edits (re-priced)");
            }
        }
    }

    // Batches: runs of one person's changes, at most BATCH each.
    let mut batches = Vec::new();
    let mut items = queue.items.into_iter().peekable();
    let mut changes = 0;
    while let Some((person, first)) = items.next() {
        let mut push = vec![first];
        while push.len() < BATCH
            && let Some((_, next)) = items.next_if(|(p, _)| *p == person)
        {
            push.push(next);
        }
        changes += push.len();
        let request = SyncRequest {
            protocol: PROTOCOL_VERSION,
            cursor: i64::MAX as u64,
            pull_budget: 1,
            push,
        };
        let count = request.push.len();
        let body =
            zstd::encode_all(&protocol::encode(&request)[..], 3).context("compressing a batch")?;
        batches.push(Batch {
            person,
            changes: count,
            body,
        });
    }
    Ok(Workload {
        org,
        people,
        batches,
        changes,
        mix,
    })
}

/// A running server and its people's tokens.
struct Running {
    url: String,
    state: AppState,
    http: reqwest::Client,
    tokens: Vec<String>,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), server::ServerError>>,
    _dir: tempfile::TempDir,
}

async fn start(work: &Workload, rules_enabled: bool) -> Result<Running> {
    let dir = tempfile::tempdir().context("temp dir")?;
    let config = Config {
        db_path: dir.path().join("server.db"),
        rules_enabled,
        ..Config::default()
    };
    let state = AppState::open(&config).context("opening the server")?;
    state
        .admin()
        .import_toml(&work.org)
        .context("importing the organisation")?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .context("binding")?;
    let url = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = state.clone();
    let task = tokio::spawn(async move {
        server::serve(listener, serving, async {
            let _ = stopped.await;
        })
        .await
    });
    let http = reqwest::Client::new();
    let mut tokens = Vec::new();
    for person in &work.people {
        // Logging in registers the laptop's actor, so the server accepts its changes.
        let response = http
            .post(format!("{url}/v1/login"))
            .json(&json!({
                "user": person.name,
                "password": format!("pw-{}", person.name),
                "device": format!("{}-laptop", person.name),
                "actor": person.actor.to_hex_string(),
            }))
            .send()
            .await
            .context("login request")?;
        let status = response.status();
        let body: Value = response.json().await.context("login response")?;
        let Some(token) = body["token"].as_str().filter(|_| status.is_success()) else {
            bail!("login {} failed: {status} {body}", person.name);
        };
        tokens.push(token.to_string());
    }
    Ok(Running {
        url,
        state,
        http,
        tokens,
        stop,
        task,
        _dir: dir,
    })
}

impl Running {
    /// Pushes one batch and returns its round-trip time; any rejection is an error.
    async fn push(&self, batch: &Batch) -> Result<Duration> {
        let started = Instant::now();
        let response = self
            .http
            .post(format!("{}/v1/sync", self.url))
            .header("content-type", CONTENT_TYPE)
            .bearer_auth(&self.tokens[batch.person])
            .body(batch.body.clone())
            .send()
            .await
            .context("sync request")?;
        let status = response.status();
        let bytes = response.bytes().await.context("sync response")?;
        let elapsed = started.elapsed();
        if !status.is_success() {
            bail!("sync failed: {status} {}", String::from_utf8_lossy(&bytes));
        }
        let inflated = zstd::decode_all(&bytes[..]).context("inflating the response")?;
        let response: shared::protocol::SyncResponse =
            protocol::decode(&inflated).context("decoding the response")?;
        if let Some(first) = response.rejected.first() {
            bail!(
                "{} of {} changes rejected, first: {} {}",
                response.rejected.len(),
                batch.changes,
                first.code,
                first.reason
            );
        }
        if response.acked as usize != batch.changes {
            bail!("{} acked of {}", response.acked as usize, batch.changes);
        }
        Ok(elapsed)
    }

    /// Flags by kind, and documents that are not flags.
    fn counts(&self) -> Result<(BTreeMap<String, u64>, u64)> {
        Ok(self.state.store.blocking(|c| {
            let mut stmt = c.prepare("SELECT kind, COUNT(*) FROM flags GROUP BY kind")?;
            let flags = stmt
                .query_map([], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
                })?
                .collect::<Result<BTreeMap<_, _>, _>>()?;
            let docs: i64 = c.query_row(
                "SELECT COUNT(*) FROM documents WHERE kind <> 'flag'",
                [],
                |r| r.get(0),
            )?;
            Ok((flags, docs as u64))
        })?)
    }

    async fn stop(self) -> Result<()> {
        let _ = self.stop.send(());
        self.task.await.context("server task")??;
        Ok(())
    }
}

/// One round's figures.
struct Round {
    on: Duration,
    off: Duration,
    flags: BTreeMap<String, u64>,
}

impl Round {
    fn ratio(&self) -> f64 {
        self.on.as_secs_f64() / self.off.as_secs_f64()
    }
}

async fn round(work: &Workload, n: usize) -> Result<Round> {
    let on = start(work, true).await?;
    let off = start(work, false).await?;
    let (mut t_on, mut t_off) = (Duration::ZERO, Duration::ZERO);
    for (i, batch) in work.batches.iter().enumerate() {
        // Alternate which server goes first, so neither always meets a warmer machine.
        if (i + n).is_multiple_of(2) {
            t_on += on.push(batch).await?;
            t_off += off.push(batch).await?;
        } else {
            t_off += off.push(batch).await?;
            t_on += on.push(batch).await?;
        }
    }
    let (flags, docs_on) = on.counts()?;
    let (flags_off, docs_off) = off.counts()?;
    if docs_on != docs_off || docs_on as usize != docs_expected(work) {
        bail!("documents differ: rules on {docs_on}, off {docs_off}");
    }
    if flags.values().sum::<u64>() == 0 {
        bail!("the rules-on server raised no flags: the measurement would be meaningless");
    }
    if !flags_off.is_empty() {
        bail!("the rules-off server raised flags: {flags_off:?}");
    }
    on.stop().await?;
    off.stop().await?;
    Ok(Round {
        on: t_on,
        off: t_off,
        flags,
    })
}

/// Documents the workload creates (edits make none).
fn docs_expected(work: &Workload) -> usize {
    ["dealers", "customers", "visits", "quotations", "orders"]
        .iter()
        .map(|k| work.mix.counts.get(k).copied().unwrap_or(0))
        .sum()
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let json_out = args.iter().any(|a| a == "--json");
    let rounds = match args.iter().position(|a| a == "--rounds") {
        Some(i) => args
            .get(i + 1)
            .context("--rounds needs a number")?
            .parse::<usize>()
            .context("--rounds needs a number")?
            .max(1),
        None => 3,
    };
    let built = Instant::now();
    let work = build()?;
    let build_secs = built.elapsed().as_secs_f64();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("tokio runtime")?;
    let mut results = Vec::new();
    for n in 0..rounds {
        let r = runtime.block_on(round(&work, n))?;
        if !json_out {
            eprintln!(
                "round {}: rules on {:.2} s, off {:.2} s, ratio {:.3}",
                n + 1,
                r.on.as_secs_f64(),
                r.off.as_secs_f64(),
                r.ratio()
            );
        }
        results.push(r);
    }
    report(&work, &results, build_secs, json_out);
    Ok(())
}

fn report(work: &Workload, rounds: &[Round], build_secs: f64, json_out: bool) {
    let changes = work.changes as f64;
    let ratios: Vec<f64> = rounds.iter().map(Round::ratio).collect();
    let on: Vec<f64> = rounds.iter().map(|r| r.on.as_secs_f64()).collect();
    let off: Vec<f64> = rounds.iter().map(|r| r.off.as_secs_f64()).collect();
    let ratio = median(ratios.clone());
    let (lo, hi) = ratios
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        });
    let (on_med, off_med) = (median(on.clone()), median(off.clone()));
    let flags = rounds.last().map(|r| r.flags.clone()).unwrap_or_default();
    let flag_total: u64 = flags.values().sum();
    let met = ratio <= TARGET;
    let per_change_ms = median(
        rounds
            .iter()
            .map(|r| (r.on.as_secs_f64() - r.off.as_secs_f64()) * 1000.0 / changes)
            .collect(),
    );
    if json_out {
        let out = json!({
            "bench": "ingest",
            "changes": work.changes,
            "requests": work.batches.len(),
            "batch_max": BATCH,
            "salespeople": REGIONS.len() * PER_REGION,
            "workload": work.mix.counts,
            "build_secs": build_secs,
            "rounds": rounds.iter().map(|r| json!({
                "rules_on_secs": r.on.as_secs_f64(),
                "rules_off_secs": r.off.as_secs_f64(),
                "rules_on_changes_per_sec": changes / r.on.as_secs_f64(),
                "rules_off_changes_per_sec": changes / r.off.as_secs_f64(),
                "ratio": r.ratio(),
            })).collect::<Vec<_>>(),
            "median_rules_on_secs": on_med,
            "median_rules_off_secs": off_med,
            "ratio_median": ratio,
            "rules_ms_per_change_median": per_change_ms,
            "ratio_min": lo,
            "ratio_max": hi,
            "flags_raised": flags,
            "target": TARGET,
            "target_met": met,
        });
        println!("{out}");
        return;
    }
    println!();
    println!("Ingest: rules on vs off");
    println!(
        "workload: {} changes in {} requests (≤{BATCH} changes each), {} salespeople; built in {build_secs:.1} s",
        work.changes,
        work.batches.len(),
        REGIONS.len() * PER_REGION
    );
    for (what, n) in &work.mix.counts {
        println!("  {n:>6}  {what}");
    }
    println!();
    println!(
        "{:<7} {:>12} {:>14} {:>12} {:>14} {:>8}",
        "round", "rules on s", "on changes/s", "rules off s", "off changes/s", "on/off"
    );
    for (i, r) in rounds.iter().enumerate() {
        println!(
            "{:<7} {:>12.2} {:>14.0} {:>12.2} {:>14.0} {:>8.3}",
            i + 1,
            r.on.as_secs_f64(),
            changes / r.on.as_secs_f64(),
            r.off.as_secs_f64(),
            changes / r.off.as_secs_f64(),
            r.ratio()
        );
    }
    println!(
        "{:<7} {:>12.2} {:>14.0} {:>12.2} {:>14.0} {:>8.3}",
        "median*",
        on_med,
        changes / on_med,
        off_med,
        changes / off_med,
        ratio
    );
    println!("* each column's own median; the ratio is the median of the rounds' ratios");
    println!(
        "rules' cost: {per_change_ms:.3} ms per change (median over rounds of (on − off) / changes)"
    );
    println!();
    println!(
        "flags raised by the rules-on server (last round): {flag_total} ({})",
        flags
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "ratio rules-on / rules-off: median {ratio:.3} (min {lo:.3}, max {hi:.3} over {} rounds); target ≤ {TARGET}: {}",
        rounds.len(),
        if met { "met" } else { "NOT met" }
    );
}

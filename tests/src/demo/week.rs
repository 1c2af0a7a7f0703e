//! One week in the field: every salesperson's laptop works offline, then syncs.
//!
//! Everything goes through the real laptop store (`client::Store`) and the real sync client over
//! HTTP, exactly as the `fieldsync` command does; only the typing is scripted. Three situations
//! are planted for head office to find: a dealer selling into a region it is not authorised for
//! and goods of a batch shipped to Shanghai turning up in a Guangzhou customer's stock (both
//! 窜货), and two salespeople creating the same customer while offline (撞单).
//!
//! Orders record the batch shipped on each line, `B{yymm}{product:02}-{region}`; visits' stock
//! checks see the same codes in the same region, so only the planted one is out of place.
//!
//! The week is the one before the week the demo runs in ([`monday`]): the laptops sync days
//! after their work, as in the field, within the offline window in which the server believes
//! their clocks (`shared::clock`). A fixed date would drift out of that window as time passes,
//! and the server would then rightly date the whole week by when it received it.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use chrono::{Datelike, Duration, NaiveDate, TimeZone, Utc};
use client::Store;
use client::sync::{self, Http, SyncOptions};
use rust_decimal::Decimal;
use shared::RecordId;
use shared::domain::{
    Authorisation, Customer, CustomerKind, Dealer, Grade, Lifecycle, Line, Order, OrderStatus,
    Product, Quotation, QuoteStatus, StockSeen, Visit, new_item_key,
};
use shared::money::Currency;

use super::org::{self, Org, PASSWORD, Person};

/// The price list: code, name, unit, list price in CNY.
pub const PRODUCTS: [(&str, &str, &str, &str); 5] = [
    ("BEER-500", "啤酒 500ml×12", "箱", "72.00"),
    ("BEER-330", "啤酒 330ml×24", "箱", "96.00"),
    ("JUICE-1L", "果汁 1L×6", "箱", "48.00"),
    ("WATER-550", "矿泉水 550ml×24", "箱", "24.00"),
    ("TEA-500", "茶饮料 500ml×15", "箱", "60.00"),
];

/// What the week produced, for printing and for tests.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Records created, by kind.
    pub created: BTreeMap<&'static str, usize>,
    /// The planted cross-region order and the dealer that supplied it.
    pub cross_region_order: Option<(RecordId, RecordId)>,
    /// The planted visit whose stock check saw a batch shipped to another region, and the code.
    pub cross_region_stock: Option<(RecordId, String)>,
    /// The two customers created twice by different salespeople.
    pub duplicate_customers: Vec<RecordId>,
    /// Changes pushed and pulled by all laptops together.
    pub pushed: u64,
    /// Changes pulled by all laptops together.
    pub pulled: u64,
}

/// A laptop signed in as one person.
pub struct Laptop {
    /// The person.
    pub person: Person,
    /// Their store.
    pub store: Store,
}

/// Runs the week against the server at `url`, keeping laptops' stores under `dir`.
pub fn run_week(url: &str, org: &Org, dir: &Path) -> anyhow::Result<(Outcome, Vec<Laptop>)> {
    let http = Http::new(url)?;
    let mut outcome = Outcome::default();
    let mut laptops: Vec<Laptop> = Vec::new();
    for person in &org.people {
        let mut store = Store::open_home(&dir.join(&person.user))?;
        sync::sign_in(&mut store, &http, url, &person.user, PASSWORD)
            .with_context(|| format!("sign in {}", person.user))?;
        laptops.push(Laptop {
            person: person.clone(),
            store,
        });
    }
    let dealers = set_up_price_list_and_dealers(&mut laptops, &http, &mut outcome)?;
    for laptop in laptops.iter_mut() {
        sync_laptop(laptop, &http, &mut outcome)?;
    }
    // The week, offline: nobody syncs until Friday evening.
    let salespeople: Vec<usize> = (0..laptops.len())
        .filter(|&i| laptops[i].person.role == "salesperson")
        .collect();
    for (n, &i) in salespeople.iter().enumerate() {
        work_a_week(&mut laptops[i], n, &dealers, &mut outcome)?;
    }
    plant_duplicate_customer(&mut laptops, &salespeople, &mut outcome)?;
    // Friday evening: everyone syncs; a second round brings everyone what the others sent.
    for _ in 0..2 {
        for laptop in laptops.iter_mut() {
            sync_laptop(laptop, &http, &mut outcome)?;
        }
    }
    Ok((outcome, laptops))
}

fn sync_laptop(laptop: &mut Laptop, http: &Http, outcome: &mut Outcome) -> anyhow::Result<()> {
    let report = sync::sync(&mut laptop.store, http, &SyncOptions::default(), |_| {})
        .with_context(|| format!("sync {}", laptop.person.user))?;
    outcome.pushed += report.pushed;
    outcome.pulled += report.pulled;
    Ok(())
}

fn count(outcome: &mut Outcome, kind: &'static str) {
    *outcome.created.entry(kind).or_default() += 1;
}

/// Dealers per region: `(region, dealer id, authorised regions)`.
type Dealers = Vec<(String, RecordId, Vec<String>)>;

/// The admin keeps the price list and records each region's dealers with the regions they
/// are authorised for (master data no region manager may grant): one authorised for the home
/// region only, one also for the neighbouring region.
fn set_up_price_list_and_dealers(
    laptops: &mut [Laptop],
    http: &Http,
    outcome: &mut Outcome,
) -> anyhow::Result<Dealers> {
    let now = Utc::now();
    if let Some(admin) = laptops.iter_mut().find(|l| l.person.role == "admin") {
        for (code, name, unit, price) in PRODUCTS {
            let product = Product {
                code: code.into(),
                name: name.into(),
                spec: None,
                unit: unit.into(),
                list_price: price.parse()?,
                currency: Currency::CNY,
                created_at: now,
                voided: None,
            };
            admin.store.create(&product, "add product")?;
            count(outcome, "product");
        }
        sync_laptop(admin, http, outcome)?;
    }
    let mut dealers = Dealers::new();
    let codes: Vec<&str> = org::REGIONS.iter().map(|r| r.code).collect();
    let homes: Vec<String> = laptops
        .iter()
        .filter(|l| l.person.role == "region_manager")
        .map(|l| l.person.territory.clone())
        .collect();
    let Some(laptop) = laptops.iter_mut().find(|l| l.person.role == "admin") else {
        return Ok(dealers);
    };
    for home in homes {
        let region = org::region(&home).context("manager's region")?;
        let at = codes.iter().position(|c| *c == home).unwrap_or(0);
        let neighbour = codes[(at + 1) % codes.len()].to_string();
        for (suffix, authorised) in [
            ("经销部", vec![home.clone()]),
            ("贸易行", vec![home.clone(), neighbour]),
        ] {
            let mut dealer = Dealer::new(format!("{}{}{}", region.city, "顺达", suffix), now);
            dealer.region = Some(home.clone());
            dealer.phone = Some(format!("0{}-8888{:04}", 10 + at, dealers.len()));
            for code in &authorised {
                dealer
                    .authorised_regions
                    .insert(code.clone(), Authorisation { since: None });
            }
            let id = laptop.store.create(&dealer, "add dealer")?;
            count(outcome, "dealer");
            dealers.push((home.clone(), id, authorised));
        }
    }
    sync_laptop(laptop, http, outcome)?;
    Ok(dealers)
}

/// One salesperson's week: new customers, visits with stock checks, quotations, an order.
fn work_a_week(
    laptop: &mut Laptop,
    n: usize,
    dealers: &Dealers,
    outcome: &mut Outcome,
) -> anyhow::Result<()> {
    let user = laptop.person.user.clone();
    let home = laptop.person.territory.clone();
    let region = org::region(&home).context("salesperson's region")?;
    let monday = monday();
    let mut customers = Vec::new();
    for k in 0..4 {
        let seq = n * 10 + k;
        let mut customer = Customer::new(org::company_name(region.city, seq), monday);
        customer.region = Some(home.clone());
        customer.salesperson = Some(user.clone());
        customer.basics.address = Some(org::address(region, seq));
        customer.basics.phone = Some(format!("1{}{:08}", 3 + k % 6, seq * 7919 % 100_000_000));
        customer.basics.tax_id = Some(org::tax_id(seq));
        customer.kind = [
            CustomerKind::Wholesaler,
            CustomerKind::Retailer,
            CustomerKind::Chain,
            CustomerKind::Agent,
        ][k % 4];
        customer.grade = [Grade::Key, Grade::General, Grade::Occasional][k % 3];
        customer.lifecycle = Lifecycle::Active;
        customers.push(laptop.store.create(&customer, "add customer")?);
        count(outcome, "customer");
    }
    for (k, customer) in customers.iter().enumerate() {
        for day in 0..2 {
            let at = monday + Duration::days((k + day * 2) as i64) + Duration::hours(2 + k as i64);
            let mut visit = Visit::new(*customer, user.clone(), chrono_tz::Asia::Shanghai, at);
            visit.actual_at = Some(at);
            visit.purpose = Some(["新品推广", "回访", "催款", "库存检查"][(k + day) % 4].into());
            visit.outcome =
                Some(["有订货意向", "客户满意", "需跟进报价", "竞品降价"][(k + day) % 4].into());
            visit.competitor_news = (day == 1).then(|| "竞品本月促销买十送一".to_string());
            visit.stock_seen.insert(
                new_item_key(),
                StockSeen {
                    product: PRODUCTS[k % 5].0.into(),
                    code: Some(batch_code(k % 5, &home)),
                    quantity: Decimal::from(20 + 5 * k as i64),
                    position: 1024,
                },
            );
            // The first Guangzhou visit also finds cases of a batch shipped to Shanghai: 窜货.
            let plant = home == STOCK_SEEN_IN && outcome.cross_region_stock.is_none();
            let planted = batch_code(0, STOCK_SHIPPED_TO);
            if plant {
                visit.stock_seen.insert(
                    new_item_key(),
                    StockSeen {
                        product: PRODUCTS[0].0.into(),
                        code: Some(planted.clone()),
                        quantity: Decimal::from(12),
                        position: 2048,
                    },
                );
            }
            let id = laptop.store.create(&visit, "add visit")?;
            count(outcome, "visit");
            if plant {
                outcome.cross_region_stock = Some((id, planted));
            }
        }
    }
    for (k, customer) in customers.iter().take(2).enumerate() {
        let quote_id = quote(laptop, *customer, n, k, outcome)?;
        if k == 0 {
            let quotation: Quotation = laptop.store.get(quote_id)?;
            let mut order = Order::from_quotation(
                quote_id,
                &quotation,
                format!("O-{}-{n:03}{k}", monday.format("%Y%m")),
                user.clone(),
                monday + Duration::days(3),
            );
            order.status = OrderStatus::Confirmed;
            order.delivery_region = Some(home.clone());
            // The warehouse records the batch shipped on each line.
            for line in order.lines.values_mut() {
                let product = PRODUCTS.iter().position(|p| p.0 == line.product);
                line.batch = product.map(|p| batch_code(p, &home));
            }
            order.delivery_deadline = Some(week_day(17));
            // The first salesperson of each region orders through a dealer; in the first region
            // that dealer is the neighbouring region's, which is not authorised here: 窜货.
            order.dealer_id = pick_dealer(dealers, &home, n == 0);
            let id = laptop.store.create(&order, "order from quotation")?;
            count(outcome, "order");
            if n == 0 {
                outcome.cross_region_order = order.dealer_id.map(|dealer| (id, dealer));
            }
        }
    }
    if let Some(first) = customers.first() {
        laptop
            .store
            .update::<Customer>(*first, "edit customer", |c| {
                c.basics.manager = Some("采购部 王经理".into());
                c.profile.potential = Some("年采购额有望翻倍".into());
                Ok(())
            })?;
    }
    Ok(())
}

fn quote(
    laptop: &mut Laptop,
    customer: RecordId,
    n: usize,
    k: usize,
    outcome: &mut Outcome,
) -> anyhow::Result<RecordId> {
    let mut lines = BTreeMap::new();
    for (position, (code, _, _, price)) in PRODUCTS.iter().enumerate().skip(k).take(3) {
        lines.insert(
            new_item_key(),
            Line {
                product: (*code).into(),
                description: None,
                quantity: Decimal::from(50 + 10 * ((n + position) % 7) as i64),
                unit_price: price.parse()?,
                // Discounts stay within a salesperson's authority (10 %), except on a few
                // quotations that never became orders: those need a manager's approval.
                discount_pct: Decimal::from(if k == 1 && n % 7 == 3 {
                    18
                } else {
                    3 + (n + position) as i64 % 6
                }),
                position: 1024 * (position as i64 + 1),
                batch: None,
            },
        );
    }
    let quotation = Quotation {
        number: format!("Q-{}-{n:03}{k}", monday().format("%Y%m")),
        customer_id: customer,
        salesperson: laptop.person.user.clone(),
        currency: Currency::CNY,
        lines,
        valid_until: Some(week_day(38)),
        delivery_terms: Some("送货上门，运费我方承担".into()),
        payment_terms: Some("月结30天".into()),
        status: QuoteStatus::Sent,
        approval: None,
        notes: None,
        created_at: monday() + Duration::days(1 + k as i64),
        voided: None,
    };
    count(outcome, "quotation");
    Ok(laptop.store.create(&quotation, "new quotation")?)
}

/// The region whose stock check turns up goods shipped elsewhere, and where they were shipped.
const STOCK_SEEN_IN: &str = "SOUTH-GZ";
const STOCK_SHIPPED_TO: &str = "EAST-SH";

/// The batch code of a product (its index in [`PRODUCTS`]) shipped into a region this week.
fn batch_code(product: usize, region: &str) -> String {
    format!("B{}{product:02}-{region}", monday().format("%y%m"))
}

/// The dealer for an order: the home region's own, or (to plant a 窜货) a neighbour's that is
/// not authorised for the home region.
fn pick_dealer(dealers: &Dealers, home: &str, foreign: bool) -> Option<RecordId> {
    if foreign {
        dealers
            .iter()
            .find(|(region, _, authorised)| region != home && !authorised.iter().any(|a| a == home))
            .map(|(_, id, _)| *id)
    } else {
        dealers
            .iter()
            .find(|(region, _, _)| region == home)
            .map(|(_, id, _)| *id)
    }
}

/// Two salespeople of the same region both meet 上海宏远贸易有限公司 this week and each records
/// it, offline, with the same tax id: 撞单.
fn plant_duplicate_customer(
    laptops: &mut [Laptop],
    salespeople: &[usize],
    outcome: &mut Outcome,
) -> anyhow::Result<()> {
    let pair: Vec<usize> = salespeople
        .iter()
        .copied()
        .filter(|&i| laptops[i].person.territory == "EAST-SH")
        .take(2)
        .collect();
    // Wednesday 11:00 in Shanghai.
    let now = monday() + Duration::days(2) + Duration::hours(2);
    for (k, &i) in pair.iter().enumerate() {
        let laptop = &mut laptops[i];
        let name = if k == 0 {
            "上海宏远贸易有限公司"
        } else {
            "上海 宏远贸易 有限公司"
        };
        let mut customer = Customer::new(name, now);
        customer.region = Some("EAST-SH".into());
        customer.salesperson = Some(laptop.person.user.clone());
        customer.basics.tax_id = Some("91310000MA1K8HY777".into());
        customer.basics.phone = Some(
            if k == 0 {
                "021-6234 5678"
            } else {
                "02162345678"
            }
            .into(),
        );
        outcome
            .duplicate_customers
            .push(laptop.store.create(&customer, "add customer")?);
        count(outcome, "customer");
    }
    Ok(())
}

/// Monday 09:00 in Shanghai of the demo week: the week before the one the demo runs in, so that
/// every record of the week is dated days (never weeks) before its laptop syncs, and none in the
/// future. Fixed for the whole run.
pub fn monday() -> chrono::DateTime<Utc> {
    static MONDAY: std::sync::OnceLock<chrono::DateTime<Utc>> = std::sync::OnceLock::new();
    *MONDAY.get_or_init(|| {
        let zone = chrono_tz::Asia::Shanghai;
        let today = Utc::now().with_timezone(&zone).date_naive();
        let this_week = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
        let monday = (this_week - Duration::days(7)).and_hms_opt(9, 0, 0);
        // Shanghai has no daylight saving, so 09:00 on a Monday always exists.
        monday
            .and_then(|at| zone.from_local_datetime(&at).single())
            .map_or_else(Utc::now, |at| at.with_timezone(&Utc))
    })
}

/// The date (in Shanghai) `days` after the demo week's Monday.
pub fn week_day(days: i64) -> NaiveDate {
    (monday() + Duration::days(days))
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive()
}

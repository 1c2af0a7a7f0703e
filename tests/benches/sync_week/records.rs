//! The records a laptop makes: a small deterministic generator and customers, visits,
//! quotations and orders shaped like a Shanghai beverage distributor's.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use chrono::{Duration as Days, Utc};
use client::Store;
use rust_decimal::Decimal;
use serde_json::json;
use shared::RecordId;
use shared::domain::{
    Contact, Customer, CustomerKind, Grade, Lifecycle, Line, Order, OrderStatus, Quotation,
    QuoteStatus, StockSeen, Visit,
};

use crate::setup::TERRITORY;

/// Lines on every quotation.
const LINES_PER_QUOTE: usize = 5;

/// A small deterministic generator (xorshift64*), so every run makes the same kind of week.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// `n` distinct items when there are enough, else with repeats.
    pub fn sample<T: Clone>(&mut self, items: &[T], n: usize) -> Vec<T> {
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

/// A customer of the territory with its basics, credit and one contact.
pub fn customer(i: usize, salesperson: &str, rng: &mut Rng) -> Customer {
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
    // Credit terms are a manager's or finance's to set (shared::permissions): a salesperson's
    // new customer has none.
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

/// A visit to `customer_id` with one or two stock observations.
pub fn visit(customer_id: RecordId, salesperson: &str, store: &Store, rng: &mut Rng) -> Visit {
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
pub fn quotation(
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

/// A confirmed order made from a quotation.
pub fn order(n: usize, quotation_id: RecordId, quote: &Quotation, salesperson: &str) -> Order {
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

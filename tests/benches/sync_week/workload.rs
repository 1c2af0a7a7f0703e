//! Workload generation, not measured: the territory seeded by the other salesperson's laptop,
//! the benchmark laptop's week offline, and the other salesperson's changes meanwhile.

use anyhow::Result;
use client::Store;
use shared::RecordId;
use shared::domain::{Customer, Lifecycle, Quotation, Visit};

use crate::records::{Rng, customer, order, quotation, visit};

/// The week: what the benchmark laptop does offline.
pub const WEEK_VISITS: usize = 125;
pub const WEEK_QUOTES: usize = 50;
pub const WEEK_ORDERS: usize = 25;
const WEEK_CUSTOMER_EDITS: usize = 75;

/// The other salesperson's changes meanwhile (300 in all).
const OTHER_VISITS: usize = 120;
const OTHER_QUOTES: usize = 30;
const OTHER_ORDERS: usize = 10;
const OTHER_CUSTOMER_EDITS: usize = 100;
const OTHER_VISIT_EDITS: usize = 40;

/// The records one laptop made, by kind.
#[derive(Default)]
pub struct Made {
    pub customers: Vec<RecordId>,
    pub visits: Vec<RecordId>,
    quotes: Vec<(RecordId, Quotation)>,
    orders: Vec<RecordId>,
}

/// New visits, quotations and orders one laptop makes on existing customers.
struct Plan<'a> {
    salesperson: &'a str,
    visits: usize,
    /// The commit message of each new visit.
    visit_message: &'a str,
    quotes: usize,
    orders: usize,
    /// Order `n` is made from quotation `n * order_stride` (modulo the quotations made).
    order_stride: usize,
    /// Added to the running number of quotations and orders.
    number_base: usize,
}

/// Makes `plan`'s visits, then quotations, then orders, on customers picked from `customers`.
fn make(store: &mut Store, customers: &[RecordId], plan: &Plan<'_>, rng: &mut Rng) -> Result<Made> {
    let mut made = Made::default();
    for _ in 0..plan.visits {
        let c = *rng.pick(customers);
        let v = visit(c, plan.salesperson, store, rng);
        made.visits.push(store.create(&v, plan.visit_message)?);
    }
    for n in 0..plan.quotes {
        let c = *rng.pick(customers);
        let q = quotation(plan.number_base + n, c, plan.salesperson, rng)?;
        let id = store.create(&q, "create quotation")?;
        made.quotes.push((id, q));
    }
    for n in 0..plan.orders {
        let (qid, q) = made.quotes[n * plan.order_stride % made.quotes.len()].clone();
        let o = order(plan.number_base + n, qid, &q, plan.salesperson);
        made.orders.push(store.create(&o, "create order")?);
    }
    Ok(made)
}

/// Seeds the territory from one seeding laptop (the other salesperson's).
pub fn seed(store: &mut Store, docs: usize, rng: &mut Rng) -> Result<Made> {
    let customers = docs * 2 / 11;
    let visits = docs * 6 / 11;
    let quotes = docs * 2 / 11;
    let orders = docs - customers - visits - quotes;
    let mut made_customers = Vec::with_capacity(customers);
    for i in 0..customers {
        made_customers.push(store.create(&customer(i, "sh1", rng), "create customer")?);
    }
    let plan = Plan {
        salesperson: "sh2",
        visits,
        visit_message: "create visit",
        quotes,
        orders,
        order_stride: 1,
        number_base: 0,
    };
    let mut made = make(store, &made_customers, &plan, rng)?;
    made.customers = made_customers;
    Ok(made)
}

/// The benchmark laptop's week offline: new visits, quotations and orders, and customer edits.
pub fn week(bench: &mut Store, seeded: &Made, rng: &mut Rng) -> Result<()> {
    let plan = Plan {
        salesperson: "sh1",
        visits: WEEK_VISITS,
        visit_message: "record visit",
        quotes: WEEK_QUOTES,
        orders: WEEK_ORDERS,
        order_stride: 2,
        number_base: 100_000,
    };
    make(bench, &seeded.customers, &plan, rng)?;
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
    Ok(())
}

/// The other salesperson's work meanwhile: new records, customer edits and visit edits.
pub fn others_week(other: &mut Store, seeded: &Made, rng: &mut Rng) -> Result<()> {
    let plan = Plan {
        salesperson: "sh2",
        visits: OTHER_VISITS,
        visit_message: "record visit",
        quotes: OTHER_QUOTES,
        orders: OTHER_ORDERS,
        order_stride: 1,
        number_base: 200_000,
    };
    make(other, &seeded.customers, &plan, rng)?;
    for (k, id) in rng
        .sample(&seeded.customers, OTHER_CUSTOMER_EDITS)
        .into_iter()
        .enumerate()
    {
        other.update::<Customer>(id, "edit customer", |c| {
            c.basics.owner = Some(format!("钱老板{k}"));
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
    Ok(())
}

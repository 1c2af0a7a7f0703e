//! Each salesperson's week: 75 visits (some with stock seen), 20 quotations of 3 lines (some
//! with discounts or amounts beyond authority, two on colleagues' customers), 10 orders (most
//! from those quotations, with dealers, one supplied by another large region's dealer), and
//! edits: 10 customers, 5 quotations re-priced.

use std::collections::BTreeMap;

use anyhow::{Context as _, Result};
use chrono::{DateTime, Utc};
use rand::Rng;
use rand::rngs::StdRng;
use rust_decimal::Decimal;
use shared::RecordId;
use shared::domain::{Line, Order, OrderStatus, Quotation, QuoteStatus, StockSeen, Visit};
use shared::money::Currency;

use crate::customers::{CUSTOMERS_EACH, Cust, DEALERS_EACH_REGION};
use crate::org::{Org, PER_REGION, REGIONS};
use crate::workload::Queue;

const VISITS_EACH: usize = 75;
const QUOTES_EACH: usize = 20;
const ORDERS_EACH: usize = 10;
const CUSTOMER_EDITS_EACH: usize = 10;
const QUOTE_EDITS_EACH: usize = 5;

/// What every salesperson's week refers to.
pub struct Context<'a> {
    pub org: &'a Org,
    /// `dealers[r]`: region `r`'s dealers.
    pub dealers: &'a [Vec<RecordId>],
    pub now: DateTime<Utc>,
}

/// Three quotation lines: `big` ones priced beyond authority, `discount_beyond` with the first
/// line discounted beyond it.
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

/// Region `r`'s `k`th salesperson's week; `customers[k]` are theirs.
pub fn salesperson_week(
    context: &Context<'_>,
    r: usize,
    k: usize,
    customers: &mut [Vec<Cust>],
    queue: &mut Queue,
    rng: &mut StdRng,
) -> Result<()> {
    let (code, _, city, large) = REGIONS[r];
    let (dealers, now) = (context.dealers, context.now);
    let seller = context.org.sellers[r][k];
    let me = context.org.people[seller].name.clone();
    for v in 0..VISITS_EACH {
        let c = &customers[k][v % CUSTOMERS_EACH];
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
        queue.create(seller, &visit)?;
        queue.mix.add("visits");
    }
    let mut quotes = Vec::new();
    for q in 0..QUOTES_EACH {
        // Two quotations on a colleague's customer (contested 撞单), the rest own.
        let customer = if q >= QUOTES_EACH - 2 {
            queue.mix.add("quotations on a colleague's customer");
            customers[(k + 1) % PER_REGION][q].made.id
        } else {
            customers[k][q * 2].made.id
        };
        let beyond_discount = q % 5 == 1;
        let big = q % 7 == 3;
        let quote = Quotation {
            number: format!("Q-{code}-{k}-{q:03}"),
            customer_id: customer,
            salesperson: me.clone(),
            currency: Currency::CNY,
            lines: lines(rng, big, beyond_discount),
            valid_until: None,
            delivery_terms: Some("送货上门".into()),
            payment_terms: Some("月结30天".into()),
            status: QuoteStatus::Sent,
            notes: None,
            created_at: now,
            voided: None,
            approval: None,
        };
        let made = queue.create(seller, &quote)?;
        queue.mix.add("quotations");
        if beyond_discount || big {
            queue.mix.add("quotations beyond authority (before edits)");
        }
        quotes.push((made, quote));
    }
    for o in 0..ORDERS_EACH {
        let (q_made, quote) = &quotes[o];
        let number = format!("O-{code}-{k}-{o:03}");
        let mut order = if o < ORDERS_EACH - 2 {
            Order::from_quotation(q_made.id, quote, number, me.clone(), now)
        } else {
            // A direct order on a customer with a credit limit, large enough to pass it.
            let customer = &customers[k][o * 3];
            Order {
                number,
                quotation_id: None,
                customer_id: customer.made.id,
                salesperson: me.clone(),
                dealer_id: None,
                currency: Currency::CNY,
                lines: lines(rng, o % 2 == 0, false),
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
                approval: None,
            }
        };
        order.status = OrderStatus::Confirmed;
        order.delivery_region = Some(code.to_string());
        order.delivery_place = Some(format!("{city}仓库"));
        order.dealer_id = Some(if o == 4 {
            // Supplied by a dealer of another large region: 窜货.
            queue.mix.add("orders via another large region's dealer");
            let other = REGIONS
                .iter()
                .position(|(_, _, _, l)| *l != large)
                .context("another large region")?;
            dealers[other][1]
        } else {
            dealers[r][o % DEALERS_EACH_REGION]
        });
        queue.create(seller, &order)?;
        queue.mix.add("orders");
    }
    for e in 0..CUSTOMER_EDITS_EACH {
        let c = &mut customers[k][e * 5 + 1];
        c.record.basics.address = Some(format!("{city}市新区{}路{}号", e + 1, k + 8));
        c.record.lifecycle = shared::domain::Lifecycle::Active;
        queue.update(seller, &mut c.made, &c.record)?;
        queue.mix.add("customer edits");
    }
    for e in 0..QUOTE_EDITS_EACH {
        let (made, quote) = &mut quotes[e * 3 + 2];
        if let Some(line) = quote.lines.get_mut("l1") {
            line.discount_pct += Decimal::from(8);
        }
        queue.update(seller, made, &*quote)?;
        queue.mix.add("quotation edits (re-priced)");
    }
    Ok(())
}

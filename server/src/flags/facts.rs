//! Building the rules' facts from the server's projection tables and `documents.territory`.
//!
//! Every query here is by an indexed column (a document id, a customer id, a normalised key), so
//! a rule check costs a few index lookups however large the database grows. Territories always
//! come from `documents.territory`, the server's own derivation, never from what a laptop wrote
//! into a record.

use std::collections::BTreeSet;
use std::str::FromStr;

use rusqlite::{Connection, OptionalExtension, params};
use rust_decimal::Decimal;
use shared::RecordId;
use shared::domain::{OrderStatus, QuoteStatus};
use shared::money::Currency;
use shared::rules::authority::{Person, Role, Scope, StaffGrade};
use shared::rules::credit::CreditFacts;
use shared::rules::cross_region::DealerFacts;
use shared::rules::duplicates::{CustomerFacts, CustomerKeys};
use shared::rules::facts::{Amount, DealFacts, DealStatus};

use crate::accounts::{self, UserInfo};
use crate::clock;
use crate::error::ServerError;
use crate::territory::Tree;

/// A document's territory as the server derived it.
pub fn territory(conn: &Connection, doc_id: RecordId) -> Result<Option<String>, ServerError> {
    Ok(conn
        .prepare_cached("SELECT territory FROM documents WHERE doc_id = ?1")?
        .query_row([doc_id.to_string()], |r| r.get(0))
        .optional()?)
}

/// A live (not voided) customer as the duplicate rule sees it. Its `created_at` is the trusted
/// time ([`clock`]): who registered a customer first (撞单) is never decided by a laptop clock
/// beyond the offline window.
pub fn customer(conn: &Connection, id: RecordId) -> Result<Option<CustomerFacts>, ServerError> {
    let row = conn
        .prepare_cached(
            "SELECT c.name, c.phone, c.tax_id, c.salesperson, d.territory, c.created_at, c.voided,
                    d.received_at
             FROM customers c JOIN documents d ON d.doc_id = c.doc_id WHERE c.doc_id = ?1",
        )?
        .query_row([id.to_string()], |r| {
            Ok((
                (
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, String>(4)?,
                ),
                (
                    r.get::<_, String>(5)?,
                    r.get::<_, i64>(6)?,
                    r.get::<_, Option<String>>(7)?,
                ),
            ))
        })
        .optional()?;
    let Some(((name, phone, tax_id, salesperson, region), (created, voided, received))) = row
    else {
        return Ok(None);
    };
    if voided != 0 {
        return Ok(None);
    }
    let created_at = clock::trusted(clock::policy(conn)?, &created, received.as_deref(), None);
    Ok(Some(CustomerFacts {
        id,
        name,
        phone,
        tax_id,
        salesperson,
        region: Some(region),
        created_at: created_at.unwrap_or_default(),
    }))
}

/// Stores a customer's normalised keys (or drops them when it is voided, so a voided file never
/// matches again).
pub fn store_keys(
    conn: &Connection,
    id: RecordId,
    facts: Option<&CustomerFacts>,
) -> Result<(), ServerError> {
    let id = id.to_string();
    conn.prepare_cached("DELETE FROM customer_keys WHERE doc_id = ?1")?
        .execute([&id])?;
    if let Some(facts) = facts {
        let keys = CustomerKeys::of(facts);
        conn.prepare_cached(
            "INSERT INTO customer_keys (doc_id, tax_id, phone, name) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![id, keys.tax_id, keys.phone, keys.name])?;
    }
    Ok(())
}

/// The other live customers sharing a normalised key with `facts`.
pub fn duplicate_candidates(
    conn: &Connection,
    facts: &CustomerFacts,
) -> Result<Vec<CustomerFacts>, ServerError> {
    let keys = CustomerKeys::of(facts);
    // A UNION of three indexed lookups rather than one OR, so each uses its own index.
    let mut stmt = conn.prepare_cached(
        "SELECT doc_id FROM customer_keys WHERE tax_id = ?1
         UNION SELECT doc_id FROM customer_keys WHERE phone = ?2
         UNION SELECT doc_id FROM customer_keys WHERE name = ?3",
    )?;
    let ids: Vec<String> = stmt
        .query_map(params![keys.tax_id, keys.phone, keys.name], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut out = Vec::new();
    for id in ids.iter().filter_map(|id| id.parse::<RecordId>().ok()) {
        if id != facts.id
            && let Some(other) = customer(conn, id)?
        {
            out.push(other);
        }
    }
    Ok(out)
}

/// The customer a possibly merged customer id stands for (the survivor of a merge, or itself).
pub(crate) fn resolved(conn: &Connection, customer_id: RecordId) -> Result<RecordId, ServerError> {
    let survivor = crate::store::realign::resolve_customer(conn, &customer_id.to_string())?;
    Ok(survivor.parse().unwrap_or(customer_id))
}

/// Every quotation and order of a customer, without lines (what the contested rule needs).
/// A merged duplicate's deals count as its survivor's: they are found by the customer the
/// server hangs them from (`documents.customer_id`), not by the id written in the record.
pub fn deals_of_customer(
    conn: &Connection,
    customer_id: RecordId,
) -> Result<Vec<DealFacts>, ServerError> {
    let customer_id = resolved(conn, customer_id)?;
    let mut stmt = conn.prepare_cached(
        "SELECT x.doc_id, x.salesperson, x.status, x.voided, x.currency, d.territory, 0
         FROM quotations x JOIN documents d ON d.doc_id = x.doc_id WHERE d.customer_id = ?1
         UNION ALL
         SELECT x.doc_id, x.salesperson, x.status, x.voided, x.currency, d.territory, 1
         FROM orders x JOIN documents d ON d.doc_id = x.doc_id WHERE d.customer_id = ?1",
    )?;
    let rows = stmt.query_map([customer_id.to_string()], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, i64>(6)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, salesperson, status, voided, currency, region, is_order) = row?;
        let status = if is_order == 1 {
            OrderStatus::from_str(&status).ok().map(DealStatus::Order)
        } else {
            QuoteStatus::from_str(&status).ok().map(DealStatus::Quote)
        };
        let (Ok(id), Some(status), Ok(currency)) = (id.parse(), status, currency.parse()) else {
            continue;
        };
        out.push(DealFacts {
            id,
            customer_id,
            salesperson,
            region: Some(region),
            status,
            voided: voided != 0,
            currency,
            lines: Vec::new(),
        });
    }
    Ok(out)
}

/// A customer's credit position when `order` was placed: its limit, the open (uninvoiced)
/// orders placed before it, and as receivables the invoiced but unpaid orders placed before
/// it. Counting only earlier orders makes the verdict on an order the same whether it is
/// checked as it arrives or in a later full re-check: an order is flagged for taking the
/// customer past its limit, not for a later order doing so. There are no payment records yet,
/// so an invoiced order counts as wholly unpaid until it is marked paid. `order` is the order's
/// id and its laptop's `created_at`; orders are put in order by their trusted times
/// ([`clock`]), so a backdated order cannot slip in before the ones already placed.
pub fn credit(
    conn: &Connection,
    customer_id: RecordId,
    order: (RecordId, chrono::DateTime<chrono::Utc>),
) -> Result<Option<CreditFacts>, ServerError> {
    let policy = clock::policy(conn)?;
    let placed = clock::created(conn, policy, &order.0.to_string(), order.1)?;
    let customer_id = resolved(conn, customer_id)?;
    let id = customer_id.to_string();
    let row = conn
        .prepare_cached(
            "SELECT c.name, c.credit_limit, c.currency, d.territory
             FROM customers c JOIN documents d ON d.doc_id = c.doc_id WHERE c.doc_id = ?1",
        )?
        .query_row([&id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })
        .optional()?;
    let Some((name, limit, currency, region)) = row else {
        return Ok(None);
    };
    let Ok(currency) = currency.parse::<Currency>() else {
        return Ok(None);
    };
    let mut facts = CreditFacts {
        customer_id,
        name,
        region: Some(region),
        limit: limit.and_then(|l| Decimal::from_str(&l).ok()),
        currency,
        open_orders: Vec::new(),
        receivables: Vec::new(),
    };
    let mut stmt = conn.prepare_cached(
        "SELECT o.doc_id, o.status, o.total, o.currency, o.created_at, d.received_at
         FROM orders o JOIN documents d ON d.doc_id = o.doc_id
         WHERE d.customer_id = ?1 AND o.voided = 0",
    )?;
    let rows = stmt.query_map([&id], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, Option<String>>(5)?,
        ))
    })?;
    for row in rows {
        let (doc, status, total, currency, created, received) = row?;
        let (Ok(doc), Ok(status), Ok(amount), Ok(currency), Some(created)) = (
            doc.parse::<RecordId>(),
            status.parse::<OrderStatus>(),
            Decimal::from_str(&total),
            currency.parse::<Currency>(),
            clock::trusted(policy, &created, received.as_deref(), None),
        ) else {
            continue;
        };
        if (created, doc) > (placed, order.0) {
            continue;
        }
        facts.add_order(doc, status, Amount { amount, currency });
    }
    Ok(Some(facts))
}

/// `deal` with each line's list price from the price list (the products projection), where
/// the product is listed, not voided, and priced in the deal's currency.
pub fn with_list_prices(conn: &Connection, deal: &DealFacts) -> Result<DealFacts, ServerError> {
    let mut priced = deal.clone();
    let mut stmt = conn.prepare_cached(
        "SELECT list_price, currency FROM products WHERE code = ?1 AND voided = 0 LIMIT 1",
    )?;
    for line in &mut priced.lines {
        let row = stmt
            .query_row([&line.product], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .optional()?;
        line.list_price = row
            .filter(|(_, currency)| currency.parse::<Currency>().ok() == Some(deal.currency))
            .and_then(|(price, _)| Decimal::from_str(&price).ok());
    }
    Ok(priced)
}

/// A dealer as the 窜货 rule sees it.
pub fn dealer(conn: &Connection, id: RecordId) -> Result<Option<DealerFacts>, ServerError> {
    let row = conn
        .prepare_cached(
            "SELECT x.name, d.territory, x.authorised_regions
             FROM dealers x JOIN documents d ON d.doc_id = x.doc_id WHERE x.doc_id = ?1",
        )?
        .query_row([id.to_string()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        })
        .optional()?;
    Ok(row.map(|(name, region, authorised)| DealerFacts {
        id,
        name,
        region: Some(region),
        authorised_regions: authorised
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
    }))
}

/// The rules' role for an account's role: head office and admins share head office authority.
pub fn rule_role(role: accounts::Role) -> Role {
    match role {
        accounts::Role::Salesperson => Role::Salesperson,
        accounts::Role::RegionManager => Role::RegionManager,
        accounts::Role::LargeRegionManager => Role::LargeRegionManager,
        accounts::Role::HeadOffice | accounts::Role::Admin => Role::HeadOffice,
        // Finance approves no discounts and makes no deals: the least authority there is.
        accounts::Role::Finance => Role::Salesperson,
    }
}

/// A person's authority by user name. Someone without an account (a name typed on a laptop)
/// gets the least authority there is: a salesperson on probation.
pub fn person(conn: &Connection, user: &str) -> Result<Person, ServerError> {
    let row = conn
        .prepare_cached("SELECT role, grade FROM users WHERE name = ?1")?
        .query_row([user], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })
        .optional()?;
    let (role, grade) = row
        .map(|(role, grade)| {
            (
                role.parse::<accounts::Role>().map(rule_role).ok(),
                grade.parse::<StaffGrade>().ok(),
            )
        })
        .unwrap_or_default();
    Ok(Person {
        user: user.to_string(),
        role: role.unwrap_or(Role::Salesperson),
        grade: grade.unwrap_or(StaffGrade::Probation),
    })
}

/// The territories a user's authority reaches: everything for head office, else every node of
/// their subtree.
pub fn scope(tree: &Tree, user: &UserInfo) -> Scope {
    if user.role.reads_all() {
        Scope::All
    } else {
        Scope::Regions(tree.codes_within(&user.territory))
    }
}

/// Territory codes that exist, in order, from a finding's regions.
pub fn known_regions(tree: &Tree, regions: &[String]) -> BTreeSet<String> {
    regions.iter().filter(|r| tree.exists(r)).cloned().collect()
}

/// When the situation made of `records` arose: the latest time among them (a customer's or a
/// deal's `created_at`, a visit's actual or planned time), each the trusted time ([`clock`]):
/// a creation time judged against when the server first received the record, a visit's time
/// (which marking it done may write later) between the window before its first receipt and its
/// last. Dealers and records the server does not hold have no time; `None` when none has.
/// Reports count a flag in this period, so a flag lands in the same week as the order or visit
/// that raised it, and no laptop clock can move it beyond the offline window.
pub fn occurred_at(
    conn: &Connection,
    records: &[RecordId],
) -> Result<Option<chrono::DateTime<chrono::Utc>>, ServerError> {
    let policy = clock::policy(conn)?;
    let mut stmt = conn.prepare_cached(
        "SELECT x.created_at, d.received_at, d.received_at
         FROM customers x JOIN documents d ON d.doc_id = x.doc_id WHERE x.doc_id = ?1
         UNION ALL SELECT x.created_at, d.received_at, d.received_at
         FROM quotations x JOIN documents d ON d.doc_id = x.doc_id WHERE x.doc_id = ?1
         UNION ALL SELECT x.created_at, d.received_at, d.received_at
         FROM orders x JOIN documents d ON d.doc_id = x.doc_id WHERE x.doc_id = ?1
         UNION ALL SELECT COALESCE(x.actual_at, x.planned_at), d.received_at, d.updated_at
         FROM visits x JOIN documents d ON d.doc_id = x.doc_id WHERE x.doc_id = ?1",
    )?;
    let mut latest = None;
    for id in records {
        let times: Vec<TimeAndReceipt> = stmt
            .query_map([id.to_string()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        for (time, first, last) in times {
            let trusted = time
                .as_deref()
                .and_then(|time| clock::trusted(policy, time, first.as_deref(), last.as_deref()));
            latest = latest.max(trusted);
        }
    }
    Ok(latest)
}

/// A laptop's time and the server's first and last receipt of its record, as stored.
type TimeAndReceipt = (Option<String>, Option<String>, Option<String>);

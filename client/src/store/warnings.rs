//! Offline warnings: the facts the pure rules of [`shared::rules`] need, gathered from what this
//! laptop holds, so a salesperson sees a provisional verdict at the moment of entry.
//!
//! The queries mirror the server's `server/src/flags/facts.rs` as far as the laptop can: the
//! region of a deal is its customer's `region` (the laptop has no `documents.territory`), the
//! author's authority comes from the role the server gave at login (meta `role`) at the
//! grade it gave (meta `grade`; [`StaffGrade::Regular`] before any login), and credit counts only the
//! orders this laptop knows. The server's verdict on sync is the one that counts; these
//! warnings never stop a save.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use rust_decimal::Decimal;
use shared::RecordId;
use shared::domain::{Order, OrderStatus, Quotation, QuoteStatus};
use shared::money::Currency;
use shared::rules::Finding;
use shared::rules::approval::covers;
use shared::rules::authority::{Person, Role, StaffGrade, check_deal, demo_limits};
use shared::rules::credit::{CreditFacts, NewOrder, check_credit};
use shared::rules::cross_region::{DealerFacts, OrderDelivery, check_order_delivery};
use shared::rules::duplicates::{CustomerFacts, contested_customers, find_duplicates};
use shared::rules::facts::{Amount, DealFacts, DealStatus};

use super::Store;
use crate::error::ClientError;

impl Store {
    /// Provisional findings for a customer just saved: duplicates (撞单) among the live
    /// customers on this laptop. A voided or unknown customer gives none.
    pub fn customer_warnings(&self, id: RecordId) -> Result<Vec<Finding>, ClientError> {
        let all = self.local_customers()?;
        let Some(customer) = all.iter().find(|c| c.id == id) else {
            return Ok(Vec::new());
        };
        Ok(find_duplicates(customer, &all))
    }

    /// Provisional findings for a quotation just saved: authority, and another salesperson's
    /// open deals for the same customer.
    pub fn quotation_warnings(&self, id: RecordId) -> Result<Vec<Finding>, ClientError> {
        let quote: Quotation = self.get(id)?;
        let region = self.customer_region(quote.customer_id)?;
        let deal = quote.facts(id, region);
        let mut out = self.contested(quote.customer_id)?;
        if !covers(quote.approval.as_ref(), &deal) {
            out.extend(check_deal(
                &deal,
                &self.author(&deal.salesperson)?,
                &demo_limits(),
            ));
        }
        Ok(out)
    }

    /// Provisional findings for an order just saved: authority, contested customer, credit
    /// against the orders this laptop knows, and the supplying dealer's authorised regions
    /// when the dealer is on this laptop.
    pub fn order_warnings(&self, id: RecordId) -> Result<Vec<Finding>, ClientError> {
        let order: Order = self.get(id)?;
        let region = self.customer_region(order.customer_id)?;
        let deal = order.facts(id, region.clone());
        let mut out = self.contested(order.customer_id)?;
        if !self.order_approved(&order, &deal)? {
            out.extend(check_deal(
                &deal,
                &self.author(&deal.salesperson)?,
                &demo_limits(),
            ));
        }
        if deal.is_live()
            && let Some(credit) = self.credit(order.customer_id, (id, order.created_at))?
        {
            let new = NewOrder {
                id,
                salesperson: order.salesperson.clone(),
                total: Amount {
                    amount: order.total(),
                    currency: order.currency,
                },
            };
            out.extend(check_credit(&credit, &new));
        }
        if order.voided.is_none()
            && let Some(dealer_id) = order.dealer_id
            && let Some(dealer) = self.dealer_facts(dealer_id)?
        {
            out.extend(check_order_delivery(&OrderDelivery {
                order_id: id,
                number: order.number.clone(),
                customer_id: order.customer_id,
                salesperson: order.salesperson.clone(),
                customer_region: region,
                delivery_region: order.delivery_region.clone(),
                dealer: Some(dealer),
            }));
        }
        Ok(out)
    }

    /// The author's authority as far as the laptop knows it: the role the server gave this
    /// device's user at login for their own deals (salesperson when unknown), salesperson for
    /// anyone else's; at the grade given at login for this device's user, else regular.
    pub(super) fn author(&self, user: &str) -> Result<Person, ClientError> {
        let role = if user == self.device.user {
            self.meta("role")?
                .as_deref()
                .map(rule_role)
                .unwrap_or(Role::Salesperson)
        } else {
            Role::Salesperson
        };
        Ok(Person {
            user: user.to_string(),
            role,
            grade: if user == self.device.user {
                self.meta("grade")?
                    .and_then(|g| g.parse().ok())
                    .unwrap_or(StaffGrade::Regular)
            } else {
                StaffGrade::Regular
            },
        })
    }

    /// Every live customer on this laptop as the duplicate rule sees it.
    fn local_customers(&self) -> Result<Vec<CustomerFacts>, ClientError> {
        let mut stmt = self.conn.prepare(
            "SELECT doc_id, name, phone, tax_id, salesperson, region, created_at
             FROM customers WHERE voided = 0",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, Option<String>>(6)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, name, phone, tax_id, salesperson, region, created) = row?;
            let Ok(id) = id.parse() else { continue };
            out.push(CustomerFacts {
                id,
                name: name.unwrap_or_default(),
                phone,
                tax_id,
                salesperson,
                region: region.filter(|r| !r.is_empty()),
                created_at: created.as_deref().map(instant).unwrap_or_default(),
            });
        }
        Ok(out)
    }

    /// A customer's region on this laptop.
    pub(super) fn customer_region(
        &self,
        customer: RecordId,
    ) -> Result<Option<String>, ClientError> {
        Ok(self
            .conn
            .query_row(
                "SELECT region FROM customers WHERE doc_id = ?1",
                [customer.to_string()],
                |r| r.get::<_, Option<String>>(0),
            )
            .optional()?
            .flatten()
            .filter(|r| !r.is_empty()))
    }

    /// The contested-customer finding over the customer's quotations and orders on this laptop.
    fn contested(&self, customer: RecordId) -> Result<Vec<Finding>, ClientError> {
        let region = self.customer_region(customer)?;
        let mut stmt = self.conn.prepare(
            "SELECT doc_id, salesperson, status, voided, currency, 0 FROM quotations
             WHERE customer_id = ?1
             UNION ALL
             SELECT doc_id, salesperson, status, voided, currency, 1 FROM orders
             WHERE customer_id = ?1",
        )?;
        let rows = stmt.query_map([customer.to_string()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<i64>>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, i64>(5)?,
            ))
        })?;
        let mut deals = Vec::new();
        for row in rows {
            let (id, salesperson, status, voided, currency, is_order) = row?;
            let status = status.as_deref().and_then(|s| {
                if is_order == 1 {
                    OrderStatus::from_str(s).ok().map(DealStatus::Order)
                } else {
                    QuoteStatus::from_str(s).ok().map(DealStatus::Quote)
                }
            });
            let currency = currency.as_deref().and_then(|c| c.parse().ok());
            let (Ok(id), Some(salesperson), Some(status), Some(currency)) =
                (id.parse(), salesperson, status, currency)
            else {
                continue;
            };
            deals.push(DealFacts {
                id,
                customer_id: customer,
                salesperson,
                region: region.clone(),
                status,
                voided: voided.unwrap_or(0) != 0,
                currency,
                lines: Vec::new(),
            });
        }
        Ok(contested_customers(&deals))
    }

    /// A customer's credit position as the laptop knows it when `order` was placed: as on the
    /// server, only orders placed before it count, open ones as open orders and invoiced ones
    /// as receivables (there are no payment records).
    fn credit(
        &self,
        customer: RecordId,
        order: (RecordId, DateTime<Utc>),
    ) -> Result<Option<CreditFacts>, ClientError> {
        let id = customer.to_string();
        let row = self
            .conn
            .query_row(
                "SELECT name, credit_limit, currency, region FROM customers WHERE doc_id = ?1",
                [&id],
                |r| {
                    Ok((
                        r.get::<_, Option<String>>(0)?,
                        r.get::<_, Option<String>>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, Option<String>>(3)?,
                    ))
                },
            )
            .optional()?;
        let Some((name, limit, currency, region)) = row else {
            return Ok(None);
        };
        let Some(currency) = currency.and_then(|c| c.parse::<Currency>().ok()) else {
            return Ok(None);
        };
        let mut facts = CreditFacts {
            customer_id: customer,
            name: name.unwrap_or_default(),
            region,
            limit: limit.and_then(|l| Decimal::from_str(&l).ok()),
            currency,
            open_orders: Vec::new(),
            receivables: Vec::new(),
        };
        let mut stmt = self.conn.prepare(
            "SELECT doc_id, status, total, currency, created_at FROM orders
             WHERE customer_id = ?1 AND voided = 0",
        )?;
        let rows = stmt.query_map(params![id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })?;
        for row in rows {
            let (doc, status, total, currency, created) = row?;
            let parsed = (
                doc.parse::<RecordId>().ok(),
                status.and_then(|s| s.parse::<OrderStatus>().ok()),
                total.and_then(|t| Decimal::from_str(&t).ok()),
                currency.and_then(|c| c.parse::<Currency>().ok()),
                created.as_deref().map(instant),
            );
            let (Some(doc), Some(status), Some(amount), Some(currency), Some(created)) = parsed
            else {
                continue;
            };
            if (created, doc) > (order.1, order.0) {
                continue;
            }
            facts.add_order(doc, status, Amount { amount, currency });
        }
        Ok(Some(facts))
    }

    /// A live dealer on this laptop as the 窜货 rule sees it; `None` when it is not here.
    fn dealer_facts(&self, id: RecordId) -> Result<Option<DealerFacts>, ClientError> {
        let row = self
            .conn
            .query_row(
                "SELECT name, region, authorised_regions FROM dealers
                 WHERE doc_id = ?1 AND voided = 0",
                [id.to_string()],
                |r| {
                    Ok((
                        r.get::<_, Option<String>>(0)?,
                        r.get::<_, Option<String>>(1)?,
                        r.get::<_, Option<String>>(2)?,
                    ))
                },
            )
            .optional()?;
        Ok(row.map(|(name, region, authorised)| DealerFacts {
            id,
            name: name.unwrap_or_default(),
            region: region.filter(|r| !r.is_empty()),
            authorised_regions: authorised
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
        }))
    }
}

/// The rules' role for the account role the server reports at login; admins have head
/// office's authority, as on the server. An unknown word gives the least: salesperson.
fn rule_role(role: &str) -> Role {
    match role.trim() {
        "admin" => Role::HeadOffice,
        other => Role::from_str(other).unwrap_or(Role::Salesperson),
    }
}

/// A stored RFC 3339 instant; the epoch when malformed (so ordering still works).
fn instant(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use shared::domain::{Authorisation, Customer, Dealer, Line};
    use shared::rules::FindingKind;

    use super::*;

    fn store(dir: &tempfile::TempDir, role: &str) -> Store {
        let mut store = Store::open(&dir.path().join("t.db")).unwrap();
        store
            .set_identity("zhang", "lap", chrono_tz::Asia::Shanghai)
            .unwrap();
        store.set_meta("role", role).unwrap();
        store
    }

    fn customer(store: &mut Store, name: &str, tax: &str, limit: Option<i64>) -> RecordId {
        let mut c = Customer::new(name, Utc::now());
        c.region = Some("EAST-SH".into());
        c.basics.tax_id = Some(tax.into());
        c.credit.limit = limit.map(Decimal::from);
        store.create(&c, "add").unwrap()
    }

    fn quote(customer_id: RecordId, price: i64, discount: i64) -> Quotation {
        let line = Line {
            product: "BEER".into(),
            description: None,
            quantity: Decimal::ONE,
            unit_price: Decimal::from(price),
            discount_pct: Decimal::from(discount),
            position: 1024,
            batch: None,
        };
        Quotation {
            number: "Q-1".into(),
            customer_id,
            salesperson: "zhang".into(),
            currency: Currency::CNY,
            lines: BTreeMap::from([("a".to_string(), line)]),
            valid_until: None,
            delivery_terms: None,
            payment_terms: None,
            status: QuoteStatus::Draft,
            notes: None,
            created_at: Utc::now(),
            voided: None,
            approval: None,
        }
    }

    fn kinds(findings: &[Finding]) -> Vec<FindingKind> {
        findings.iter().map(|f| f.kind).collect()
    }

    #[test]
    fn duplicates_within_the_laptop_and_near_misses() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = store(&dir, "salesperson");
        let a = customer(&mut s, "上海甲有限公司", "91310000MA1FL8XQ3A", None);
        let b = customer(&mut s, "上海甲", "91310000MA1FL8XQ3A", None);
        let c = customer(&mut s, "上海乙", "91310000MA1FL8XQ4B", None);
        assert_eq!(
            kinds(&s.customer_warnings(b).unwrap()),
            [FindingKind::DuplicateCustomer]
        );
        assert_eq!(s.customer_warnings(a).unwrap().len(), 1);
        assert!(s.customer_warnings(c).unwrap().is_empty());
    }

    #[test]
    fn authority_follows_the_role_given_at_login() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = store(&dir, "salesperson");
        let c = customer(&mut s, "甲", "91310000MA1FL8XQ3A", None);
        let q = s.create(&quote(c, 100, 18), "q").unwrap();
        assert_eq!(
            kinds(&s.quotation_warnings(q).unwrap()),
            [FindingKind::BeyondAuthority]
        );
        s.set_meta("role", "region_manager").unwrap();
        assert!(s.quotation_warnings(q).unwrap().is_empty());
    }

    #[test]
    fn authority_follows_the_grade_given_at_login() {
        // 12 % is beyond a regular salesperson's 10 % but within a supervisor's 15 %.
        let dir = tempfile::tempdir().unwrap();
        let mut s = store(&dir, "salesperson");
        let c = customer(&mut s, "甲", "91310000MA1FL8XQ3A", None);
        let q = s.create(&quote(c, 100, 12), "q").unwrap();
        assert_eq!(
            kinds(&s.quotation_warnings(q).unwrap()),
            [FindingKind::BeyondAuthority]
        );
        s.set_meta("grade", "supervisor").unwrap();
        assert!(s.quotation_warnings(q).unwrap().is_empty());
    }

    #[test]
    fn credit_counts_earlier_orders_and_dealers_their_regions() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = store(&dir, "salesperson");
        let c = customer(&mut s, "甲", "91310000MA1FL8XQ3A", Some(1000));
        let q = quote(c, 600, 0);
        let qid = s.create(&q, "q").unwrap();
        let order = |n: &str| Order::from_quotation(qid, &q, n.into(), "zhang".into(), Utc::now());
        let first = s.create(&order("O-1"), "o").unwrap();
        assert!(s.order_warnings(first).unwrap().is_empty());
        let mut dealer = Dealer::new("经销商", Utc::now());
        dealer.region = Some("EAST-HZ".into());
        dealer
            .authorised_regions
            .insert("EAST-HZ".into(), Authorisation { since: None });
        let mut second = order("O-2");
        second.dealer_id = Some(s.create(&dealer, "d").unwrap());
        let second = s.create(&second, "o").unwrap();
        let mut found = kinds(&s.order_warnings(second).unwrap());
        found.sort_by_key(|k| k.as_str());
        assert_eq!(
            found,
            [FindingKind::CreditLimit, FindingKind::CrossRegionSale]
        );
    }
}

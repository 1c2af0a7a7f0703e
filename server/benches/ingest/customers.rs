//! The territory's parties: 3 dealers per region made by its manager (some authorised for a
//! neighbouring region too), and 50 customers per salesperson (a third with a credit limit),
//! a few duplicating another salesperson's customer by tax id, phone or name.

use anyhow::Result;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use shared::RecordId;
use shared::domain::{Authorisation, Customer, CustomerKind, Dealer, Grade};

use crate::org::{Org, REGIONS};
use crate::workload::{Made, Queue};

/// Dealers per region.
pub const DEALERS_EACH_REGION: usize = 3;
/// Customers per salesperson.
pub const CUSTOMERS_EACH: usize = 50;

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

/// A unified social credit code, unique per `n`.
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

/// Dealers, by head office (only head office grants regions); every other one also
/// authorised for the neighbour region of the same large region. `dealers[r]` are region `r`'s.
pub fn dealers(org: &Org, queue: &mut Queue, now: DateTime<Utc>) -> Result<Vec<Vec<RecordId>>> {
    let mut dealers: Vec<Vec<RecordId>> = Vec::new();
    for (r, (code, _, city, _)) in REGIONS.iter().enumerate() {
        let neighbour = REGIONS[r ^ 1].0;
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
            ids.push(queue.create(org.head, &dealer)?.id);
            queue.mix.add("dealers");
        }
        dealers.push(ids);
    }
    Ok(dealers)
}

/// A customer being made, with the record it holds now.
pub struct Cust {
    pub made: Made,
    pub record: Customer,
}

/// Customers: 50 per salesperson, with planted duplicates of a colleague's customer.
/// `customers[r][k]` are region `r`'s `k`th salesperson's.
pub fn customers(org: &Org, queue: &mut Queue, now: DateTime<Utc>) -> Result<Vec<Vec<Vec<Cust>>>> {
    let mut customers: Vec<Vec<Vec<Cust>>> = Vec::new();
    let mut serial = 0usize;
    for (r, (code, _, city, _)) in REGIONS.iter().enumerate() {
        let mut region_customers: Vec<Vec<Cust>> = Vec::new();
        for (k, &seller) in org.sellers[r].iter().enumerate() {
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
                c.salesperson = Some(org.people[seller].name.clone());
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
                        queue.mix.add("planted duplicate customers");
                    }
                }
                // A customer with a credit limit is recorded by the region's manager: only a
                // manager or finance sets credit terms.
                let author = if c.credit.limit.is_some() {
                    org.managers[r]
                } else {
                    seller
                };
                let made = queue.create(author, &c)?;
                queue.mix.add("customers");
                own.push(Cust { made, record: c });
            }
            region_customers.push(own);
        }
        customers.push(region_customers);
    }
    Ok(customers)
}

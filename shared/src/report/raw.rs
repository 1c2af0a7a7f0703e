//! Projection rows as both sides read them from SQL, and how they become report facts.
//!
//! The server and a laptop select the same columns from the same projection tables (only where a
//! row's region comes from differs: the server's `documents.territory`, the laptop's customer
//! `region`), and turn them into [`Facts`](super::Facts) here, so the two can never disagree on
//! how a row is read. A row that cannot be read (a malformed date, amount, currency or status,
//! which the projection never writes) is skipped and counted, not allowed to fail a report.

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate};
use rust_decimal::Decimal;

use super::{CustomerRow, DealRow, FlagRow, VisitRow};
use crate::domain::{OrderStatus, QuoteStatus};
use crate::money::Currency;
use crate::rules::FindingKind;
use crate::rules::facts::DealStatus;

/// The time zone in which customers' and deals' creation instants become report dates, on the
/// server and on every laptop alike: a per-user zone would make two people's reports of the same
/// node disagree.
pub const REPORT_TIME_ZONE: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

/// The report date of a stored RFC 3339 instant.
pub fn report_date(text: &str) -> Option<NaiveDate> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|at| at.with_timezone(&REPORT_TIME_ZONE).date_naive())
}

/// A `customers` row: `created_at, salesperson, <region>`.
#[derive(Debug, Clone, Default)]
pub struct RawCustomer {
    /// `created_at`.
    pub created_at: Option<String>,
    /// `salesperson`.
    pub salesperson: Option<String>,
    /// The region, from wherever the side keeps it.
    pub region: Option<String>,
}

impl RawCustomer {
    /// The fact, or `None` when the row cannot be read.
    pub fn into_row(self) -> Option<CustomerRow> {
        Some(CustomerRow {
            created: report_date(self.created_at.as_deref()?)?,
            salesperson: self.salesperson,
            region: self.region,
        })
    }
}

/// A `visits` row: `local_date, salesperson, <region>`.
#[derive(Debug, Clone, Default)]
pub struct RawVisit {
    /// `local_date` (the visit's own local date).
    pub local_date: Option<String>,
    /// `salesperson`.
    pub salesperson: Option<String>,
    /// The region.
    pub region: Option<String>,
}

impl RawVisit {
    /// The fact, or `None` when the row cannot be read.
    pub fn into_row(self) -> Option<VisitRow> {
        Some(VisitRow {
            date: NaiveDate::from_str(self.local_date.as_deref()?).ok()?,
            salesperson: self.salesperson?,
            region: self.region,
        })
    }
}

/// A `quotations` or `orders` row: `created_at, salesperson, <region>, total, currency, status,
/// voided`.
#[derive(Debug, Clone, Default)]
pub struct RawDeal {
    /// `created_at`.
    pub created_at: Option<String>,
    /// `salesperson`.
    pub salesperson: Option<String>,
    /// The region.
    pub region: Option<String>,
    /// `total`, exact decimal text.
    pub total: Option<String>,
    /// `currency`.
    pub currency: Option<String>,
    /// `status`.
    pub status: Option<String>,
    /// `voided`.
    pub voided: bool,
}

impl RawDeal {
    /// The fact (an order when `order`, else a quotation), or `None` when the row cannot be read.
    pub fn into_row(self, order: bool) -> Option<DealRow> {
        let status = self.status?;
        let status = if order {
            DealStatus::Order(OrderStatus::from_str(&status).ok()?)
        } else {
            DealStatus::Quote(QuoteStatus::from_str(&status).ok()?)
        };
        Some(DealRow {
            date: report_date(self.created_at.as_deref()?)?,
            salesperson: self.salesperson?,
            region: self.region,
            total: Decimal::from_str_exact(self.total.as_deref()?).ok()?,
            currency: Currency::from_str(self.currency.as_deref()?).ok()?,
            status,
            voided: self.voided,
        })
    }
}

/// A `flags` row: `key, kind, regions, detected_at, occurred_at`.
#[derive(Debug, Clone, Default)]
pub struct RawFlag {
    /// `key`: one situation, whatever the number of copies.
    pub key: Option<String>,
    /// `kind`.
    pub kind: Option<String>,
    /// `regions`, comma separated: every region involved.
    pub regions: Option<String>,
    /// `detected_at`.
    pub detected_at: Option<String>,
    /// `occurred_at`: when the situation arose; absent in older flags.
    pub occurred_at: Option<String>,
}

/// Flags as report rows, one per situation (key). A finding is one flag document; older servers
/// kept a copy per region, so copies are still merged by key: regions are the union of the
/// copies' lists. A flag counts on the date its situation arose (the record that raised it),
/// else, for older flags, the date it was detected; the earliest over copies. Returns the rows
/// and how many could not be read.
pub fn merge_flags(rows: impl IntoIterator<Item = RawFlag>) -> (Vec<FlagRow>, usize) {
    let mut by_key: BTreeMap<String, FlagRow> = BTreeMap::new();
    let mut skipped = 0;
    for raw in rows {
        let parsed = (
            raw.key,
            raw.kind.and_then(|k| FindingKind::from_str(&k).ok()),
            raw.occurred_at
                .as_deref()
                .or(raw.detected_at.as_deref())
                .and_then(report_date),
        );
        let (Some(key), Some(kind), Some(detected)) = parsed else {
            skipped += 1;
            continue;
        };
        let row = by_key.entry(key).or_insert_with(|| FlagRow {
            kind,
            regions: Vec::new(),
            detected,
        });
        let regions = raw.regions.unwrap_or_default();
        row.regions.extend(
            regions
                .split(',')
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(String::from),
        );
        row.regions.sort();
        row.regions.dedup();
        row.detected = row.detected.min(detected);
    }
    (by_key.into_values().collect(), skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_taken_in_the_report_time_zone() {
        // 17:00 UTC on 30 November is already 1 December in Shanghai.
        assert_eq!(
            report_date("2026-11-30T17:00:00+00:00"),
            NaiveDate::from_ymd_opt(2026, 12, 1)
        );
        assert_eq!(report_date("yesterday"), None);
    }

    #[test]
    fn a_flag_counts_when_its_situation_arose_not_when_detected() {
        let flag = RawFlag {
            key: Some("k".into()),
            kind: Some("credit_limit".into()),
            regions: Some("EAST-SH".into()),
            detected_at: Some("2026-12-04T09:00:00Z".into()),
            occurred_at: Some("2026-11-24T02:00:00Z".into()),
        };
        let (rows, _) = merge_flags([flag]);
        assert_eq!(
            rows[0].detected,
            NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
        );
    }

    #[test]
    fn copies_of_one_flag_merge_and_bad_rows_are_counted() {
        let copy = |region: &str, at: &str| RawFlag {
            key: Some("k1".into()),
            kind: Some("cross_region_sale".into()),
            regions: Some(region.into()),
            detected_at: Some(at.into()),
            occurred_at: None,
        };
        let bad = RawFlag {
            key: Some("k2".into()),
            kind: Some("nonsense".into()),
            ..RawFlag::default()
        };
        let (rows, skipped) = merge_flags([
            copy("EAST-SH,EAST-HZ", "2026-11-25T02:00:00Z"),
            copy("EAST-HZ", "2026-11-24T02:00:00Z"),
            bad,
        ]);
        assert_eq!(skipped, 1);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].regions, ["EAST-HZ", "EAST-SH"]);
        assert_eq!(
            rows[0].detected,
            NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
        );
    }

    #[test]
    fn deals_parse_or_are_skipped() {
        let deal = RawDeal {
            created_at: Some("2026-11-25T02:00:00Z".into()),
            salesperson: Some("zhang.wei".into()),
            region: Some("EAST-SH".into()),
            total: Some("55.47".into()),
            currency: Some("CNY".into()),
            status: Some("confirmed".into()),
            voided: false,
        };
        let row = deal.clone().into_row(true).unwrap();
        assert_eq!(row.total, Decimal::from_str_exact("55.47").unwrap());
        assert!(
            deal.clone().into_row(false).is_none(),
            "confirmed is not a quotation status"
        );
        assert!(
            RawDeal {
                total: Some("1e3".into()),
                ..deal
            }
            .into_row(true)
            .is_none()
        );
    }
}

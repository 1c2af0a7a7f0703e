//! Reporting periods: the day, ISO week, month, quarter or year containing a date.

use chrono::{Datelike, Days, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::word_enum;

word_enum! {
    /// The length of a report's period (日报/周报/月报/季报/年报).
    pub enum Period {
        /// One calendar day.
        Day = ("day", "Day", "日"),
        /// An ISO week, Monday to Sunday.
        Week = ("week", "Week", "周"),
        /// A calendar month.
        Month = ("month", "Month", "月"),
        /// A calendar quarter (Jan–Mar, Apr–Jun, Jul–Sep, Oct–Dec).
        Quarter = ("quarter", "Quarter", "季度"),
        /// A calendar year.
        Year = ("year", "Year", "年"),
    }
}

/// An inclusive range of dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateRange {
    /// First day.
    pub first: NaiveDate,
    /// Last day (included).
    pub last: NaiveDate,
}

impl DateRange {
    /// Whether `date` lies in the range.
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.first <= date && date <= self.last
    }
}

impl Period {
    /// The period of this length that contains `date`. Dates are local calendar dates: the
    /// caller converts instants in the user's (or the visit's) time zone first, so "Tuesday"
    /// means Tuesday where it happened.
    pub fn containing(self, date: NaiveDate) -> DateRange {
        let (first, last) = match self {
            Period::Day => (date, date),
            Period::Week => {
                let back = u64::from(date.weekday().num_days_from_monday());
                let first = date.checked_sub_days(Days::new(back)).unwrap_or(date);
                (first, first.checked_add_days(Days::new(6)).unwrap_or(first))
            }
            Period::Month => months(date.year(), date.month(), 1).unwrap_or((date, date)),
            Period::Quarter => {
                let first_month = (date.month() - 1) / 3 * 3 + 1;
                months(date.year(), first_month, 3).unwrap_or((date, date))
            }
            Period::Year => months(date.year(), 1, 12).unwrap_or((date, date)),
        };
        DateRange { first, last }
    }
}

/// The first and last day of `count` months starting at `year`-`month`; `None` only at the
/// edges of chrono's calendar, where the caller falls back to the single day.
fn months(year: i32, month: u32, count: u32) -> Option<(NaiveDate, NaiveDate)> {
    let first = NaiveDate::from_ymd_opt(year, month, 1)?;
    let next = first.checked_add_months(chrono::Months::new(count))?;
    Some((first, next.pred_opt()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn periods_table() {
        let cases = [
            (Period::Day, "2026-03-18", "2026-03-18", "2026-03-18"),
            (Period::Week, "2026-03-18", "2026-03-16", "2026-03-22"), // Wednesday
            (Period::Week, "2026-03-16", "2026-03-16", "2026-03-22"), // Monday
            (Period::Week, "2026-03-22", "2026-03-16", "2026-03-22"), // Sunday
            (Period::Week, "2027-01-01", "2026-12-28", "2027-01-03"), // across a year
            (Period::Month, "2024-02-10", "2024-02-01", "2024-02-29"), // leap year
            (Period::Month, "2026-12-31", "2026-12-01", "2026-12-31"),
            (Period::Quarter, "2026-05-05", "2026-04-01", "2026-06-30"),
            (Period::Quarter, "2026-12-31", "2026-10-01", "2026-12-31"),
            (Period::Quarter, "2026-01-01", "2026-01-01", "2026-03-31"),
            (Period::Year, "2026-07-04", "2026-01-01", "2026-12-31"),
        ];
        for (period, date, first, last) in cases {
            let range = period.containing(day(date));
            assert_eq!(
                (range.first, range.last),
                (day(first), day(last)),
                "{period} {date}"
            );
            assert!(range.contains(day(date)));
        }
        assert_eq!("quarter".parse::<Period>().unwrap(), Period::Quarter);
        assert_eq!("周".parse::<Period>().unwrap(), Period::Week);
    }
}

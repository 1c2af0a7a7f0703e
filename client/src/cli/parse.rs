//! Turning command-line text into typed values, with errors that name the option.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use shared::money;
use shared::{Problem, Validation};

/// Applies an optional text option: absent leaves the field alone, empty clears it.
pub fn set_text(target: &mut Option<String>, given: &Option<String>) {
    if let Some(text) = given {
        let text = text.trim();
        *target = (!text.is_empty()).then(|| text.to_string());
    }
}

/// Applies an optional parsed option: absent leaves the field alone, empty clears it.
pub fn set_parsed<T>(
    v: &mut Validation,
    target: &mut Option<T>,
    given: &Option<String>,
    parse: impl FnOnce(&str) -> Result<T, Validation>,
) {
    if let Some(text) = given {
        if text.trim().is_empty() {
            *target = None;
        } else if let Some(value) = v.take(parse(text)) {
            *target = Some(value);
        }
    }
}

/// Applies an optional option to a field that always has a value.
pub fn set_required<T>(
    v: &mut Validation,
    target: &mut T,
    given: &Option<String>,
    parse: impl FnOnce(&str) -> Result<T, Validation>,
) {
    if let Some(text) = given
        && let Some(value) = v.take(parse(text))
    {
        *target = value;
    }
}

/// Parses a word of a closed set (kind, grade, status...), naming the option on error.
pub fn word<T: std::str::FromStr<Err = Problem>>(
    field: &'static str,
) -> impl Fn(&str) -> Result<T, Validation> {
    move |text| {
        text.parse()
            .map_err(|problem| Validation::one(field, problem))
    }
}

/// Parses a date written `YYYY-MM-DD`.
pub fn date(field: &'static str) -> impl Fn(&str) -> Result<NaiveDate, Validation> {
    move |text| {
        NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
            .map_err(|_| Validation::one(field, Problem::BadDate(text.to_string())))
    }
}

/// Parses a time: RFC 3339 (`2026-11-30T14:00:00+08:00`), or a local `YYYY-MM-DD HH:MM` in the
/// given time zone.
pub fn instant(field: &'static str, tz: Tz) -> impl Fn(&str) -> Result<DateTime<Utc>, Validation> {
    move |text| {
        let text = text.trim();
        if let Ok(at) = DateTime::parse_from_rfc3339(text) {
            return Ok(at.with_timezone(&Utc));
        }
        ["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S"]
            .iter()
            .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
            .and_then(|local| tz.from_local_datetime(&local).earliest())
            .map(|at| at.with_timezone(&Utc))
            .ok_or_else(|| Validation::one(field, Problem::BadDate(text.to_string())))
    }
}

/// Parses an IANA time zone name.
pub fn time_zone(field: &'static str) -> impl Fn(&str) -> Result<Tz, Validation> {
    move |text| {
        text.trim()
            .parse()
            .map_err(|_| Validation::one(field, Problem::UnknownTimeZone(text.to_string())))
    }
}

/// Parses a plain decimal.
pub fn decimal(field: &'static str) -> impl Fn(&str) -> Result<Decimal, Validation> {
    move |text| money::parse_decimal(field, text)
}

/// Parses a decimal that must not be negative.
pub fn non_negative(field: &'static str) -> impl Fn(&str) -> Result<Decimal, Validation> {
    move |text| money::parse_non_negative(field, text)
}

/// Parses a quantity: a decimal greater than zero.
pub fn quantity(field: &'static str) -> impl Fn(&str) -> Result<Decimal, Validation> {
    move |text| {
        let value = money::parse_decimal(field, text)?;
        if value <= Decimal::ZERO {
            return Err(Validation::one(
                field,
                Problem::NotPositive(text.to_string()),
            ));
        }
        Ok(value)
    }
}

/// Parses a discount percentage from 0 to 100.
pub fn percent(field: &'static str) -> impl Fn(&str) -> Result<Decimal, Validation> {
    move |text| money::parse_percent(field, text)
}

/// Parses a whole number.
pub fn whole(field: &'static str) -> impl Fn(&str) -> Result<u64, Validation> {
    move |text| {
        text.trim()
            .parse()
            .map_err(|_| Validation::one(field, Problem::NotAnInteger(text.to_string())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_times_use_the_time_zone() {
        let at = instant("at", chrono_tz::Asia::Shanghai)("2026-11-30 14:00").unwrap();
        assert_eq!(at.to_rfc3339(), "2026-11-30T06:00:00+00:00");
        assert!(instant("at", chrono_tz::UTC)("30/11/2026").is_err());
        assert!(date("follow_up")("2026-02-30").is_err());
        assert!(quantity("qty")("-1").is_err());
        assert!(quantity("qty")("0").is_err());
        assert!(percent("discount")("150").is_err());
    }
}

//! Money: exact decimals, ISO currencies and the one rounding rule.
//!
//! Amounts are `rust_decimal::Decimal`, never floating point, and are stored in documents as
//! their canonical text. **The rounding rule**: a line's amount is
//! `quantity × unit price × (1 − discount / 100)`, computed exactly and then rounded half-up
//! (half away from zero) to the currency's minor unit (2 places for CNY, 0 for JPY, 3 for KWD);
//! a document's total is the sum of its rounded line amounts. Totals are always computed, never
//! stored, so they cannot disagree with the lines.

use std::fmt;
use std::str::FromStr;

use autosurgeon::{Hydrate, HydrateError, Reconcile, Reconciler};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::validate::{Problem, Validation};

/// An ISO 4217 currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency(iso_currency::Currency);

impl Currency {
    /// Chinese yuan, the default for a Chinese sales team.
    pub const CNY: Currency = Currency(iso_currency::Currency::CNY);

    /// The three-letter code, such as `CNY`.
    pub fn code(&self) -> &'static str {
        self.0.code()
    }

    /// Digits after the decimal point in the currency's minor unit (2 for CNY, 0 for JPY).
    pub fn minor_units(&self) -> u32 {
        // Funds and metals have no minor unit in ISO 4217; amounts in them are kept to 4 places,
        // which no real quotation exceeds.
        self.0.exponent().map_or(4, u32::from)
    }

    /// Parses a command's input, naming `field` when it is not a currency code.
    pub fn parse_field(field: &str, text: &str) -> Result<Self, Validation> {
        text.parse()
            .map_err(|_| Validation::one(field, Problem::UnknownCurrency(text.to_string())))
    }
}

impl Default for Currency {
    fn default() -> Self {
        Self::CNY
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = Problem;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        iso_currency::Currency::from_code(s.trim())
            .map(Currency)
            .ok_or_else(|| Problem::UnknownCurrency(s.to_string()))
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl Reconcile for Currency {
    type Key<'a> = autosurgeon::reconcile::NoKey;

    fn reconcile<R: Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
        reconciler.str(self.code())
    }
}

impl Hydrate for Currency {
    fn hydrate_string(s: &'_ str) -> Result<Self, HydrateError> {
        s.parse()
            .map_err(|_| HydrateError::unexpected("an ISO 4217 currency code", s.to_string()))
    }
}

/// Parses a decimal written plainly: an optional minus, digits, and at most one dot followed by
/// digits. `12,5`, `1e3`, `1_000`, `.5`, `+3` and `abc` are refused, because a salesperson who
/// typed one of them meant something we must not guess.
pub fn parse_decimal(field: &str, text: &str) -> Result<Decimal, Validation> {
    let bad = || Validation::one(field, Problem::NotADecimal(text.to_string()));
    let trimmed = text.trim();
    let unsigned = trimmed.strip_prefix('-').unwrap_or(trimmed);
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (unsigned, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(whole) || fraction.is_some_and(|f| !all_digits(f)) {
        return Err(bad());
    }
    Decimal::from_str_exact(trimmed).map_err(|_| bad())
}

/// Parses a decimal that must be zero or more.
pub fn parse_non_negative(field: &str, text: &str) -> Result<Decimal, Validation> {
    let value = parse_decimal(field, text)?;
    if value.is_sign_negative() && !value.is_zero() {
        return Err(Validation::one(field, Problem::Negative(text.to_string())));
    }
    Ok(value)
}

/// Parses a percentage from 0 to 100.
pub fn parse_percent(field: &str, text: &str) -> Result<Decimal, Validation> {
    let value = parse_decimal(field, text)?;
    check_percent(field, value)?;
    Ok(value)
}

/// Checks that a percentage lies within 0 to 100.
pub fn check_percent(field: &str, value: Decimal) -> Result<(), Validation> {
    if value < Decimal::ZERO || value > Decimal::ONE_HUNDRED {
        return Err(Validation::one(
            field,
            Problem::PercentOutOfRange(value.to_string()),
        ));
    }
    Ok(())
}

/// Rounds an amount half-up (away from zero at exactly half) to the currency's minor unit.
pub fn round_to_minor(amount: Decimal, currency: Currency) -> Decimal {
    amount.round_dp_with_strategy(
        currency.minor_units(),
        RoundingStrategy::MidpointAwayFromZero,
    )
}

/// The amount of one line: quantity × unit price less the discount, rounded to the minor unit.
pub fn line_amount(
    quantity: Decimal,
    unit_price: Decimal,
    discount_pct: Decimal,
    currency: Currency,
) -> Decimal {
    let gross = quantity * unit_price;
    let net = gross - gross * discount_pct / Decimal::ONE_HUNDRED;
    round_to_minor(net, currency)
}

/// The canonical text of a decimal: no trailing zeros, so that `19.90` and `19.9` are one value
/// in a document and never show up as a conflict.
pub fn canonical(value: Decimal) -> String {
    value.normalize().to_string()
}

/// Formats an amount with exactly the currency's minor unit, e.g. `55.47` or `1200`.
pub fn format_amount(amount: Decimal, currency: Currency) -> String {
    let mut rounded = round_to_minor(amount, currency);
    rounded.rescale(currency.minor_units());
    rounded.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        Decimal::from_str_exact(text).unwrap()
    }

    #[test]
    fn parse_decimal_table() {
        let cases: &[(&str, Option<&str>)] = &[
            ("12.5", Some("12.5")),
            ("0", Some("0")),
            ("-3.25", Some("-3.25")),
            (" 19.99 ", Some("19.99")),
            ("007", Some("7")),
            ("12,5", None),
            ("1e3", None),
            ("1E3", None),
            ("abc", None),
            ("", None),
            (".5", None),
            ("5.", None),
            ("+3", None),
            ("1_000", None),
            ("1.2.3", None),
            ("--1", None),
            ("NaN", None),
            ("１２", None),
        ];
        for (text, expected) in cases {
            let got = parse_decimal("qty", text).ok();
            assert_eq!(got, expected.map(d), "parsing {text:?}");
        }
    }

    #[test]
    fn malformed_decimal_names_field_and_text() {
        let err = parse_decimal("unit_price", "12,5").unwrap_err();
        assert_eq!(err.errors[0].field, "unit_price");
        assert!(err.to_string().contains("12,5"));
    }

    #[test]
    fn negative_and_percent_checks() {
        assert!(parse_non_negative("q", "-1").is_err());
        assert_eq!(parse_non_negative("q", "0").unwrap(), Decimal::ZERO);
        assert!(parse_percent("d", "100.01").is_err());
        assert!(parse_percent("d", "-0.5").is_err());
        assert_eq!(parse_percent("d", "100").unwrap(), Decimal::ONE_HUNDRED);
    }

    #[test]
    fn currencies() {
        assert_eq!("CNY".parse::<Currency>().unwrap().minor_units(), 2);
        assert_eq!("JPY".parse::<Currency>().unwrap().minor_units(), 0);
        assert_eq!("KWD".parse::<Currency>().unwrap().minor_units(), 3);
        assert!("XYZ".parse::<Currency>().is_err());
        assert!("cny".parse::<Currency>().is_err());
    }

    /// The rounding rule as a table: (quantity, unit price, discount %, currency, line amount).
    #[test]
    fn line_amount_table() {
        let cases = [
            ("3", "19.99", "7.5", "CNY", "55.47"), // 59.97 × 0.925 = 55.47225
            ("1", "0.1", "0", "CNY", "0.10"),
            ("1", "0.2", "0", "CNY", "0.20"),
            ("1", "0.125", "0", "CNY", "0.13"), // half rounds up
            ("1", "0.135", "0", "CNY", "0.14"), // half-up, not banker's (which gives 0.14 too)
            ("1", "0.145", "0", "CNY", "0.15"), // banker's would give 0.14
            ("2", "0.005", "0", "CNY", "0.01"),
            ("1", "0.004", "0", "CNY", "0.00"),
            ("3", "333.33", "10", "CNY", "899.99"), // 999.99 × 0.9 = 899.991
            ("7", "1250", "15", "JPY", "7438"),     // 8750 × 0.85 = 7437.5
            ("1", "1.0005", "0", "KWD", "1.001"),
            ("10", "5", "100", "CNY", "0.00"),
            ("0.5", "99.99", "0", "CNY", "50.00"), // 49.995
        ];
        for (qty, price, discount, currency, expected) in cases {
            let currency: Currency = currency.parse().unwrap();
            let got = line_amount(d(qty), d(price), d(discount), currency);
            assert_eq!(got, d(expected), "{qty} × {price} at {discount}% off");
        }
    }

    #[test]
    fn total_is_sum_of_rounded_lines() {
        // Two lines of 0.125 round to 0.13 each: the total is 0.26, not round(0.25) = 0.25.
        let lines = [d("0.125"), d("0.125")];
        let total: Decimal = lines
            .iter()
            .map(|price| line_amount(Decimal::ONE, *price, Decimal::ZERO, Currency::CNY))
            .sum();
        assert_eq!(total, d("0.26"));
        // 0.1 + 0.2 is exactly 0.3 in decimal arithmetic.
        assert_eq!(d("0.1") + d("0.2"), d("0.3"));
    }

    #[test]
    fn canonical_and_formatting() {
        assert_eq!(canonical(d("19.90")), "19.9");
        assert_eq!(canonical(d("100")), "100");
        assert_eq!(format_amount(d("55.47225"), Currency::CNY), "55.47");
        assert_eq!(format_amount(d("3"), Currency::CNY), "3.00");
        assert_eq!(format_amount(d("3"), "JPY".parse().unwrap()), "3");
    }
}

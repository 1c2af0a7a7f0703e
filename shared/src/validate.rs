//! Typed validation errors that name the field and the problem.

use std::fmt;

/// What is wrong with one field's value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// The field must have a value.
    #[error("is required")]
    Required,
    /// The text is not a plain decimal number such as `12.5`.
    #[error(
        "`{0}` is not a decimal number (write it like 12.5: digits, one dot, no commas or exponents)"
    )]
    NotADecimal(String),
    /// The text is not a whole number.
    #[error("`{0}` is not a whole number")]
    NotAnInteger(String),
    /// The number must not be negative.
    #[error("must not be negative (got {0})")]
    Negative(String),
    /// The number must be greater than zero.
    #[error("must be greater than zero (got {0})")]
    NotPositive(String),
    /// A percentage outside 0 to 100.
    #[error("must be between 0 and 100 percent (got {0})")]
    PercentOutOfRange(String),
    /// Not an ISO 4217 currency code.
    #[error("`{0}` is not an ISO 4217 currency code such as CNY, USD or EUR")]
    UnknownCurrency(String),
    /// A date or time that does not parse.
    #[error("`{0}` is not a date (YYYY-MM-DD) or date and time (YYYY-MM-DD HH:MM)")]
    BadDate(String),
    /// Not an IANA time zone name.
    #[error("`{0}` is not a time zone name such as Asia/Shanghai")]
    UnknownTimeZone(String),
    /// Not one of the allowed words.
    #[error("`{value}` is not one of: {allowed}")]
    NotOneOf {
        /// What was given.
        value: String,
        /// The allowed words, comma separated.
        allowed: String,
    },
    /// The text is longer than allowed.
    #[error("is longer than {0} characters")]
    TooLong(usize),
    /// Not a record id.
    #[error("`{0}` is not a record id")]
    BadId(String),
    /// A rule relating two fields is broken; the text says which.
    #[error("{0}")]
    Inconsistent(String),
}

/// One field's problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field, as a dotted path such as `credit.limit` or `lines.<id>.discount_pct`.
    pub field: String,
    /// What is wrong with it.
    pub problem: Problem,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.problem)
    }
}

/// Every problem found in one record or one command's input.
#[derive(Debug, Clone, PartialEq, Eq, Default, thiserror::Error)]
pub struct Validation {
    /// The problems, in the order they were found.
    pub errors: Vec<FieldError>,
}

impl fmt::Display for Validation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.errors.iter().map(ToString::to_string).collect();
        f.write_str(&parts.join("; "))
    }
}

impl Validation {
    /// A validation failure with a single problem.
    pub fn one(field: impl Into<String>, problem: Problem) -> Self {
        Self {
            errors: vec![FieldError {
                field: field.into(),
                problem,
            }],
        }
    }

    /// Records a problem with a field.
    pub fn push(&mut self, field: impl Into<String>, problem: Problem) {
        self.errors.push(FieldError {
            field: field.into(),
            problem,
        });
    }

    /// Keeps the error of a fallible parse, returning its value when it succeeded.
    pub fn take<T>(&mut self, result: Result<T, Validation>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(mut errors) => {
                self.errors.append(&mut errors.errors);
                None
            }
        }
    }

    /// `Ok(())` when no problem was recorded.
    pub fn finish(self) -> Result<(), Validation> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }

    /// Checks that a required text field is not blank.
    pub fn require(&mut self, field: &str, value: &str) {
        if value.trim().is_empty() {
            self.push(field, Problem::Required);
        }
    }

    /// Checks a text field's length in characters.
    pub fn max_len(&mut self, field: &str, value: &str, max: usize) {
        if value.chars().count() > max {
            self.push(field, Problem::TooLong(max));
        }
    }
}

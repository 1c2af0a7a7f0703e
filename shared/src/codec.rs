//! How foreign types are kept in Automerge documents: each as its canonical text.
//!
//! Text keeps documents readable in any Automerge tool and exact: a `Decimal` stored as a float
//! would lose cents, and a time stored as Automerge's timestamp would drop the offset we parse
//! from. Each module here is used with `#[autosurgeon(with = "...")]`.

use autosurgeon::{Hydrate, HydrateError, Prop, ReadDoc, Reconciler};

/// Generates a pair of `with` modules (plain and optional) for a type kept as its text.
macro_rules! text_codec {
    ($plain:ident, $optional:ident, $ty:ty, $what:literal, $to_text:expr, $from_text:expr) => {
        #[doc = concat!("Keeps a `", stringify!($ty), "` as text in a document.")]
        pub mod $plain {
            use super::*;

            /// Writes the value as its canonical text.
            pub fn reconcile<R: Reconciler>(
                value: &$ty,
                mut reconciler: R,
            ) -> Result<(), R::Error> {
                let to_text: fn(&$ty) -> String = $to_text;
                reconciler.str(to_text(value))
            }

            /// Reads the value back from its text.
            pub fn hydrate<D: ReadDoc>(
                doc: &D,
                obj: &automerge::ObjId,
                prop: Prop<'_>,
            ) -> Result<$ty, HydrateError> {
                let text = String::hydrate(doc, obj, prop)?;
                let from_text: fn(&str) -> Option<$ty> = $from_text;
                from_text(&text).ok_or_else(|| HydrateError::unexpected($what, text))
            }
        }

        #[doc = concat!("Keeps an optional `", stringify!($ty), "` as text or null.")]
        pub mod $optional {
            use super::*;

            /// Writes the value as text, or null when absent.
            pub fn reconcile<R: Reconciler>(
                value: &Option<$ty>,
                mut reconciler: R,
            ) -> Result<(), R::Error> {
                let to_text: fn(&$ty) -> String = $to_text;
                match value {
                    Some(value) => reconciler.str(to_text(value)),
                    None => reconciler.none(),
                }
            }

            /// Reads the value back; a missing key or null is `None`.
            pub fn hydrate<D: ReadDoc>(
                doc: &D,
                obj: &automerge::ObjId,
                prop: Prop<'_>,
            ) -> Result<Option<$ty>, HydrateError> {
                let from_text: fn(&str) -> Option<$ty> = $from_text;
                match Option::<String>::hydrate(doc, obj, prop)? {
                    Some(text) => from_text(&text)
                        .map(Some)
                        .ok_or_else(|| HydrateError::unexpected($what, text)),
                    None => Ok(None),
                }
            }
        }
    };
}

text_codec!(
    decimal,
    opt_decimal,
    rust_decimal::Decimal,
    "a decimal number",
    |value| crate::money::canonical(*value),
    |text| rust_decimal::Decimal::from_str_exact(text).ok()
);

text_codec!(
    instant,
    opt_instant,
    chrono::DateTime<chrono::Utc>,
    "an RFC 3339 instant",
    |value| value.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    |text| chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
);

text_codec!(
    date,
    opt_date,
    chrono::NaiveDate,
    "a date (YYYY-MM-DD)",
    |value| value.format("%Y-%m-%d").to_string(),
    |text| chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
);

text_codec!(
    time_zone,
    opt_time_zone,
    chrono_tz::Tz,
    "an IANA time zone",
    |value| value.name().to_string(),
    |text| text.parse().ok()
);

//! The closed set of record types, and what every one of them can do.

use autosurgeon::{Hydrate, Reconcile};
use serde::Serialize;

use crate::domain::{Customer, Dealer, Flag, Order, Product, Quotation, Visit, Voided};
use crate::ids::RecordKind;
use crate::validate::Validation;

/// A business record type that lives in its own Automerge document.
pub trait RecordType: Reconcile + Hydrate + Serialize + Clone + Sized {
    /// The kind written into the document's root.
    const KIND: RecordKind;

    /// Checks the record's own rules.
    fn validate(&self) -> Result<(), Validation>;

    /// The void marker, when voided.
    fn voided(&self) -> Option<&Voided>;

    /// Voids the record (or, with `None`, restores it).
    fn set_voided(&mut self, voided: Option<Voided>);

    /// Wraps the record in the [`Record`] enum.
    fn into_record(self) -> Record;

    /// Unwraps a [`Record`] of this type.
    fn from_record(record: Record) -> Option<Self>;
}

/// Any business record.
// A customer file is several times larger than a product, but records are built once per command
// and never kept in bulk, so boxing the large variants would buy nothing but noise.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    /// A customer file.
    Customer(Customer),
    /// A dealer.
    Dealer(Dealer),
    /// A product.
    Product(Product),
    /// A visit report.
    Visit(Visit),
    /// A quotation.
    Quotation(Quotation),
    /// An order.
    Order(Order),
    /// A business-conflict flag.
    Flag(Flag),
}

macro_rules! record_types {
    ($($variant:ident),+) => {
        $(
            impl RecordType for $variant {
                const KIND: RecordKind = RecordKind::$variant;

                fn validate(&self) -> Result<(), Validation> {
                    $variant::validate(self)
                }

                fn voided(&self) -> Option<&Voided> {
                    self.voided.as_ref()
                }

                fn set_voided(&mut self, voided: Option<Voided>) {
                    self.voided = voided;
                }

                fn into_record(self) -> Record {
                    Record::$variant(self)
                }

                fn from_record(record: Record) -> Option<Self> {
                    match record {
                        Record::$variant(inner) => Some(inner),
                        _ => None,
                    }
                }
            }
        )+

        impl Record {
            /// The record's kind.
            pub fn kind(&self) -> RecordKind {
                match self { $(Record::$variant(_) => RecordKind::$variant,)+ }
            }

            /// Checks the record's own rules.
            pub fn validate(&self) -> Result<(), Validation> {
                match self { $(Record::$variant(inner) => inner.validate(),)+ }
            }

            /// The void marker, when voided.
            pub fn voided(&self) -> Option<&Voided> {
                match self { $(Record::$variant(inner) => inner.voided.as_ref(),)+ }
            }

            /// Voids the record (or, with `None`, restores it).
            pub fn set_voided(&mut self, voided: Option<Voided>) {
                match self { $(Record::$variant(inner) => inner.voided = voided,)+ }
            }
        }
    };
}

record_types!(Customer, Dealer, Product, Visit, Quotation, Order, Flag);

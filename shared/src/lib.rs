//! Fieldsync's shared core: the domain model, the business rules and the wire protocol.
//!
//! This crate does no I/O. Both the laptop client and the sync server depend on it, so that a
//! record means the same thing, validates the same way and projects to the same rows on both
//! sides. Everything here is a pure function of its inputs, which is what makes it testable as
//! tables.

pub mod clock;
pub mod codec;
pub mod doc;
pub mod domain;
pub mod i18n;
pub mod ids;
pub mod money;
pub mod permissions;
pub mod projection;
pub mod protocol;
pub mod record;
pub mod report;
pub mod rules;
pub mod text;
pub mod validate;

pub use ids::{RecordId, RecordKind};
pub use record::{Record, RecordType};
pub use validate::{FieldError, Problem, Validation};

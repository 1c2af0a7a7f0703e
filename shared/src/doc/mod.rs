//! Records as Automerge documents: creating, loading, committing, reading back.
//!
//! A document's root holds the record's fields (through autosurgeon) plus `$kind` and `$schema`
//! keys, so that any document can be read without knowing what it is.

mod conflicts;
mod history;
mod tree;

pub use conflicts::{Conflict, ConflictValue, conflicts, resolve_conflict};
pub use history::{FieldEdit, HistoryEntry, history};

use std::panic::{AssertUnwindSafe, catch_unwind};

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, AutoCommit, ChangeHash, ROOT, ReadDoc, ScalarValue, Value};
use chrono::{DateTime, Utc};

use crate::domain::{Customer, Dealer, Flag, Order, Product, Quotation, Visit};
use crate::ids::{RecordId, RecordKind};
use crate::record::{Record, RecordType};
use crate::validate::Validation;

/// The root key naming the record's kind. The `$` keeps it apart from every record field.
pub const KIND_KEY: &str = "$kind";

/// The root key holding the record's own id. Besides letting a document name itself, it makes
/// every document's first change unique: without it, two records created with the same fields in
/// the same second by one device would start with byte-identical changes, and changes are stored
/// once by hash.
pub const ID_KEY: &str = "$id";

/// The root key holding the document layout version.
pub const SCHEMA_KEY: &str = "$schema";

/// The version of the document layout; raised when a migration of documents is needed.
pub const SCHEMA_VERSION: u64 = 1;

/// What can go wrong turning bytes into records and back.
#[derive(Debug, thiserror::Error)]
pub enum DocError {
    /// The bytes are not a valid Automerge document or change.
    #[error("not a valid document: {0}")]
    Corrupt(String),
    /// The document is valid Automerge but not a record we understand.
    #[error("document does not hold a readable record: {0}")]
    NotARecord(String),
    /// The document holds a different kind of record than asked for.
    #[error("expected a {expected} but the document holds a {found}")]
    WrongKind {
        /// What the caller asked for.
        expected: RecordKind,
        /// What the document holds.
        found: RecordKind,
    },
    /// The record breaks its own rules.
    #[error("{0}")]
    Invalid(#[from] Validation),
    /// A path named for a conflict does not exist or has no conflict.
    #[error("no conflict at `{0}`")]
    NoConflict(String),
    /// Automerge refused an operation (a bug in our use of it, not bad input). Boxed, as
    /// Automerge's errors are large and every document result carries this type.
    #[error("automerge: {0}")]
    Automerge(Box<automerge::AutomergeError>),
    /// Writing the record into the document failed.
    #[error("writing the record: {0}")]
    Reconcile(Box<autosurgeon::ReconcileError>),
}

impl From<automerge::AutomergeError> for DocError {
    fn from(error: automerge::AutomergeError) -> Self {
        DocError::Automerge(Box::new(error))
    }
}

impl From<autosurgeon::ReconcileError> for DocError {
    fn from(error: autosurgeon::ReconcileError) -> Self {
        DocError::Reconcile(Box::new(error))
    }
}

/// Who makes a commit and why: every commit carries a real time and a message, and the
/// document's actor is the device's, so history can say who, when and from where.
#[derive(Debug, Clone)]
pub struct CommitMeta {
    /// The message, e.g. "edit customer".
    pub message: String,
    /// The commit time.
    pub time: DateTime<Utc>,
}

impl CommitMeta {
    /// A commit made now.
    pub fn now(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            time: Utc::now(),
        }
    }

    fn options(&self) -> CommitOptions {
        // Automerge's change time is seconds since the Unix epoch, as its JavaScript library
        // writes it.
        CommitOptions::default()
            .with_message(self.message.clone())
            .with_time(self.time.timestamp())
    }
}

/// Runs Automerge on bytes it has to parse, turning a panic into an error: automerge 0.12 can
/// panic on malformed input, and a corrupt file must give a clear error, not a crash.
fn guarded<T>(
    what: &str,
    f: impl FnOnce() -> Result<T, automerge::AutomergeError>,
) -> Result<T, DocError> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(DocError::Corrupt(format!("{what}: {error}"))),
        Err(_) => Err(DocError::Corrupt(format!(
            "{what}: the decoder gave up on these bytes"
        ))),
    }
}

/// Loads a saved document (a snapshot, possibly followed by incremental changes) and sets the
/// device's actor, which Automerge does not keep across a save.
pub fn load(bytes: &[u8], actor: &ActorId) -> Result<AutoCommit, DocError> {
    let mut doc = guarded("loading", || AutoCommit::load(bytes))?;
    doc.set_actor(actor.clone());
    Ok(doc)
}

/// Applies incremental change bytes (as stored or received) to a document.
pub fn apply_incremental(doc: &mut AutoCommit, bytes: &[u8]) -> Result<(), DocError> {
    guarded("applying changes", || doc.load_incremental(bytes)).map(|_| ())
}

/// Parses the bytes of one change, as stored or received.
pub fn parse_change(bytes: &[u8]) -> Result<automerge::Change, DocError> {
    match catch_unwind(AssertUnwindSafe(|| {
        automerge::Change::from_bytes(bytes.to_vec())
    })) {
        Ok(Ok(change)) => Ok(change),
        Ok(Err(error)) => Err(DocError::Corrupt(format!("change: {error}"))),
        Err(_) => Err(DocError::Corrupt(
            "change: the decoder gave up on these bytes".into(),
        )),
    }
}

/// Creates a document for a new record and commits it.
pub fn create<T: RecordType>(
    actor: &ActorId,
    id: RecordId,
    record: &T,
    meta: &CommitMeta,
) -> Result<AutoCommit, DocError> {
    record.validate()?;
    let mut doc = AutoCommit::new().with_actor(actor.clone());
    doc.put(ROOT, ID_KEY, id.to_string())?;
    doc.put(ROOT, KIND_KEY, T::KIND.as_str())?;
    doc.put(ROOT, SCHEMA_KEY, ScalarValue::Uint(SCHEMA_VERSION))?;
    autosurgeon::reconcile(&mut doc, record)?;
    doc.commit_with(meta.options());
    Ok(doc)
}

/// Writes an edited record into its document and commits, returning the new change's hash, or
/// `None` when nothing changed. Only fields that differ are written, so edits to different
/// fields on two laptops merge without conflict.
pub fn update<T: RecordType>(
    doc: &mut AutoCommit,
    record: &T,
    meta: &CommitMeta,
) -> Result<Option<ChangeHash>, DocError> {
    record.validate()?;
    let found = kind_of(doc)?;
    if found != T::KIND {
        return Err(DocError::WrongKind {
            expected: T::KIND,
            found,
        });
    }
    autosurgeon::reconcile(doc, record)?;
    Ok(doc.commit_with(meta.options()))
}

/// The kind of record a document holds.
pub fn kind_of(doc: &AutoCommit) -> Result<RecordKind, DocError> {
    match doc.get(ROOT, KIND_KEY) {
        Ok(Some((Value::Scalar(s), _))) => match s.as_ref() {
            ScalarValue::Str(text) => text
                .parse()
                .map_err(|e: crate::Problem| DocError::NotARecord(e.to_string())),
            other => Err(DocError::NotARecord(format!("kind is {other}"))),
        },
        Ok(_) => Err(DocError::NotARecord("no kind".into())),
        Err(e) => Err(DocError::NotARecord(e.to_string())),
    }
}

/// The id a document names itself with, if it holds one.
pub fn id_of(doc: &AutoCommit) -> Option<RecordId> {
    match doc.get(ROOT, ID_KEY) {
        Ok(Some((Value::Scalar(s), _))) => match s.as_ref() {
            ScalarValue::Str(text) => text.parse().ok(),
            _ => None,
        },
        _ => None,
    }
}

/// Reads the record a document holds, whatever its kind.
pub fn read(doc: &AutoCommit) -> Result<Record, DocError> {
    fn hydrate_as<T: RecordType>(doc: &AutoCommit) -> Result<Record, DocError> {
        autosurgeon::hydrate::<_, T>(doc)
            .map(T::into_record)
            .map_err(|e| DocError::NotARecord(e.to_string()))
    }
    match kind_of(doc)? {
        RecordKind::Customer => hydrate_as::<Customer>(doc),
        RecordKind::Dealer => hydrate_as::<Dealer>(doc),
        RecordKind::Product => hydrate_as::<Product>(doc),
        RecordKind::Visit => hydrate_as::<Visit>(doc),
        RecordKind::Quotation => hydrate_as::<Quotation>(doc),
        RecordKind::Order => hydrate_as::<Order>(doc),
        RecordKind::Flag => hydrate_as::<Flag>(doc),
    }
}

/// Reads a record of a known type.
pub fn read_as<T: RecordType>(doc: &AutoCommit) -> Result<T, DocError> {
    let record = read(doc)?;
    let found = record.kind();
    T::from_record(record).ok_or(DocError::WrongKind {
        expected: T::KIND,
        found,
    })
}

/// A readable, hex form of an actor id.
pub fn actor_hex(actor: &ActorId) -> String {
    actor.to_hex_string()
}

//! Creating, editing, voiding and reading records: each operation one transaction.

use automerge::AutoCommit;
use chrono::Utc;
use rusqlite::{Transaction, TransactionBehavior, params};
use shared::doc::{self, CommitMeta, HistoryEntry};
use shared::domain::Voided;
use shared::protocol::MAX_CHANGE_BYTES;
use shared::{Problem, Record, RecordId, RecordKind, RecordType, Validation};

use super::{Store, documents};
use crate::error::ClientError;

impl Store {
    /// Stores a new record as a new document; returns its id.
    pub fn create<T: RecordType>(
        &mut self,
        record: &T,
        message: &str,
    ) -> Result<RecordId, ClientError> {
        let id = RecordId::new();
        let mut document = doc::create(&self.device.actor, id, record, &CommitMeta::now(message))?;
        let tx = write_tx(&mut self.conn)?;
        documents::insert(&tx, id, T::KIND, &mut document)?;
        // The snapshot already holds the first change; it only needs to go to the outbox.
        queue_local_changes(&tx, id, &mut document, false)?;
        // Project what the document holds (e.g. times at the precision stored), not the value
        // passed in, so that this laptop's rows equal those of any laptop that merges it.
        documents::refresh_derived(&tx, id, &doc::read(&document)?, &document)?;
        tx.commit()?;
        Ok(id)
    }

    /// Edits a record: loads it, lets `edit` change it, validates and commits the difference.
    /// Returns whether anything changed. On any error nothing is written.
    pub fn update<T: RecordType>(
        &mut self,
        id: RecordId,
        message: &str,
        edit: impl FnOnce(&mut T) -> Result<(), ClientError>,
    ) -> Result<bool, ClientError> {
        let tx = write_tx(&mut self.conn)?;
        let mut document = documents::load(&tx, &self.device.actor, id)?;
        let mut record: T = doc::read_as(&document)?;
        if record.voided().is_some() {
            return Err(Validation::one(
                "voided",
                Problem::Inconsistent(
                    "this record is voided; it can be read but not edited".into(),
                ),
            )
            .into());
        }
        edit(&mut record)?;
        let changed = doc::update(&mut document, &record, &CommitMeta::now(message))?.is_some();
        if changed {
            queue_local_changes(&tx, id, &mut document, true)?;
            documents::refresh_derived(&tx, id, &doc::read(&document)?, &document)?;
        }
        tx.commit()?;
        Ok(changed)
    }

    /// Voids any record with a reason. The record and its history are kept.
    pub fn void(&mut self, id: RecordId, reason: &str) -> Result<RecordKind, ClientError> {
        let mut v = Validation::default();
        v.require("reason", reason);
        v.finish()?;
        let tx = write_tx(&mut self.conn)?;
        let mut document = documents::load(&tx, &self.device.actor, id)?;
        let mut record = doc::read(&document)?;
        if record.voided().is_some() {
            return Err(
                Validation::one("voided", Problem::Inconsistent("already voided".into())).into(),
            );
        }
        record.set_voided(Some(Voided {
            reason: reason.trim().to_string(),
            at: Utc::now(),
            by: self.device.user.clone(),
        }));
        let meta = CommitMeta::now(format!("void: {}", reason.trim()));
        write_any(&mut document, &record, &meta)?;
        queue_local_changes(&tx, id, &mut document, true)?;
        documents::refresh_derived(&tx, id, &record, &document)?;
        tx.commit()?;
        Ok(record.kind())
    }

    /// Reads a record of a known type.
    pub fn get<T: RecordType>(&self, id: RecordId) -> Result<T, ClientError> {
        let document = documents::load(&self.conn, &self.device.actor, id)?;
        doc::read_as(&document).map_err(|e| match e {
            doc::DocError::WrongKind { .. } => ClientError::NotFound {
                kind: T::KIND.to_string(),
                id: id.to_string(),
            },
            other => other.into(),
        })
    }

    /// Reads any record.
    pub fn record(&self, id: RecordId) -> Result<Record, ClientError> {
        let document = documents::load(&self.conn, &self.device.actor, id)?;
        Ok(doc::read(&document)?)
    }

    /// The record's document, for history and conflict views.
    pub fn document(&self, id: RecordId) -> Result<AutoCommit, ClientError> {
        documents::load(&self.conn, &self.device.actor, id)
    }

    /// Who changed what and when, oldest first.
    pub fn history(&self, id: RecordId) -> Result<Vec<HistoryEntry>, ClientError> {
        let mut document = self.document(id)?;
        Ok(doc::history(&mut document))
    }

    /// Resolves a conflicting field by choosing one of its values (0-based, as listed).
    pub fn resolve_conflict(
        &mut self,
        id: RecordId,
        path: &str,
        choice: usize,
    ) -> Result<(), ClientError> {
        let tx = write_tx(&mut self.conn)?;
        let mut document = documents::load(&tx, &self.device.actor, id)?;
        let meta = CommitMeta::now(format!("resolve conflict on {path}"));
        doc::resolve_conflict(&mut document, path, choice, &meta)?;
        let record = doc::read(&document)?;
        record.validate()?;
        queue_local_changes(&tx, id, &mut document, true)?;
        documents::refresh_derived(&tx, id, &record, &document)?;
        tx.commit()?;
        Ok(())
    }

    /// Finds a record by its full id or a unique prefix of at least 4 characters, optionally of
    /// one kind only. Asked for a customer, a duplicate merged into another (撞单) resolves to
    /// the survivor this laptop holds, so the old id keeps working for showing, editing and
    /// new visits or deals, even when the merge arrived while the laptop was offline. Asked for
    /// any kind, the id names the document itself (its history, conflicts, void), merged or not.
    pub fn find_id(&self, text: &str, kind: Option<RecordKind>) -> Result<RecordId, ClientError> {
        let id = self.find_exact_id(text, kind)?;
        Ok(match kind {
            Some(RecordKind::Customer) => self.resolve_customer(id),
            _ => id,
        })
    }

    /// The customer `id` stands for: following `merged_into` to the last survivor this laptop
    /// holds, or `id` itself. A survivor outside this laptop's scope is not held, so the old
    /// customer stays the answer; a chain is followed a bounded number of steps.
    pub fn resolve_customer(&self, id: RecordId) -> RecordId {
        let mut current = id;
        for _ in 0..16 {
            let next = self
                .get::<shared::domain::Customer>(current)
                .ok()
                .and_then(|c| c.merged_into)
                .filter(|next| documents::exists(&self.conn, *next).unwrap_or(false));
            match next {
                Some(next) if next != id => current = next,
                _ => break,
            }
        }
        current
    }

    /// "merged into …" when `text` names a customer merged into another this laptop holds
    /// (for `customer show` to say why another customer is shown).
    pub fn merge_note(&self, text: &str) -> Option<String> {
        let id = self.find_exact_id(text, Some(RecordKind::Customer)).ok()?;
        let survivor = self.resolve_customer(id);
        (survivor != id).then(|| format!("{id} was merged into {survivor} (合并至 {survivor})"))
    }

    /// [`Store::find_id`] without following merges.
    fn find_exact_id(&self, text: &str, kind: Option<RecordKind>) -> Result<RecordId, ClientError> {
        let text = text.trim().to_ascii_lowercase();
        let kind_name = kind.map_or_else(|| "record".to_string(), |k| k.to_string());
        let not_found = || ClientError::NotFound {
            kind: kind_name.clone(),
            id: text.clone(),
        };
        if text.len() < 4 || !text.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
            return Err(not_found());
        }
        let mut statement = self.conn.prepare_cached(
            "SELECT doc_id FROM documents WHERE doc_id LIKE ?1 || '%' AND (?2 IS NULL OR kind = ?2) LIMIT 2",
        )?;
        let found: Vec<String> = statement
            .query_map(params![text, kind.map(|k| k.as_str())], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        match found.as_slice() {
            [one] => one.parse().map_err(|_| not_found()),
            [] => Err(not_found()),
            _ => Err(ClientError::Ambiguous(text.clone())),
        }
    }
}

/// Starts a write transaction, taking SQLite's write lock at once so that two processes on one
/// store queue up rather than fail half-way.
pub(super) fn write_tx(conn: &mut rusqlite::Connection) -> Result<Transaction<'_>, ClientError> {
    Ok(conn.transaction_with_behavior(TransactionBehavior::Immediate)?)
}

/// Writes a record of any type into its document.
fn write_any(
    document: &mut AutoCommit,
    record: &Record,
    meta: &CommitMeta,
) -> Result<(), ClientError> {
    match record {
        Record::Customer(r) => doc::update(document, r, meta),
        Record::Dealer(r) => doc::update(document, r, meta),
        Record::Product(r) => doc::update(document, r, meta),
        Record::Visit(r) => doc::update(document, r, meta),
        Record::Quotation(r) => doc::update(document, r, meta),
        Record::Order(r) => doc::update(document, r, meta),
        Record::Flag(r) => doc::update(document, r, meta),
    }?;
    Ok(())
}

/// Stores the change just committed on this device, both into the document's change list and
/// into the outbox for the server. A change larger than the server accepts is an error, so the
/// caller's transaction (and the edit) is dropped: the server would refuse it, and everything
/// built on it after, for good.
fn queue_local_changes(
    tx: &Transaction<'_>,
    id: RecordId,
    document: &mut AutoCommit,
    append: bool,
) -> Result<(), ClientError> {
    let Some(change) = document.get_last_local_change() else {
        return Ok(());
    };
    let hash = change.hash();
    let bytes = change.raw_bytes().to_vec();
    if bytes.len() > MAX_CHANGE_BYTES {
        return Err(ClientError::TooLarge {
            size: bytes.len(),
            max: MAX_CHANGE_BYTES,
        });
    }
    tx.execute(
        "INSERT OR IGNORE INTO outbox (hash, doc_id, bytes, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![
            hash.to_string(),
            id.to_string(),
            bytes,
            Utc::now().to_rfc3339()
        ],
    )?;
    if append {
        documents::append_change(tx, id, document, hash, &bytes)?;
    }
    Ok(())
}

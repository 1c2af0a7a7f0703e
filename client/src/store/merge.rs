//! Merging another store into this one: the offline building block of sync, and the way two
//! laptops' copies are shown to converge.

use std::path::Path;

use automerge::AutoCommit;
use rusqlite::{Connection, OpenFlags, params};
use serde::Serialize;
use shared::doc;
use shared::{RecordId, RecordKind};

use super::records::write_tx;
use super::{Store, documents};
use crate::error::ClientError;

/// What a merge did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MergeReport {
    /// Documents this store did not have.
    pub new_records: u64,
    /// Documents that gained changes.
    pub updated_records: u64,
    /// Changes applied.
    pub changes: u64,
    /// Documents of the other store that could not be read (left untouched there).
    pub unreadable: Vec<String>,
}

impl Store {
    /// Merges every document of the store at `other_db` into this one, in one transaction. The
    /// other store is opened read-only and left unchanged.
    pub fn merge_from(&mut self, other_db: &Path) -> Result<MergeReport, ClientError> {
        let other = Connection::open_with_flags(other_db, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| ClientError::CorruptStore {
                path: other_db.display().to_string(),
                detail: e.to_string(),
            })?;
        let ids = other_ids(&other).map_err(|e| ClientError::CorruptStore {
            path: other_db.display().to_string(),
            detail: e.to_string(),
        })?;
        let actor = self.device.actor.clone();
        let tx = write_tx(&mut self.conn)?;
        let mut report = MergeReport::default();
        for (id, kind) in ids {
            let mut theirs = match documents::load(&other, &actor, id) {
                Ok(document) => document,
                Err(error) => {
                    report.unreadable.push(format!("{id}: {error}"));
                    continue;
                }
            };
            merge_one(&tx, id, kind, &mut theirs, &mut report)?;
        }
        copy_actors(&tx, &other)?;
        tx.commit()?;
        Ok(report)
    }
}

fn other_ids(other: &Connection) -> rusqlite::Result<Vec<(RecordId, RecordKind)>> {
    let mut statement = other.prepare("SELECT doc_id, kind FROM documents ORDER BY doc_id")?;
    let rows = statement.query_map([], |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
    })?;
    let mut ids = Vec::new();
    for row in rows {
        let (id, kind) = row?;
        if let (Ok(id), Ok(kind)) = (id.parse(), kind.parse()) {
            ids.push((id, kind));
        }
    }
    Ok(ids)
}

fn copy_actors(tx: &Connection, other: &Connection) -> Result<usize, rusqlite::Error> {
    let mut statement = other.prepare("SELECT actor, user_name, device FROM actors")?;
    let rows: Vec<(String, String, String)> = statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
        .collect::<Result<_, _>>()?;
    for (actor, user, device) in &rows {
        tx.execute(
            "INSERT OR IGNORE INTO actors (actor, user_name, device) VALUES (?1, ?2, ?3)",
            params![actor, user, device],
        )?;
    }
    Ok(rows.len())
}

fn merge_one(
    tx: &Connection,
    id: RecordId,
    kind: RecordKind,
    theirs: &mut AutoCommit,
    report: &mut MergeReport,
) -> Result<(), ClientError> {
    let actor = theirs.get_actor().clone();
    if !documents::exists(tx, id)? {
        documents::insert(tx, id, kind, theirs)?;
        documents::refresh_derived(tx, id, &doc::read(theirs)?, theirs)?;
        report.new_records += 1;
        report.changes += theirs.get_changes(&[]).len() as u64;
        return Ok(());
    }
    let mut ours = documents::load(tx, &actor, id)?;
    // `AutoCommit::merge` returns the new heads, not the changes it added; we need every added
    // change to store it, so we ask for them and apply them ourselves.
    let added = ours.get_changes_added(theirs);
    if added.is_empty() {
        return Ok(());
    }
    ours.apply_changes(added.iter().cloned())
        .map_err(doc::DocError::from)?;
    for change in &added {
        documents::append_change(tx, id, &mut ours, change.hash(), change.raw_bytes())?;
    }
    let record = doc::read(&ours)?;
    documents::refresh_derived(tx, id, &record, &ours)?;
    report.updated_records += 1;
    report.changes += added.len() as u64;
    Ok(())
}

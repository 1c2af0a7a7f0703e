//! The audit trail of one document: who changed what, when, from which device.

use automerge::{AutoCommit, Prop};
use automerge::{Patch, PatchAction};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// One field written or removed by a change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldEdit {
    /// Dotted path of the field.
    pub path: String,
    /// The new value as JSON; `null` when the field was removed.
    pub value: serde_json::Value,
}

/// One change in a document's history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryEntry {
    /// The change hash, in hex.
    pub hash: String,
    /// The actor (device) that made it, in hex.
    pub actor: String,
    /// When it was made, by the device's clock.
    pub time: Option<DateTime<Utc>>,
    /// The commit message.
    pub message: String,
    /// What it wrote.
    pub edits: Vec<FieldEdit>,
}

/// The document's changes in causal order, each with the fields it wrote.
pub fn history(doc: &mut AutoCommit) -> Vec<HistoryEntry> {
    let changes: Vec<_> = doc
        .get_changes(&[])
        .into_iter()
        .map(|c| {
            (
                c.hash(),
                c.deps().to_vec(),
                c.actor_id().to_hex_string(),
                c.timestamp(),
                c.message().map(str::to_string),
            )
        })
        .collect();
    changes
        .into_iter()
        .map(|(hash, deps, actor, time, message)| {
            let patches = doc.diff(&deps, &[hash]);
            let mut edits = summarise(doc, &patches);
            if deps.is_empty() {
                // A record's first change writes every field; the empty ones and the document's
                // own bookkeeping keys say nothing to a person.
                edits.retain(|e| !e.value.is_null() && !e.path.starts_with('$'));
            }
            HistoryEntry {
                hash: hash.to_string(),
                actor,
                time: DateTime::from_timestamp(time, 0),
                message: message.unwrap_or_default(),
                edits,
            }
        })
        .collect()
}

fn summarise(doc: &AutoCommit, patches: &[Patch]) -> Vec<FieldEdit> {
    patches
        .iter()
        .filter_map(|patch| {
            let mut path: Vec<String> =
                patch.path.iter().map(|(_, prop)| prop_text(prop)).collect();
            let value = match &patch.action {
                PatchAction::PutMap { key, value, .. } => {
                    path.push(key.clone());
                    scalar_json(doc, &value.0)?
                }
                PatchAction::DeleteMap { key } => {
                    path.push(key.clone());
                    serde_json::Value::Null
                }
                _ => return None,
            };
            Some(FieldEdit {
                path: path.join("."),
                value,
            })
        })
        .collect()
}

/// Scalars are shown as written; a new map or list is shown through its own field edits, so the
/// object itself is skipped.
fn scalar_json(_doc: &AutoCommit, value: &automerge::Value<'_>) -> Option<serde_json::Value> {
    match value {
        automerge::Value::Scalar(s) => {
            Some(super::tree::Tree::Scalar(s.as_ref().clone()).to_json())
        }
        automerge::Value::Object(_) => None,
    }
}

fn prop_text(prop: &Prop) -> String {
    match prop {
        Prop::Map(key) => key.clone(),
        Prop::Seq(index) => index.to_string(),
    }
}

//! Fields edited concurrently: finding them and resolving them by a person's choice.
//!
//! Automerge keeps every concurrently written value of a key and picks an arbitrary (not the
//! latest) one as the visible winner. We never let that choice stand silently: every key with
//! more than one value is listed with all of them, and a person picks one; writing the pick
//! supersedes all of them, on every replica, once synced.

use automerge::{AutoCommit, ChangeHash, ObjId, ObjType, Prop, ROOT, ReadDoc, Value};
use serde::{Deserialize, Serialize};

use super::tree::Tree;
use super::{CommitMeta, DocError};

/// One of the values a conflicting field holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConflictValue {
    /// The value, as JSON.
    pub value: serde_json::Value,
    /// The actor (device) that wrote it, in hex.
    pub actor: String,
}

/// A field with more than one concurrent value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Conflict {
    /// The field's dotted path, e.g. `basics.phone`.
    pub path: String,
    /// The values, in Automerge's deterministic order (the same on every replica); the first is
    /// the one currently shown.
    pub values: Vec<ConflictValue>,
    #[serde(skip)]
    keys: Vec<String>,
}

/// Every field of the document with concurrent values, in path order.
pub fn conflicts(doc: &AutoCommit) -> Vec<Conflict> {
    let mut found = Vec::new();
    walk(doc, &ROOT, &mut Vec::new(), &mut found);
    found.sort_by(|a, b| a.path.cmp(&b.path));
    found
}

fn walk(doc: &AutoCommit, obj: &ObjId, keys: &mut Vec<String>, found: &mut Vec<Conflict>) {
    for key in doc.keys(obj) {
        let Ok(all) = doc.get_all(obj, key.as_str()) else {
            continue;
        };
        keys.push(key);
        if all.len() > 1 {
            found.push(conflict_at(doc, keys, &all));
        } else if let Some((Value::Object(ObjType::Map | ObjType::Table), child)) = all.first() {
            walk(doc, child, keys, found);
        }
        keys.pop();
    }
}

fn conflict_at(doc: &AutoCommit, keys: &[String], all: &[(Value<'_>, ObjId)]) -> Conflict {
    // `get_all` lists values in ascending op order; Automerge shows the last one, so we reverse to
    // put the visible winner first.
    let values = all
        .iter()
        .rev()
        .map(|(value, id)| ConflictValue {
            value: Tree::read(doc, value, id).to_json(),
            actor: match id {
                ObjId::Id(_, actor, _) => actor.to_hex_string(),
                ObjId::Root => String::new(),
            },
        })
        .collect();
    Conflict {
        path: keys.join("."),
        values,
        keys: keys.to_vec(),
    }
}

/// Resolves the conflict at `path` by writing the value numbered `choice` (0-based, in the order
/// [`conflicts`] lists them), and commits.
pub fn resolve_conflict(
    doc: &mut AutoCommit,
    path: &str,
    choice: usize,
    meta: &CommitMeta,
) -> Result<Option<ChangeHash>, DocError> {
    let no_conflict = || DocError::NoConflict(path.to_string());
    let conflict = conflicts(doc)
        .into_iter()
        .find(|c| c.path == path)
        .ok_or_else(no_conflict)?;
    let (last, parents) = conflict.keys.split_last().ok_or_else(no_conflict)?;
    let mut obj = ROOT;
    for key in parents {
        obj = match doc.get(&obj, key.as_str())? {
            Some((Value::Object(_), id)) => id,
            _ => return Err(no_conflict()),
        };
    }
    let mut all = doc.get_all(&obj, last.as_str())?;
    all.reverse();
    let (value, id) = all.get(choice).ok_or_else(no_conflict)?;
    let tree = Tree::read(doc, value, id);
    tree.write(doc, &obj, Prop::Map(last.clone()))?;
    Ok(doc.commit_with(meta.options()))
}

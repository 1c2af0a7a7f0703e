//! A typed copy of part of a document, for showing conflicting values and writing one back.

use std::collections::BTreeMap;

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjId, ObjType, Prop, ReadDoc, ScalarValue, Value};

/// A value read out of a document, with Automerge's scalar types kept exact.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tree {
    Scalar(ScalarValue),
    Map(BTreeMap<String, Tree>),
    List(Vec<Tree>),
    Text(String),
}

impl Tree {
    /// Reads the value `value`, whose id is `id`, out of the document.
    pub(crate) fn read(doc: &AutoCommit, value: &Value<'_>, id: &ObjId) -> Tree {
        match value {
            Value::Scalar(s) => Tree::Scalar(s.as_ref().clone()),
            Value::Object(ObjType::Map | ObjType::Table) => Tree::Map(
                doc.keys(id)
                    .filter_map(|key| {
                        let (value, child) = doc.get(id, key.as_str()).ok().flatten()?;
                        Some((key, Tree::read(doc, &value, &child)))
                    })
                    .collect(),
            ),
            Value::Object(ObjType::List) => Tree::List(
                (0..doc.length(id))
                    .filter_map(|index| {
                        let (value, child) = doc.get(id, index).ok().flatten()?;
                        Some(Tree::read(doc, &value, &child))
                    })
                    .collect(),
            ),
            Value::Object(ObjType::Text) => Tree::Text(doc.text(id).unwrap_or_default()),
        }
    }

    /// Writes this value at `prop` of `obj`, replacing whatever is there.
    pub(crate) fn write(
        &self,
        doc: &mut AutoCommit,
        obj: &ObjId,
        prop: Prop,
    ) -> Result<(), automerge::AutomergeError> {
        match self {
            Tree::Scalar(s) => match prop {
                Prop::Map(key) => doc.put(obj, key, s.clone()),
                Prop::Seq(index) => doc.insert(obj, index, s.clone()),
            },
            Tree::Map(entries) => {
                let child = put_object(doc, obj, prop, ObjType::Map)?;
                entries
                    .iter()
                    .try_for_each(|(key, tree)| tree.write(doc, &child, Prop::Map(key.clone())))
            }
            Tree::List(items) => {
                let child = put_object(doc, obj, prop, ObjType::List)?;
                items
                    .iter()
                    .enumerate()
                    .try_for_each(|(index, tree)| tree.write(doc, &child, Prop::Seq(index)))
            }
            Tree::Text(text) => {
                let child = put_object(doc, obj, prop, ObjType::Text)?;
                doc.splice_text(&child, 0, 0, text)
            }
        }
    }

    /// The value as JSON, for people and scripts.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Tree::Scalar(s) => match s {
                ScalarValue::Str(text) => J::String(text.to_string()),
                ScalarValue::Int(n) | ScalarValue::Timestamp(n) => J::from(*n),
                ScalarValue::Uint(n) => J::from(*n),
                ScalarValue::F64(n) => J::from(*n),
                ScalarValue::Boolean(b) => J::Bool(*b),
                ScalarValue::Null => J::Null,
                other => J::String(other.to_string()),
            },
            Tree::Map(entries) => J::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
            Tree::List(items) => J::Array(items.iter().map(Tree::to_json).collect()),
            Tree::Text(text) => J::String(text.clone()),
        }
    }
}

fn put_object(
    doc: &mut AutoCommit,
    obj: &ObjId,
    prop: Prop,
    kind: ObjType,
) -> Result<ObjId, automerge::AutomergeError> {
    match prop {
        Prop::Map(key) => doc.put_object(obj, key, kind),
        Prop::Seq(index) => doc.insert_object(obj, index, kind),
    }
}

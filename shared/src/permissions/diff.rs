//! Which fields a change touched: the record before and after, compared field by field.

use serde_json::{Map, Value};

use crate::domain::{Customer, Dealer};
use crate::record::Record;

/// One field whose value differs, with both values (`None` when absent or empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    /// Dotted path, e.g. `credit.limit` or `lines.<key>.unit_price`.
    pub path: String,
    /// The value before.
    pub old: Option<Value>,
    /// The value after.
    pub new: Option<Value>,
}

/// The fields that differ between `before` and `after`, as dotted paths to the deepest
/// differing value (a map entry added or removed is one change at its key). A new record
/// (`before` is `None`) is compared with the blank record of its kind, so that only what its
/// author filled in counts as written.
pub fn changed_fields(before: Option<&Record>, after: &Record) -> Vec<FieldChange> {
    let old = match before {
        Some(record) => fields(record),
        None => blank(after).as_ref().map_or(Value::Null, fields),
    };
    let mut out = Vec::new();
    diff(&old, &fields(after), String::new(), &mut out);
    out
}

/// What a new record of `record`'s kind holds before anyone fills it in, for the kinds that
/// have defaults; other kinds start empty.
fn blank(record: &Record) -> Option<Record> {
    match record {
        Record::Customer(c) => Some(Record::Customer(Customer::new(
            c.name.clone(),
            c.created_at,
        ))),
        Record::Dealer(d) => Some(Record::Dealer(Dealer::new(d.name.clone(), d.created_at))),
        _ => None,
    }
}

/// The record's fields as JSON (the kind tag left out: a record never changes kind).
fn fields(record: &Record) -> Value {
    match serde_json::to_value(record) {
        Ok(Value::Object(mut map)) => {
            map.remove("type");
            Value::Object(map)
        }
        // Records are plain structs of strings, numbers and maps; they always serialize.
        _ => Value::Null,
    }
}

fn diff(old: &Value, new: &Value, path: String, out: &mut Vec<FieldChange>) {
    let mergeable = |v: &Value| v.is_object() || v.is_null();
    if (old.is_object() || new.is_object()) && mergeable(old) && mergeable(new) {
        let empty = Map::new();
        let (a, b) = (
            old.as_object().unwrap_or(&empty),
            new.as_object().unwrap_or(&empty),
        );
        let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
        for key in keys {
            let child = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            let (x, y) = (
                a.get(key).unwrap_or(&Value::Null),
                b.get(key).unwrap_or(&Value::Null),
            );
            let found = out.len();
            diff(x, y, child.clone(), out);
            // A map entry added or removed is a change even when everything in it is empty
            // (an authorised region without a start date).
            let one_sided = a.contains_key(key) != b.contains_key(key);
            if one_sided && out.len() == found && !(x.is_null() && y.is_null()) {
                out.push(change(child, x, y));
            }
        }
    } else if old != new {
        out.push(change(path, old, new));
    }
}

fn change(path: String, old: &Value, new: &Value) -> FieldChange {
    FieldChange {
        path,
        old: Some(old.clone()).filter(|v| !v.is_null()),
        new: Some(new.clone()).filter(|v| !v.is_null()),
    }
}

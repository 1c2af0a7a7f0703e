//! Lists and searches: plain SQL over the projection tables.

use rusqlite::types::ValueRef;
use serde::Serialize;
use serde_json::{Map, Value};
use shared::RecordId;
use shared::doc::ConflictValue;
use shared::projection::Table;

use super::Store;
use crate::error::ClientError;

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Include voided records.
    pub include_voided: bool,
    /// Only records of this customer (visits, quotations, orders).
    pub customer: Option<RecordId>,
    /// Only customers whose name, phone, tax id or address contains this text.
    pub search: Option<String>,
    /// At most this many rows.
    pub limit: Option<u32>,
}

/// One conflicting field of one record.
#[derive(Debug, Clone, Serialize)]
pub struct ConflictRow {
    /// The record.
    pub id: String,
    /// Its kind.
    pub kind: String,
    /// The field's dotted path.
    pub path: String,
    /// The concurrent values, the shown one first.
    pub values: Vec<ConflictValue>,
}

impl Store {
    /// Rows of a projection table as JSON objects (columns in table order), newest first.
    pub fn list(
        &self,
        table: &Table,
        filter: &ListFilter,
    ) -> Result<Vec<Map<String, Value>>, ClientError> {
        let mut sql = format!("SELECT * FROM {} WHERE 1 = 1", table.name);
        let mut args: Vec<String> = Vec::new();
        if !filter.include_voided && table.columns.iter().any(|(c, _)| *c == "voided") {
            sql.push_str(" AND voided = 0");
        }
        if let Some(customer) = filter.customer {
            args.push(customer.to_string());
            sql.push_str(&format!(" AND customer_id = ?{}", args.len()));
        }
        if let Some(text) = &filter.search {
            args.push(format!("%{}%", escape_like(text.trim())));
            let n = args.len();
            sql.push_str(&format!(
                " AND (name LIKE ?{n} ESCAPE '\\' OR phone LIKE ?{n} ESCAPE '\\'
                      OR tax_id LIKE ?{n} ESCAPE '\\' OR address LIKE ?{n} ESCAPE '\\')"
            ));
        }
        sql.push_str(" ORDER BY doc_id DESC");
        if let Some(limit) = filter.limit {
            sql.push_str(&format!(" LIMIT {limit}"));
        }
        let mut statement = self.conn.prepare(&sql)?;
        let names: Vec<String> = statement
            .column_names()
            .iter()
            .map(|s| s.to_string())
            .collect();
        let rows = statement.query_map(rusqlite::params_from_iter(args), |row| {
            let mut object = Map::new();
            for (index, name) in names.iter().enumerate() {
                let key = if name == "doc_id" {
                    "id".to_string()
                } else {
                    name.clone()
                };
                object.insert(key, json_value(row.get_ref(index)?));
            }
            Ok(object)
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every field edited concurrently and not yet resolved, optionally of one record.
    pub fn conflicts(&self, id: Option<RecordId>) -> Result<Vec<ConflictRow>, ClientError> {
        let mut statement = self.conn.prepare(
            "SELECT doc_id, kind, path, value_json FROM conflicts
             WHERE ?1 IS NULL OR doc_id = ?1 ORDER BY doc_id, path",
        )?;
        let rows = statement.query_map([id.map(|i| i.to_string())], |row| {
            let json: String = row.get(3)?;
            Ok(ConflictRow {
                id: row.get(0)?,
                kind: row.get(1)?,
                path: row.get(2)?,
                values: serde_json::from_str(&json).unwrap_or_default(),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Documents set aside because they could not be read: (id, reason).
    pub fn quarantined(&self) -> Result<Vec<(String, String)>, ClientError> {
        let mut statement = self
            .conn
            .prepare("SELECT doc_id, reason FROM quarantine ORDER BY at")?;
        let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// How many local changes wait for the server.
    pub fn pending_count(&self) -> Result<u64, ClientError> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM outbox", [], |row| row.get(0))?)
    }

    /// Every document id with its kind, in id order.
    pub fn all_ids(&self) -> Result<Vec<(RecordId, String)>, ClientError> {
        let mut statement = self
            .conn
            .prepare("SELECT doc_id, kind FROM documents ORDER BY doc_id")?;
        let rows = statement.query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
        })?;
        let mut ids = Vec::new();
        for row in rows {
            let (id, kind) = row?;
            if let Ok(id) = id.parse() {
                ids.push((id, kind));
            }
        }
        Ok(ids)
    }
}

fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

fn json_value(value: ValueRef<'_>) -> Value {
    match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(n) => Value::from(n),
        ValueRef::Real(n) => Value::from(n),
        ValueRef::Text(bytes) => Value::String(String::from_utf8_lossy(bytes).into_owned()),
        ValueRef::Blob(_) => Value::Null,
    }
}

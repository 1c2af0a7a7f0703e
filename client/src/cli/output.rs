//! How results are shown: tables and field lists for people, JSON for scripts.

use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use serde::Serialize;
use serde_json::Value;
use shared::i18n::Lang;

/// Where and how a command prints.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    /// Print JSON instead of tables.
    pub json: bool,
    /// Language of labels for people.
    pub lang: Lang,
}

impl Output {
    /// Prints a serialisable value as pretty JSON.
    pub fn json<T: Serialize>(&self, value: &T) {
        match serde_json::to_string_pretty(value) {
            Ok(text) => println!("{text}"),
            Err(error) => eprintln!("error: could not print JSON: {error}"),
        }
    }

    /// Prints rows (JSON objects) as a table with the given columns, or as a JSON array.
    pub fn rows(&self, rows: &[serde_json::Map<String, Value>], columns: &[&str]) {
        if self.json {
            return self.json(&rows);
        }
        if rows.is_empty() {
            println!("{}", self.text("(nothing)", "（无）"));
            return;
        }
        let mut table = Table::new();
        table
            .load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic);
        table.set_header(columns.iter().map(|c| self.column_label(c)));
        for row in rows {
            table.add_row(
                columns
                    .iter()
                    .map(|c| cell_text(row.get(*c).unwrap_or(&Value::Null))),
            );
        }
        println!("{table}");
    }

    /// Prints a record (or any object) as `field: value` lines, or as JSON.
    pub fn fields(&self, value: &Value) {
        if self.json {
            return self.json(value);
        }
        for line in field_lines(value) {
            println!("{line}");
        }
    }

    /// A one-line message for people, or `{"ok": true, ...}` for scripts.
    pub fn done(&self, message: &str, extra: Value) {
        if self.json {
            let mut object = serde_json::Map::new();
            object.insert("ok".into(), Value::Bool(true));
            if let Value::Object(map) = extra {
                object.extend(map);
            }
            self.json(&Value::Object(object));
        } else {
            println!("{message}");
        }
    }

    /// Picks the English or Chinese text.
    pub fn text<'a>(&self, en: &'a str, zh: &'a str) -> &'a str {
        match self.lang {
            Lang::En => en,
            Lang::ZhCn => zh,
        }
    }

    fn column_label(&self, column: &str) -> String {
        let zh = match column {
            "id" => "编号",
            "name" => "名称",
            "region" => "区域",
            "salesperson" => "业务员",
            "kind" => "类型",
            "grade" => "等级",
            "lifecycle" => "阶段",
            "phone" => "电话",
            "tax_id" => "税号",
            "number" => "单号",
            "customer_id" => "客户",
            "status" => "状态",
            "total" => "金额",
            "currency" => "币种",
            "local_date" => "日期",
            "purpose" => "目的",
            "outcome" => "结果",
            "code" => "代码",
            "list_price" => "单价",
            "unit" => "单位",
            "authorised_regions" => "授权区域",
            "line_count" => "行数",
            _ => column,
        };
        self.text(column, zh).to_string()
    }
}

fn cell_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn flatten(prefix: &str, value: &Value, lines: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, child) in map {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(&path, child, lines);
            }
        }
        Value::Null => {}
        Value::Object(_) => {}
        other => lines.push((prefix.to_string(), cell_text(other))),
    }
}

/// A record as `field  value` lines, the values starting at one display column (keys padded
/// by display width, so a Chinese key does not push its value out of line).
fn field_lines(value: &Value) -> Vec<String> {
    use shared::text::{Align, display_width, pad};
    let mut lines = Vec::new();
    flatten("", value, &mut lines);
    let width = lines
        .iter()
        .map(|(k, _)| display_width(k))
        .max()
        .unwrap_or(0);
    lines
        .into_iter()
        .map(|(key, text)| format!("{}  {text}", pad(&key, width, Align::Left)))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use shared::text::display_width;

    use super::field_lines;

    #[test]
    fn values_start_at_one_display_column_whatever_the_keys() {
        let lines =
            field_lines(&json!({"名称": "上海华东", "region": "SOUTH-GZ", "备注说明": "x"}));
        // Where each line's value starts, in display columns (the values end the lines).
        let at: Vec<_> = lines
            .iter()
            .map(|line| {
                ["上海华东", "SOUTH-GZ", "x"]
                    .into_iter()
                    .find(|v| line.ends_with(&format!("  {v}")))
                    .map(|v| display_width(line) - display_width(v))
            })
            .collect();
        assert!(at.iter().all(|a| a.is_some() && *a == at[0]), "{lines:#?}");
    }
}

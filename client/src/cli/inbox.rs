//! `fieldsync inbox`: everything waiting for a person in one list — the business flags still
//! open or acknowledged, the fields edited concurrently on two devices (issue 4: field
//! conflicts appear in the same inbox as business flags), and what this laptop set aside in
//! quarantine: records it cannot read and pulled changes it could not apply.

use serde_json::{Map, Value, json};

use super::Context;
use super::flags::{flags, print_rows};
use crate::error::ClientError;

/// Runs `fieldsync inbox`. With `--json`, one array; each item's `type` is `flag`,
/// `conflict`, `quarantined_record`, `quarantined_change` or `decision`.
pub fn run(ctx: &Context) -> Result<(), ClientError> {
    let json = ctx.out.json;
    let lang = ctx.out.lang;
    let mut rows = Vec::new();
    for (id, flag) in flags(ctx, false)? {
        let mut row = Map::new();
        row.insert("type".into(), json!("flag"));
        row.insert("id".into(), json!(id));
        row.insert(
            "kind".into(),
            json!(if json {
                flag.kind.as_str()
            } else {
                flag.kind.label(lang)
            }),
        );
        row.insert("records".into(), records(&flag.records, json));
        row.insert(
            "summary".into(),
            json!(ctx.out.text(&flag.message_en, &flag.message_zh)),
        );
        row.insert(
            "status".into(),
            json!(if json {
                flag.status.as_str()
            } else {
                flag.status.label(lang)
            }),
        );
        rows.push(row);
    }
    for conflict in ctx.store.conflicts(None)? {
        let mut values = Vec::new();
        for value in &conflict.values {
            let who = ctx
                .store
                .actor_name(&value.actor)?
                .unwrap_or_else(|| value.actor.clone());
            values.push(format!("{} ({who})", value.value));
        }
        let summary = format!(
            "{} {}: {}",
            ctx.out.text("field", "字段"),
            conflict.path,
            values.join(ctx.out.text(" / ", " ／ "))
        );
        let mut row = Map::new();
        row.insert("type".into(), json!("conflict"));
        row.insert("id".into(), json!(conflict.id));
        row.insert("kind".into(), json!(conflict.kind));
        row.insert("records".into(), records(&[&conflict.id], json));
        row.insert("field".into(), json!(conflict.path));
        row.insert("summary".into(), json!(summary));
        row.insert(
            "status".into(),
            json!(if json {
                "open"
            } else {
                ctx.out.text("open", "待处理")
            }),
        );
        if json {
            row.insert("values".into(), json!(conflict.values));
        }
        rows.push(row);
    }
    rows.extend(quarantined(ctx)?);
    rows.extend(decisions(ctx)?);
    let type_label = |row: &mut Map<String, Value>| {
        let label = match row.get("type").and_then(Value::as_str) {
            Some("flag") => ctx.out.text("flag", "预警"),
            Some("quarantined_record") => ctx.out.text("quarantined record", "隔离的记录"),
            Some("quarantined_change") => ctx.out.text("quarantined change", "隔离的变更"),
            Some("decision") => ctx.out.text("manager's decision", "审批结果"),
            _ => ctx.out.text("field conflict", "字段冲突"),
        };
        row.insert("type".into(), json!(label));
    };
    if !json {
        rows.iter_mut().for_each(type_label);
    }
    print_rows(
        ctx,
        &rows,
        &[
            ("type", "来源"),
            ("kind", "类型"),
            ("records", "相关记录"),
            ("summary", "摘要"),
            ("status", "状态"),
        ],
    );
    Ok(())
}

/// What this laptop set aside: records it cannot read, and pulled changes it could not apply
/// (kept with their bytes and tried again on every sync).
fn quarantined(ctx: &Context) -> Result<Vec<Map<String, Value>>, ClientError> {
    let json = ctx.out.json;
    let held = if json {
        "held"
    } else {
        ctx.out.text("held", "已隔离")
    };
    let mut rows = Vec::new();
    for (id, reason) in ctx.store.quarantined()? {
        let mut row = Map::new();
        row.insert("type".into(), json!("quarantined_record"));
        row.insert("id".into(), json!(id));
        row.insert("kind".into(), json!(""));
        row.insert("records".into(), records(&[&id], json));
        let summary = ctx
            .out
            .text("this laptop's copy cannot be read", "本机副本无法读取");
        row.insert("summary".into(), json!(format!("{summary}: {reason}")));
        row.insert("status".into(), json!(held));
        rows.push(row);
    }
    for change in ctx.store.quarantined_changes()? {
        let mut row = Map::new();
        row.insert("type".into(), json!("quarantined_change"));
        row.insert("id".into(), json!(change.doc_id));
        row.insert(
            "kind".into(),
            json!(if json {
                change.reason.as_str()
            } else {
                change.reason.label(ctx.out.lang)
            }),
        );
        row.insert("records".into(), records(&[&change.doc_id], json));
        // The kind column already says why in the reader's language; the summary adds the
        // document library's own words, which name the exact fault.
        row.insert("summary".into(), json!(change.detail));
        row.insert("status".into(), json!(held));
        if json {
            row.insert("seq".into(), json!(change.seq));
            row.insert("hash".into(), json!(change.hash));
            row.insert("detail".into(), json!(change.detail));
        }
        rows.push(row);
    }
    Ok(rows)
}

/// Managers' decisions on this user's own deals that wait for them: a quotation approved (to
/// send) or rejected (to revise, the note says why), an order rejected.
fn decisions(ctx: &Context) -> Result<Vec<Map<String, Value>>, ClientError> {
    let json = ctx.out.json;
    let mut rows = Vec::new();
    for pending in ctx.store.pending_decisions()? {
        let approval = &pending.approval;
        let mut row = Map::new();
        row.insert("type".into(), json!("decision"));
        row.insert("id".into(), json!(pending.id));
        row.insert("kind".into(), json!(pending.kind));
        row.insert("records".into(), records(&[&pending.id], json));
        let by = ctx.out.text("by", "审批人");
        let mut summary = format!(
            "{} {}, {by} {}",
            pending.number,
            approval.decision.label(ctx.out.lang),
            approval.by
        );
        if let Some(note) = &approval.note {
            summary.push_str(&format!(": {note}"));
        }
        row.insert("summary".into(), json!(summary));
        row.insert(
            "status".into(),
            json!(if json {
                approval.decision.as_str()
            } else {
                approval.decision.label(ctx.out.lang)
            }),
        );
        if json {
            row.insert("by".into(), json!(approval.by));
            row.insert("note".into(), json!(approval.note));
        }
        rows.push(row);
    }
    Ok(rows)
}

/// The records involved: an array for scripts, short ids on lines for people.
fn records<T: ToString>(ids: &[T], json: bool) -> Value {
    let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
    if json {
        json!(ids)
    } else {
        json!(
            ids.iter()
                .map(|id| id.chars().take(8).collect::<String>())
                .collect::<Vec<_>>()
                .join("\n")
        )
    }
}

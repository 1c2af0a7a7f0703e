//! `fieldsync flags ...`: business-conflict flags (预警) raised by the server and synced here,
//! handled on the laptop, offline too.
//!
//! A person changes only a flag's handling (status, who, when, note): the server refuses any
//! other change (`flag_readonly`), so these commands touch nothing else.

use chrono::Utc;
use clap::Subcommand;
use serde_json::{Map, Value, json};
use shared::domain::{Flag, FlagStatus};
use shared::projection::FLAGS;
use shared::{Problem, RecordId, RecordKind, Validation};

use super::{Context, show_record};
use crate::error::ClientError;
use crate::store::ListFilter;

/// Flag commands.
#[derive(Debug, Subcommand)]
pub enum FlagCommand {
    /// List flags: open and acknowledged ones, newest first.
    List {
        /// Include resolved flags.
        #[arg(long)]
        all: bool,
    },
    /// Show one flag in full.
    Show {
        /// Flag id (or unique prefix).
        id: String,
    },
    /// Acknowledge a flag: you have seen it and are on it.
    Ack {
        /// Flag id (or unique prefix).
        id: String,
        /// A note for the others involved.
        #[arg(long)]
        note: Option<String>,
    },
    /// Resolve a flag, saying how (e.g. the manager's ruling on a 撞单 dispute).
    Resolve {
        /// Flag id (or unique prefix).
        id: String,
        /// How it was resolved (required).
        #[arg(long)]
        note: String,
    },
}

/// Runs a flag command.
pub fn run(ctx: &mut Context, command: FlagCommand) -> Result<(), ClientError> {
    match command {
        FlagCommand::List { all } => {
            let rows: Vec<Map<String, Value>> = flags(ctx, all)?
                .iter()
                .map(|(id, flag)| flag_row(ctx, *id, flag))
                .collect();
            print_rows(
                ctx,
                &rows,
                &[
                    ("id", "编号"),
                    ("kind", "类型"),
                    ("severity", "级别"),
                    ("status", "状态"),
                    ("regions", "区域"),
                    ("message", "内容"),
                    ("handled_by", "处理人"),
                    ("note", "备注"),
                ],
            );
        }
        FlagCommand::Show { id } => {
            let id = ctx.store.find_id(&id, Some(RecordKind::Flag))?;
            show_record(ctx, id)?;
        }
        FlagCommand::Ack { id, note } => {
            let id = ctx.store.find_id(&id, Some(RecordKind::Flag))?;
            handle(ctx, id, FlagStatus::Acknowledged, note)?;
        }
        FlagCommand::Resolve { id, note } => {
            let id = ctx.store.find_id(&id, Some(RecordKind::Flag))?;
            if note.trim().is_empty() {
                return Err(Validation::one("note", Problem::Required).into());
            }
            handle(ctx, id, FlagStatus::Resolved, Some(note))?;
        }
    }
    Ok(())
}

/// Sets a flag's handling: the status, this device's user, now, and the note when given (an
/// acknowledgement without one keeps the note already there).
fn handle(
    ctx: &mut Context,
    id: RecordId,
    status: FlagStatus,
    note: Option<String>,
) -> Result<(), ClientError> {
    let user = ctx.store.device().user.clone();
    let note = note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    let message = format!("{} flag", status.as_str());
    ctx.store.update::<Flag>(id, &message, |flag| {
        // Acknowledging would quietly re-open a resolved flag; re-opening is not a thing
        // people do by accident, so it is refused.
        if status == FlagStatus::Acknowledged && flag.status == FlagStatus::Resolved {
            return Err(Validation::one(
                "status",
                Problem::Inconsistent("the flag is already resolved".into()),
            )
            .into());
        }
        flag.status = status;
        flag.handled_by = Some(user.clone());
        flag.handled_at = Some(Utc::now());
        if note.is_some() {
            flag.note.clone_from(&note);
        }
        Ok(())
    })?;
    let done = match status {
        FlagStatus::Resolved => ctx.out.text("flag resolved:", "预警已解决："),
        _ => ctx.out.text("flag acknowledged:", "预警已确认："),
    };
    ctx.out.done(
        &format!("{done} {id}"),
        json!({"id": id, "status": status, "handled_by": user}),
    );
    Ok(())
}

/// The live flags on this laptop, newest first: open and acknowledged ones, and resolved ones
/// too when `all`. A flag document that cannot be read is skipped (it is quarantined by the
/// store, never lost).
pub(super) fn flags(ctx: &Context, all: bool) -> Result<Vec<(RecordId, Flag)>, ClientError> {
    let rows = ctx.store.list(&FLAGS, &ListFilter::default())?;
    let mut out = Vec::new();
    for row in rows {
        let Some(id) = row
            .get("id")
            .and_then(Value::as_str)
            .and_then(|id| id.parse::<RecordId>().ok())
        else {
            continue;
        };
        let Ok(flag) = ctx.store.get::<Flag>(id) else {
            continue;
        };
        if all || flag.status != FlagStatus::Resolved {
            out.push((id, flag));
        }
    }
    out.sort_by(|a, b| b.1.detected_at.cmp(&a.1.detected_at).then(a.0.cmp(&b.0)));
    Ok(out)
}

/// One flag as a row: words for scripts, labels in the user's language for people.
fn flag_row(ctx: &Context, id: RecordId, flag: &Flag) -> Map<String, Value> {
    let json = ctx.out.json;
    let lang = ctx.out.lang;
    let word = |w: &'static str, label: &'static str| if json { w } else { label };
    let mut row = Map::new();
    row.insert("id".into(), json!(id));
    row.insert(
        "kind".into(),
        json!(word(flag.kind.as_str(), flag.kind.label(lang))),
    );
    row.insert(
        "severity".into(),
        json!(word(flag.severity.as_str(), flag.severity.label(lang))),
    );
    row.insert(
        "status".into(),
        json!(word(flag.status.as_str(), flag.status.label(lang))),
    );
    row.insert("regions".into(), json!(flag.regions.join(", ")));
    row.insert(
        "message".into(),
        json!(ctx.out.text(&flag.message_en, &flag.message_zh)),
    );
    row.insert("handled_by".into(), json!(flag.handled_by));
    row.insert("note".into(), json!(flag.note));
    if json {
        row.insert("records".into(), json!(flag.records));
        row.insert("people".into(), json!(flag.people));
        row.insert("detected_at".into(), json!(flag.detected_at));
        row.insert("handled_at".into(), json!(flag.handled_at));
        row.insert("message_en".into(), json!(flag.message_en));
        row.insert("message_zh".into(), json!(flag.message_zh));
    }
    row
}

/// Prints rows as JSON, or as a table whose headers are in the user's language: `columns` are
/// (key, Chinese header) pairs.
pub(super) fn print_rows(ctx: &Context, rows: &[Map<String, Value>], columns: &[(&str, &str)]) {
    if ctx.out.json {
        return ctx.out.rows(rows, &[]);
    }
    let header = |(en, zh): &(&str, &str)| ctx.out.text(en, zh).to_string();
    let shown: Vec<Map<String, Value>> = rows
        .iter()
        .map(|row| {
            columns
                .iter()
                .map(|c| (header(c), row.get(c.0).cloned().unwrap_or(Value::Null)))
                .collect()
        })
        .collect();
    let names: Vec<String> = columns.iter().map(header).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    ctx.out.rows(&shown, &names);
}

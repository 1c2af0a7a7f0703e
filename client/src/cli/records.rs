//! Commands that work on any record: void, history, conflicts; and on the store: init, merge,
//! status.

use std::path::PathBuf;

use clap::Subcommand;
use serde_json::json;

use super::{Context, parse};
use crate::error::ClientError;
use crate::home;

/// Conflict commands.
#[derive(Debug, Subcommand)]
pub enum ConflictCommand {
    /// List fields edited concurrently, with every value.
    List {
        /// Only this record's.
        id: Option<String>,
    },
    /// Resolve a conflict by picking one of the listed values.
    Resolve {
        /// Record id (or unique prefix).
        id: String,
        /// The field's path as listed, e.g. basics.phone.
        field: String,
        /// The value to keep: its number as listed (1, 2, ...).
        #[arg(long)]
        pick: usize,
    },
}

/// Sets who uses this laptop.
pub fn init(
    ctx: &mut Context,
    user: Option<String>,
    device: Option<String>,
    tz: Option<String>,
) -> Result<(), ClientError> {
    let current = ctx.store.device().clone();
    let time_zone = match tz {
        Some(text) => parse::time_zone("tz")(&text)?,
        None => current.time_zone,
    };
    let user = user.unwrap_or(current.user);
    let device = device.unwrap_or(current.name);
    let mut v = shared::Validation::default();
    v.require("user", &user);
    v.require("device", &device);
    v.finish()?;
    ctx.store
        .set_identity(user.trim(), device.trim(), time_zone)?;
    whoami(ctx)
}

/// Prints this device's identity.
pub fn whoami(ctx: &Context) -> Result<(), ClientError> {
    let d = ctx.store.device();
    let value = json!({
        "user": d.user, "device": d.name, "actor": d.actor.to_hex_string(),
        "time_zone": d.time_zone.name(), "store": ctx.store.path().display().to_string(),
    });
    ctx.out.fields(&value);
    Ok(())
}

/// Voids a record.
pub fn void(ctx: &mut Context, id: &str, reason: &str) -> Result<(), ClientError> {
    let id = ctx.store.find_id(id, None)?;
    let kind = ctx.store.void(id, reason)?;
    ctx.out.done(
        &format!("{} {kind} {id}", ctx.out.text("voided:", "已作废：")),
        json!({"id": id, "kind": kind}),
    );
    Ok(())
}

/// Prints a record's history.
pub fn history(ctx: &Context, id: &str) -> Result<(), ClientError> {
    let id = ctx.store.find_id(id, None)?;
    let entries = ctx.store.history(id)?;
    let mut rows = Vec::new();
    for entry in entries {
        let who = ctx
            .store
            .actor_name(&entry.actor)?
            .unwrap_or_else(|| format!("actor {}", &entry.actor[..8.min(entry.actor.len())]));
        let edits: Vec<String> = entry
            .edits
            .iter()
            .map(|e| format!("{} = {}", e.path, e.value))
            .collect();
        let mut row = serde_json::Map::new();
        row.insert("time".into(), json!(entry.time.map(|t| t.to_rfc3339())));
        row.insert("who".into(), json!(who));
        row.insert("message".into(), json!(entry.message));
        row.insert(
            "changed".into(),
            if ctx.out.json {
                json!(entry.edits)
            } else {
                json!(edits.join("\n"))
            },
        );
        row.insert("hash".into(), json!(entry.hash));
        rows.push(row);
    }
    ctx.out.rows(&rows, &["time", "who", "message", "changed"]);
    Ok(())
}

/// Runs a conflict command.
pub fn conflicts(ctx: &mut Context, command: ConflictCommand) -> Result<(), ClientError> {
    match command {
        ConflictCommand::List { id } => {
            let id = id.map(|i| ctx.store.find_id(&i, None)).transpose()?;
            let conflicts = ctx.store.conflicts(id)?;
            if ctx.out.json {
                ctx.out.json(&conflicts);
                return Ok(());
            }
            let mut rows = Vec::new();
            for c in conflicts {
                let mut values = Vec::new();
                for (n, value) in c.values.iter().enumerate() {
                    let who = ctx
                        .store
                        .actor_name(&value.actor)?
                        .unwrap_or_else(|| value.actor.clone());
                    values.push(format!("{}. {} ({who})", n + 1, value.value));
                }
                let mut row = serde_json::Map::new();
                row.insert("id".into(), json!(c.id));
                row.insert("kind".into(), json!(c.kind));
                row.insert("field".into(), json!(c.path));
                row.insert("values".into(), json!(values.join("\n")));
                rows.push(row);
            }
            ctx.out.rows(&rows, &["id", "kind", "field", "values"]);
        }
        ConflictCommand::Resolve { id, field, pick } => {
            let id = ctx.store.find_id(&id, None)?;
            let choice = pick.checked_sub(1).ok_or_else(|| {
                shared::Validation::one(
                    "pick",
                    shared::Problem::Inconsistent("values are numbered from 1".into()),
                )
            })?;
            ctx.store.resolve_conflict(id, &field, choice)?;
            ctx.out.done(
                &format!("{} {id} {field}", ctx.out.text("resolved:", "已解决：")),
                json!({"id": id, "field": field}),
            );
        }
    }
    Ok(())
}

/// Merges another laptop's store (its home directory) into this one.
pub fn merge(ctx: &mut Context, from: PathBuf) -> Result<(), ClientError> {
    let other = from.join(home::DB_FILE);
    if !other.is_file() {
        return Err(ClientError::NotFound {
            kind: "store".into(),
            id: other.display().to_string(),
        });
    }
    let report = ctx.store.merge_from(&other)?;
    let message = format!(
        "{} {} new, {} updated, {} changes",
        ctx.out.text("merged:", "已合并："),
        report.new_records,
        report.updated_records,
        report.changes
    );
    ctx.out
        .done(&message, serde_json::to_value(&report).unwrap_or_default());
    for problem in &report.unreadable {
        eprintln!("warning: not merged: {problem}");
    }
    Ok(())
}

/// Prints the store's state.
pub fn status(ctx: &Context) -> Result<(), ClientError> {
    let d = ctx.store.device();
    let value = json!({
        "user": d.user,
        "device": d.name,
        "server": ctx.store.meta("server")?,
        "role": ctx.store.meta("role")?,
        "territory": ctx.store.meta("territory")?,
        "last_sync": ctx.store.meta("last_sync")?,
        "cursor": ctx.store.cursor()?,
        "rejected": ctx.store.rejected()?.len(),
        "store": ctx.store.path().display().to_string(),
        "records": ctx.store.all_ids()?.len(),
        "pending_changes": ctx.store.pending_count()?,
        "conflicts": ctx.store.conflicts(None)?.len(),
        "quarantined": ctx.store.quarantined()?.len(),
        "quarantined_changes": ctx.store.quarantined_changes()?.len(),
    });
    ctx.out.fields(&value);
    Ok(())
}

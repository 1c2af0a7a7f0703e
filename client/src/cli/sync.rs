//! `fieldsync login`, `sync`, `rejected list`: talking to the server.

use std::io::{BufRead, IsTerminal};

use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use super::Context;
use crate::error::ClientError;
use crate::sync::{self, Http, SyncOptions};

/// Rejected-edit commands.
#[derive(Debug, Subcommand)]
pub enum RejectedCommand {
    /// Edits the server refused, with the reason.
    List,
}

/// Signs in to a server; the password comes from a prompt or, with `--password-stdin`, from the
/// first line of standard input, never from the command line.
pub fn login(
    ctx: &mut Context,
    server: &str,
    user: &str,
    password_stdin: bool,
) -> Result<(), ClientError> {
    let password = if password_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_string()
    } else {
        rpassword::prompt_password(format!("{} {user}: ", ctx.out.text("password for", "密码")))?
    };
    let http = Http::new(server)?;
    let reply = sync::sign_in(&mut ctx.store, &http, server, user, &password)?;
    let message = format!(
        "{} {} ({}, {}) @ {server}",
        ctx.out.text("signed in:", "已登录："),
        reply.user,
        reply.role,
        reply.territory
    );
    ctx.out.done(&message, json!({"user": reply.user, "role": reply.role, "territory": reply.territory, "server": server}));
    Ok(())
}

/// Syncs with the server, showing progress on a terminal.
pub fn sync(ctx: &mut Context, page_bytes: Option<u64>) -> Result<(), ClientError> {
    let server = ctx.store.meta("server")?.ok_or(ClientError::NotSignedIn)?;
    let busy = ctx
        .out
        .text("server busy, retrying in", "服务器繁忙，稍后重试：")
        .to_string();
    let http = Http::new(&server)?.on_busy(move |delay| eprintln!("{busy} {} s", delay.as_secs()));
    let bar = (!ctx.out.json && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar
    });
    let mut options = SyncOptions::default();
    if let Some(bytes) = page_bytes {
        options.pull_budget = bytes.max(1);
    }
    let report = sync::sync(&mut ctx.store, &http, &options, |r| {
        if let Some(bar) = &bar {
            bar.set_message(format!(
                "↑ {} changes ({} B)  ↓ {} changes ({} B)  round trip {}",
                r.pushed, r.bytes_up, r.pulled, r.bytes_down, r.round_trips
            ));
            bar.tick();
        }
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let report = report?;
    if ctx.out.json {
        ctx.out.json(&report);
    } else {
        println!(
            "{} ↑ {} ({} {}, {} {}, {} {})  ↓ {} ({} {})  {} B ↑ / {} B ↓ in {} {}",
            ctx.out.text("synced:", "已同步："),
            report.pushed,
            report.acknowledged,
            ctx.out.text("accepted", "已接受"),
            report.held,
            ctx.out
                .text("held for what they build on", "待前置修改到达"),
            report.rejected,
            ctx.out.text("refused", "被拒"),
            report.pulled,
            report.purged,
            ctx.out.text("removed", "已移除"),
            report.bytes_up,
            report.bytes_down,
            report.round_trips,
            ctx.out.text("round trips", "次往返"),
        );
        if report.quarantined > 0 {
            println!(
                "{}",
                ctx.out.text(
                    "some pulled changes could not be applied and were set aside: see `fieldsync inbox`",
                    "部分收到的变更无法应用，已隔离保存：见 `fieldsync inbox`"
                )
            );
        }
        if report.rejected > 0 {
            println!(
                "{}",
                ctx.out.text(
                    "some edits were refused: see `fieldsync rejected list`",
                    "部分修改被拒绝：见 `fieldsync rejected list`"
                )
            );
        }
    }
    Ok(())
}

/// Lists edits the server refused.
pub fn rejected(ctx: &Context, _command: RejectedCommand) -> Result<(), ClientError> {
    let rows: Vec<serde_json::Map<String, serde_json::Value>> = ctx
        .store
        .rejected()?
        .into_iter()
        .filter_map(|r| serde_json::to_value(r).ok())
        .filter_map(|v| v.as_object().cloned())
        .collect();
    ctx.out.rows(&rows, &["at", "id", "code", "reason"]);
    Ok(())
}

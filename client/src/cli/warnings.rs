//! Printing offline warnings: what the rules say about a record just saved, from what this
//! laptop holds (see `crate::store::warnings`).
//!
//! A warning is provisional: the record is already saved, and the server's verdict on sync is
//! the one that counts. So a warning goes to stderr (stdout stays the command's own result),
//! and a failure to compute one is reported there too but never fails the command that saved.

use serde_json::{Value, json};
use shared::RecordId;
use shared::rules::Finding;

use super::Context;
use crate::error::ClientError;

/// Which record was saved, so the right rules run.
#[derive(Debug, Clone, Copy)]
pub enum Saved {
    /// A customer (duplicates).
    Customer(RecordId),
    /// A quotation (authority, contested customer).
    Quotation(RecordId),
    /// An order (authority, contested customer, credit, dealer regions).
    Order(RecordId),
}

/// Runs the offline rules for a record just saved, prints each warning to stderr, and returns
/// them as a JSON array for the command's `--json` output (`warnings`, next to the id).
pub fn check(ctx: &Context, saved: Saved) -> Value {
    let findings: Result<Vec<Finding>, ClientError> = match saved {
        Saved::Customer(id) => ctx.store.customer_warnings(id),
        Saved::Quotation(id) => ctx.store.quotation_warnings(id),
        Saved::Order(id) => ctx.store.order_warnings(id),
    };
    let findings = match findings {
        Ok(findings) => findings,
        Err(error) => {
            eprintln!(
                "{}: {error}",
                ctx.out.text(
                    "note: the offline checks could not run (the record is saved)",
                    "提示：无法进行离线检查（记录已保存）"
                )
            );
            return Value::Array(Vec::new());
        }
    };
    for finding in &findings {
        eprintln!(
            "{} [{}] {}",
            ctx.out.text(
                "warning (provisional, the server decides on sync):",
                "预警（暂定，以同步后服务器判定为准）："
            ),
            finding.kind.label(ctx.out.lang),
            finding.message.text(ctx.out.lang)
        );
    }
    Value::Array(findings.iter().map(warning_json).collect())
}

/// One warning for scripts: type, severity, the records and regions involved, and the message
/// in both languages.
fn warning_json(finding: &Finding) -> Value {
    json!({
        "type": finding.kind,
        "severity": finding.severity,
        "key": finding.key,
        "records": finding.records,
        "people": finding.people,
        "regions": finding.regions,
        "message_en": finding.message.en,
        "message_zh": finding.message.zh_cn,
        "provisional": true,
    })
}

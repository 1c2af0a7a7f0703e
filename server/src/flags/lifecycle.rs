//! A flag's life after it is raised: closing itself when its situation is gone, and the
//! credit flags of a customer's other orders, whose situation changes with this one.
//!
//! Each rule run speaks for a set of flags ([`Covered`]): the flags of the subject it looked at
//! in full. A flag in that set that the run did not find again has lost its situation and is
//! closed ([`super::write::clear`]); a closed flag found again re-opens
//! ([`super::write::raise`]). Legacy per-region copies are left to `raise` (it voids them).

use std::collections::BTreeSet;

use rusqlite::Connection;
use shared::RecordId;
use shared::domain::{Flag, Order};
use shared::rules::{Finding, FindingKind, Message, key_prefix};

use super::write;
use crate::error::ServerError;
use crate::store::log;

/// The flags one rule run speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Covered {
    /// The flag with exactly this key.
    Key(String),
    /// Every flag whose key starts with this prefix ([`key_prefix`]).
    Prefix(String),
    /// Every flag of this kind involving this record (a pair's key names both in id order).
    Involving(FindingKind, RecordId),
}

impl Covered {
    /// The flags of `kind` keyed by `parts` and any further parts.
    pub fn prefix(kind: FindingKind, parts: &[&str]) -> Self {
        Covered::Prefix(key_prefix(kind, parts))
    }

    fn kind(&self) -> Option<FindingKind> {
        match self {
            Covered::Involving(kind, _) => Some(*kind),
            Covered::Key(key) | Covered::Prefix(key) => FindingKind::ALL
                .iter()
                .copied()
                .find(|k| key.starts_with(&format!("{}:", k.as_str()))),
        }
    }
}

/// Closes every live flag `covered` speaks for whose key is not among `found`. `voided` says
/// whether the subject was voided, for the reason shown. Returns how many changes were written.
pub fn close_gone(
    conn: &Connection,
    covered: &[Covered],
    found: &[Finding],
    voided: bool,
) -> Result<usize, ServerError> {
    let found: BTreeSet<&str> = found.iter().map(|f| f.key.as_str()).collect();
    let mut written = 0;
    for cover in covered {
        for key in live_keys(conn, cover)? {
            if found.contains(key.as_str()) {
                continue;
            }
            let Some(kind) = cover.kind() else { continue };
            written += write::clear(conn, Flag::id_of_finding(&key), &gone(kind, voided))?;
        }
    }
    Ok(written)
}

/// Keys of the single (not legacy) flags `cover` speaks for that are not voided and not closed
/// by the server already (the projection has no `cleared_at`; [`write::clear`] skips those).
fn live_keys(conn: &Connection, cover: &Covered) -> Result<Vec<String>, ServerError> {
    let query = |sql: &str, params: &[&str]| -> Result<Vec<(String, String)>, ServerError> {
        let rows = conn
            .prepare_cached(sql)?
            .query_map(rusqlite::params_from_iter(params), |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    };
    let rows = match cover {
        Covered::Key(key) => query(
            "SELECT doc_id, key FROM flags WHERE key = ?1 AND voided = 0",
            &[key],
        )?,
        Covered::Prefix(prefix) => query(
            "SELECT doc_id, key FROM flags
             WHERE substr(key, 1, length(?1)) = ?1 AND voided = 0",
            &[prefix],
        )?,
        Covered::Involving(kind, record) => query(
            "SELECT doc_id, key FROM flags
             WHERE kind = ?1 AND voided = 0 AND instr(records, ?2) > 0",
            &[kind.as_str(), &record.to_string()],
        )?,
    };
    Ok(rows
        .into_iter()
        .filter(|(doc_id, key)| *doc_id == Flag::id_of_finding(key).to_string())
        .map(|(_, key)| key)
        .collect())
}

/// Why a flag of `kind` closed itself, in both languages.
fn gone(kind: FindingKind, voided: bool) -> Message {
    let (en, zh) = if voided {
        ("the record was voided", "相关记录已作废")
    } else {
        match kind {
            FindingKind::CreditLimit => (
                "the order is within the customer's credit limit now, or no longer open",
                "订单已回到信用额度以内或已不再未结",
            ),
            FindingKind::BeyondAuthority => (
                "the deal was approved, or changed to within its author's authority",
                "已获审批，或已修改为权限以内",
            ),
            FindingKind::ContestedCustomer => (
                "only one salesperson still has open quotations or orders for the customer",
                "该客户只剩一名业务员有未结报价或订单",
            ),
            FindingKind::DuplicateCustomer => (
                "the two customer files no longer match",
                "两份客户档案已不再匹配",
            ),
            FindingKind::CrossRegionSale => (
                "the goods are no longer outside the dealer's or the batch's region",
                "货物已不再超出经销商授权区域或批次发货区域",
            ),
        }
    };
    Message {
        en: format!("Closed automatically: {en}."),
        zh_cn: format!("自动关闭：{zh}。"),
    }
}

/// The orders of `customer` with a credit flag that is still live: their situation changes
/// when another order of the customer, or the customer's limit, changes.
pub fn orders_with_credit_flags(
    conn: &Connection,
    customer: RecordId,
) -> Result<Vec<(RecordId, Order)>, ServerError> {
    let records: Vec<String> = conn
        .prepare_cached(
            "SELECT records FROM flags
             WHERE kind = 'credit_limit' AND voided = 0 AND instr(records, ?1) > 0",
        )?
        .query_map([customer.to_string()], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut out = Vec::new();
    let actor = super::system_actor();
    for list in records {
        let Some(id) = list
            .split(',')
            .next()
            .and_then(|r| r.parse::<RecordId>().ok())
        else {
            continue;
        };
        let Some(row) = log::document(conn, &id.to_string())? else {
            continue;
        };
        let order = shared::doc::load(&row.snapshot, &actor)
            .and_then(|d| shared::doc::read_as::<Order>(&d));
        if let Ok(order) = order
            && !out.iter().any(|(o, _)| *o == id)
        {
            out.push((id, order));
        }
    }
    Ok(out)
}

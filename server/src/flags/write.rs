//! Writing flags: the server turns a finding into one flag document, filed under every region
//! it involves ([`crate::territory::territory_set`]), committed by the server's own actor and
//! appended to the change log like any change, so it reaches laptops through ordinary sync.
//!
//! A flag's status follows its situation: found again after it was gone, the flag re-opens;
//! found gone ([`clear`]), it closes itself. Each such change is the server's, with a message
//! saying why, so the flag's history shows who changed what and for what reason.
//!
//! **Decision — older databases**: servers before one-flag-per-finding wrote a copy per region
//! ([`Flag::id_for`]). When the single flag of a finding is first written, it takes over the
//! handling of the most recently handled copy, and every copy is voided with a reason naming
//! the new flag; `admin recheck` does this for every situation still present.

use automerge::ActorId;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use shared::RecordId;
use shared::doc::{self, CommitMeta, DocError};
use shared::domain::{Flag, FlagStatus, Voided};
use shared::record::RecordType;
use shared::rules::{Finding, Message};

use super::commit::{self, Filing};
use crate::error::ServerError;
use crate::store::now_text;
use crate::territory::{Tree, members, territory_set};

/// The user name the server's own changes are recorded under.
pub const SYSTEM_USER: &str = "system";

/// The device name of the server's own changes.
pub const SYSTEM_DEVICE: &str = "server";

/// The server's fixed actor id: the 16 bytes of `fieldsync-server`. Fixed, so that every flag
/// change in every document's history names the same (user, device).
const SYSTEM_ACTOR: &[u8; 16] = b"fieldsync-server";

/// The server's actor id.
pub fn system_actor() -> ActorId {
    ActorId::from(SYSTEM_ACTOR.as_slice())
}

/// The server's actor id in hex, as stored in `devices` and the log.
pub fn system_actor_hex() -> String {
    hex::encode(SYSTEM_ACTOR)
}

fn doc_error(error: DocError) -> ServerError {
    ServerError::Internal(format!("writing a flag: {error}"))
}

/// Registers the server's account and device, taking the actor back if anyone registered it.
/// The account has an unusable password hash, so nobody can log in as it.
pub(crate) fn ensure_system(conn: &Connection) -> Result<(), ServerError> {
    conn.execute(
        "INSERT INTO users (name, password_hash, role, territory, created_at)
         SELECT ?1, '!', 'head_office', code, ?2 FROM territories WHERE parent IS NULL LIMIT 1
         ON CONFLICT (name) DO NOTHING",
        params![SYSTEM_USER, now_text()],
    )?;
    conn.execute(
        "INSERT INTO devices (actor, user, device, registered_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (actor) DO UPDATE SET user = excluded.user, device = excluded.device",
        params![system_actor_hex(), SYSTEM_USER, SYSTEM_DEVICE, now_text()],
    )?;
    Ok(())
}

/// Raises (or updates) the one flag of a finding, filed under every region involved that
/// exists in the tree, or in `fallback` (the subject's territory) when none does. Returns how
/// many changes were written; zero when the flag already says the same.
pub fn raise(
    conn: &Connection,
    tree: &Tree,
    finding: &Finding,
    fallback: &str,
) -> Result<usize, ServerError> {
    let id = Flag::id_of_finding(&finding.key);
    let occurred = super::facts::occurred_at(conn, &finding.records)?;
    let now = Utc::now();
    let Some(mut loaded) = commit::load(conn, &id.to_string())? else {
        return create(conn, tree, finding, fallback, occurred, now);
    };
    let mut flag: Flag = doc::read_as(&loaded.doc).map_err(doc_error)?;
    if flag.voided.is_some() {
        return Ok(0);
    }
    let mut message = format!("update flag: {}", finding.kind.as_str());
    flag.set_content(finding);
    if flag.occurred_at.is_none() {
        flag.occurred_at = occurred;
    }
    if flag.cleared_at.is_some() {
        // The situation had gone and is back: a new occurrence, open again.
        message = format!("reopen flag: {} recurred", finding.kind.as_str());
        flag.cleared_at = None;
        flag.occurred_at = occurred.or(flag.occurred_at);
        set_status(&mut flag, FlagStatus::Open, &recurred(finding), now);
    }
    let territory = filing(
        tree,
        &flag.regions,
        &loaded.row.territory,
        &loaded.row.territory,
    );
    let id_text = id.to_string();
    commit::move_to(conn, &id_text, &loaded.row.territory, &territory)?;
    let filing = Filing {
        kind: "flag",
        territory: &territory,
        customer_id: None,
    };
    Ok(usize::from(commit::commit(
        conn,
        id,
        &mut loaded.doc,
        &flag,
        &message,
        filing,
    )?))
}

/// Writes the first change of a finding's flag, taking over (and voiding) the per-region copies
/// an older server wrote.
fn create(
    conn: &Connection,
    tree: &Tree,
    finding: &Finding,
    fallback: &str,
    occurred: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<usize, ServerError> {
    let id = Flag::id_of_finding(&finding.key);
    let first = finding
        .regions
        .first()
        .map_or(fallback, String::as_str)
        .to_string();
    let mut flag = Flag::from_finding(finding, &first, now);
    flag.occurred_at = occurred;
    let copies = legacy_copies(conn, finding, fallback)?;
    if let Some((_, _, old)) = copies
        .iter()
        .filter(|(_, _, f)| f.handled_at.is_some())
        .max_by_key(|(_, _, f)| f.handled_at)
    {
        flag.status = old.status;
        flag.handled_by.clone_from(&old.handled_by);
        flag.handled_at = old.handled_at;
        flag.note.clone_from(&old.note);
    }
    let territory = filing(tree, &flag.regions, "", fallback);
    let meta = CommitMeta::now(format!("raise flag: {}", finding.kind.as_str()));
    let mut document = doc::create(&system_actor(), id, &flag, &meta).map_err(doc_error)?;
    let filing_new = Filing {
        kind: "flag",
        territory: &territory,
        customer_id: None,
    };
    let mut written = usize::from(commit::store_last(
        conn,
        id,
        &mut document,
        flag.into_record(),
        filing_new,
    )?);
    for (copy_id, mut loaded, mut old) in copies {
        old.voided = Some(Voided {
            reason: format!(
                "一条预警对应一个发现，已由预警 {id} 取代 / replaced by flag {id}: one flag per finding"
            ),
            at: now,
            by: SYSTEM_USER.to_string(),
        });
        let filing_old = Filing {
            kind: "flag",
            territory: &loaded.row.territory.clone(),
            customer_id: None,
        };
        let message = format!("void flag copy: replaced by flag {id}");
        written += usize::from(commit::commit(
            conn,
            copy_id,
            &mut loaded.doc,
            &old,
            &message,
            filing_old,
        )?);
    }
    Ok(written)
}

/// The live per-region copies of a finding an older server wrote.
fn legacy_copies(
    conn: &Connection,
    finding: &Finding,
    fallback: &str,
) -> Result<Vec<(RecordId, commit::Loaded, Flag)>, ServerError> {
    let mut regions: Vec<&str> = finding.regions.iter().map(String::as_str).collect();
    regions.push(fallback);
    regions.sort_unstable();
    regions.dedup();
    let mut out = Vec::new();
    for region in regions {
        let id = Flag::id_for(&finding.key, region);
        let Some(loaded) = commit::load(conn, &id.to_string())? else {
            continue;
        };
        let Ok(flag) = doc::read_as::<Flag>(&loaded.doc) else {
            continue;
        };
        if flag.voided.is_none() {
            out.push((id, loaded, flag));
        }
    }
    Ok(out)
}

/// Closes the flag `id` because its situation is gone (`reason` says how), keeping a person's
/// resolution as it was. Returns how many changes were written (0 when it was already closed,
/// voided or never raised).
pub fn clear(conn: &Connection, id: RecordId, reason: &Message) -> Result<usize, ServerError> {
    let id_text = id.to_string();
    let Some(mut loaded) = commit::load(conn, &id_text)? else {
        return Ok(0);
    };
    let mut flag: Flag = doc::read_as(&loaded.doc).map_err(doc_error)?;
    if flag.voided.is_some() || flag.cleared_at.is_some() {
        return Ok(0);
    }
    let now = Utc::now();
    flag.cleared_at = Some(now);
    if flag.status != FlagStatus::Resolved {
        set_status(&mut flag, FlagStatus::Resolved, reason, now);
    }
    let territory = loaded.row.territory.clone();
    let filing = Filing {
        kind: "flag",
        territory: &territory,
        customer_id: None,
    };
    let message = format!("close flag: {}", reason.en);
    Ok(usize::from(commit::commit(
        conn,
        id,
        &mut loaded.doc,
        &flag,
        &message,
        filing,
    )?))
}

/// The server changing a flag's status, saying why in the note (both languages).
fn set_status(flag: &mut Flag, status: FlagStatus, reason: &Message, now: DateTime<Utc>) {
    flag.status = status;
    flag.handled_by = Some(SYSTEM_USER.to_string());
    flag.handled_at = Some(now);
    flag.note = Some(format!("{} / {}", reason.zh_cn, reason.en));
}

fn recurred(finding: &Finding) -> Message {
    Message {
        en: format!("Re-opened: the situation recurred. {}", finding.message.en),
        zh_cn: format!("重新打开：情况再次出现。{}", finding.message.zh_cn),
    }
}

/// The territory a flag is filed under: every region it involves that exists in the tree, and
/// every territory it was filed under before (`before`; a flag never leaves a region), or
/// `fallback` when that leaves nothing.
fn filing(tree: &Tree, regions: &[String], before: &str, fallback: &str) -> String {
    let mut codes = super::facts::known_regions(tree, regions);
    codes.extend(members(before).filter(|b| tree.exists(b)).map(String::from));
    if codes.is_empty() {
        return fallback.to_string();
    }
    territory_set(codes)
}

/// Sets a flag's `handled_by` to the person whose change the server just accepted (the last
/// change of the document in the log, written by the authenticated caller in this same
/// transaction): who handled a flag is the server's word, never a laptop's. Returns how many
/// changes were written (none when the laptop already named its user).
pub fn stamp_handler(conn: &Connection, id: RecordId) -> Result<usize, ServerError> {
    let id_text = id.to_string();
    let author: Option<String> = conn
        .prepare_cached(
            "SELECT user FROM changes WHERE doc_id = ?1 AND hash IS NOT NULL
             ORDER BY seq DESC LIMIT 1",
        )?
        .query_row([&id_text], |r| r.get(0))
        .optional()?
        .flatten();
    let Some(author) = author.filter(|a| a != SYSTEM_USER) else {
        return Ok(0);
    };
    let Some(mut loaded) = commit::load(conn, &id_text)? else {
        return Ok(0);
    };
    let mut flag: Flag = doc::read_as(&loaded.doc).map_err(doc_error)?;
    if flag.handled_by.as_deref() == Some(author.as_str()) {
        return Ok(0);
    }
    flag.handled_by = Some(author.clone());
    let territory = loaded.row.territory.clone();
    let filing = Filing {
        kind: "flag",
        territory: &territory,
        customer_id: None,
    };
    let message = format!("handled by {author} (as authenticated by the server)");
    Ok(usize::from(commit::commit(
        conn,
        id,
        &mut loaded.doc,
        &flag,
        &message,
        filing,
    )?))
}

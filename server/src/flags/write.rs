//! Writing flags: the server turns a finding into one flag document per region involved,
//! committed by the server's own actor and appended to the change log like any change, so it
//! reaches laptops through ordinary sync.

use automerge::{ActorId, AutoCommit};
use rusqlite::{Connection, params};
use shared::doc::{self, CommitMeta, DocError};
use shared::domain::Flag;
use shared::record::Record;
use shared::rules::Finding;

use crate::error::ServerError;
use crate::store::log::{self, Author};
use crate::store::now_text;
use crate::territory::Tree;

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

/// Raises (or updates) the flags of a finding: one document per region involved that exists in
/// the tree, or in `fallback` (the subject's territory) when none does. Returns how many flag
/// changes were written; zero when every copy already says the same.
pub fn raise(
    conn: &Connection,
    tree: &Tree,
    finding: &Finding,
    fallback: &str,
) -> Result<usize, ServerError> {
    let mut regions = super::facts::known_regions(tree, &finding.regions);
    if regions.is_empty() {
        regions.insert(fallback.to_string());
    }
    let mut written = 0;
    for region in regions {
        if upsert(conn, finding, &region)? {
            written += 1;
        }
    }
    Ok(written)
}

/// Creates the flag of `finding` in `region`, or updates its content. The handling (status,
/// note) is never touched: a resolved flag stays resolved when the same key is found again.
fn upsert(conn: &Connection, finding: &Finding, region: &str) -> Result<bool, ServerError> {
    let id = Flag::id_for(&finding.key, region);
    let id_text = id.to_string();
    let actor = system_actor();
    let now = chrono::Utc::now();
    let (mut document, flag): (AutoCommit, Flag) = match log::document(conn, &id_text)? {
        None => {
            let flag = Flag::from_finding(finding, region, now);
            let meta = CommitMeta::now(format!("raise flag: {}", finding.kind.as_str()));
            (
                doc::create(&actor, id, &flag, &meta).map_err(doc_error)?,
                flag,
            )
        }
        Some(row) => {
            let mut document = doc::load(&row.snapshot, &actor).map_err(doc_error)?;
            let mut flag: Flag = doc::read_as(&document).map_err(doc_error)?;
            if !flag.set_content(finding) {
                return Ok(false);
            }
            let meta = CommitMeta::now(format!("update flag: {}", finding.kind.as_str()));
            if doc::update(&mut document, &flag, &meta)
                .map_err(doc_error)?
                .is_none()
            {
                return Ok(false);
            }
            (document, flag)
        }
    };
    let Some(change) = document.get_last_local_change() else {
        return Ok(false);
    };
    let hash = change.hash();
    let bytes = change.raw_bytes().to_vec();
    ensure_system(conn)?;
    let actor_hex = system_actor_hex();
    let author = Author {
        actor: &actor_hex,
        user: SYSTEM_USER,
        device: SYSTEM_DEVICE,
    };
    log::append_change(conn, &hash.0, &id_text, region, author, &bytes)?;
    log::save_document(conn, &id_text, "flag", region, None, &document.save())?;
    log::reproject(conn, id, &Record::Flag(flag))?;
    Ok(true)
}

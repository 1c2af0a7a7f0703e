//! The laptop's local store: records as Automerge documents in SQLite, with projection tables.
//!
//! SQLite runs in WAL mode with `synchronous=FULL`, so a write that returned has reached the
//! disk and survives a power cut; every operation is one transaction.

mod approvals;
mod documents;
mod inbox;
mod merge;
mod outbox;
mod pull;
mod quarantine;
mod queries;
mod records;
pub mod reports;
mod schema;
mod warnings;

pub use approvals::PendingDecision;
pub use inbox::Settled;
pub use merge::MergeReport;
pub use outbox::{Outgoing, RejectedEdit};
pub use quarantine::{HoldReason, QuarantinedChange, Retried};
pub use queries::{ConflictRow, ListFilter};

use std::path::{Path, PathBuf};
use std::time::Duration;

use automerge::ActorId;
use rusqlite::{Connection, ErrorCode, OptionalExtension, params};

use crate::error::ClientError;
use crate::home::{self, Device};

/// An open store.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    device: Device,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (creating if needed) the store in a home directory.
    pub fn open_home(home: &Path) -> Result<Store, ClientError> {
        std::fs::create_dir_all(home)?;
        Store::open(&home.join(home::DB_FILE))
    }

    /// Opens (creating if needed) the store at a database path, migrating it to the latest
    /// schema. A damaged file gives [`ClientError::CorruptStore`], never a panic.
    pub fn open(path: &Path) -> Result<Store, ClientError> {
        let corrupt = |e: rusqlite::Error| classify(path, e);
        let mut conn = Connection::open(path).map_err(corrupt)?;
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(corrupt)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(corrupt)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(corrupt)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(corrupt)?;
        let found = schema::migrate(&mut conn).map_err(corrupt)?;
        if found > schema::latest_version() {
            return Err(ClientError::NewerStore {
                path: path.display().to_string(),
                found,
                supported: schema::latest_version(),
            });
        }
        let device = load_or_create_device(&mut conn).map_err(corrupt)?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            device,
        })
    }

    /// This device's identity.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Sets who is using this device (before sync exists, the name is taken on trust).
    pub fn set_identity(
        &mut self,
        user: &str,
        device: &str,
        time_zone: chrono_tz::Tz,
    ) -> Result<(), ClientError> {
        let tx = self.conn.transaction()?;
        set_meta(&tx, "user", user)?;
        set_meta(&tx, "device", device)?;
        set_meta(&tx, "time_zone", time_zone.name())?;
        register_actor(&tx, &self.device.actor, user, device)?;
        tx.commit()?;
        self.device.user = user.to_string();
        self.device.name = device.to_string();
        self.device.time_zone = time_zone;
        Ok(())
    }

    /// Runs SQLite's full integrity check; `Ok(())` when the database is sound.
    pub fn integrity_check(&self) -> Result<(), ClientError> {
        let result: String = self
            .conn
            .query_row("PRAGMA integrity_check", [], |row| row.get(0))?;
        if result == "ok" {
            Ok(())
        } else {
            Err(ClientError::CorruptStore {
                path: self.path.display().to_string(),
                detail: result,
            })
        }
    }

    /// A metadata value.
    pub fn meta(&self, key: &str) -> Result<Option<String>, ClientError> {
        Ok(get_meta(&self.conn, key)?)
    }

    /// Sets a metadata value.
    pub fn set_meta(&mut self, key: &str, value: &str) -> Result<(), ClientError> {
        Ok(set_meta(&self.conn, key, value)?)
    }

    /// Records who an actor is (learned from the server or another laptop).
    pub fn remember_actor(
        &mut self,
        actor_hex: &str,
        user: &str,
        device: &str,
    ) -> Result<(), ClientError> {
        self.conn.execute(
            "INSERT INTO actors (actor, user_name, device) VALUES (?1, ?2, ?3)
             ON CONFLICT (actor) DO UPDATE SET user_name = excluded.user_name, device = excluded.device",
            params![actor_hex, user, device],
        )?;
        Ok(())
    }

    /// Who an actor is, as `user@device`, when known.
    pub fn actor_name(&self, actor_hex: &str) -> Result<Option<String>, ClientError> {
        Ok(self
            .conn
            .query_row(
                "SELECT user_name || '@' || device FROM actors WHERE actor = ?1",
                [actor_hex],
                |row| row.get(0),
            )
            .optional()?)
    }
}

/// Maps SQLite's "this is not a database" and "this database is damaged" to a clear error.
fn classify(path: &Path, error: rusqlite::Error) -> ClientError {
    match error.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => ClientError::CorruptStore {
            path: path.display().to_string(),
            detail: error.to_string(),
        },
        _ => ClientError::Sqlite(error),
    }
}

fn get_meta(conn: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| {
        row.get(0)
    })
    .optional()
}

pub(super) fn set_meta(conn: &Connection, key: &str, value: &str) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )
    .map(|_| ())
}

fn register_actor(
    conn: &Connection,
    actor: &ActorId,
    user: &str,
    device: &str,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO actors (actor, user_name, device) VALUES (?1, ?2, ?3)
         ON CONFLICT (actor) DO UPDATE SET user_name = excluded.user_name, device = excluded.device",
        params![actor.to_hex_string(), user, device],
    )
    .map(|_| ())
}

/// Reads this device's identity, creating it (a fresh actor id) on first use.
fn load_or_create_device(conn: &mut Connection) -> rusqlite::Result<Device> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let actor = match get_meta(&tx, "actor")? {
        Some(hex) => hex.parse().map_err(|_| {
            rusqlite::Error::InvalidColumnType(0, "meta.actor".into(), rusqlite::types::Type::Text)
        })?,
        None => {
            let actor = home::new_actor();
            set_meta(&tx, "actor", &actor.to_hex_string())?;
            actor
        }
    };
    let user = match get_meta(&tx, "user")? {
        Some(user) => user,
        None => {
            let user = home::default_user();
            set_meta(&tx, "user", &user)?;
            user
        }
    };
    let name = match get_meta(&tx, "device")? {
        Some(name) => name,
        None => {
            let name = home::default_device_name();
            set_meta(&tx, "device", &name)?;
            name
        }
    };
    let time_zone = get_meta(&tx, "time_zone")?
        .and_then(|tz| tz.parse().ok())
        .unwrap_or(chrono_tz::Asia::Shanghai);
    register_actor(&tx, &actor, &user, &name)?;
    tx.commit()?;
    Ok(Device {
        actor,
        user,
        name,
        time_zone,
    })
}

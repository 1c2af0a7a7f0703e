//! Storage: SQLite through rusqlite, behind a narrow interface.
//!
//! The rest of the server talks to storage only through [`Store`] (opening, running a closure
//! on a connection off the async threads) and the functions of [`accounts`] and [`log`], which
//! take a connection or transaction. A PostgreSQL implementation replaces these two modules'
//! SQL and [`Store`]'s connection handling; nothing above them names SQLite.
//!
//! One connection behind a mutex: SQLite serialises writers anyway, and holding the lock across
//! "load document, apply change, save, append to the log" makes each push atomic with respect to
//! other pushes to the same document. WAL mode, `synchronous=FULL`, schema versions in
//! `user_version` with forward-only migrations, and every multi-step write in one transaction.

pub mod accounts;
pub mod log;
pub mod owners;
pub mod pending;
pub mod realign;
mod schema;

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;

use crate::error::ServerError;

/// The server's database.
#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}

impl Store {
    /// Opens (creating if needed) and migrates the database at `path`.
    pub fn open(path: &Path) -> Result<Self, ServerError> {
        let mut conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        schema::migrate(&mut conn)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` on the connection in the calling thread (for blocking contexts).
    pub fn blocking<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, ServerError>,
    ) -> Result<T, ServerError> {
        // A panic while holding the lock leaves no half-written state behind: SQLite rolls back
        // an open transaction when it is dropped. So a poisoned lock is safe to take over.
        let mut guard = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }

    /// Runs `f` on the connection on a blocking thread.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, ServerError> + Send + 'static,
    ) -> Result<T, ServerError> {
        let store = self.clone();
        tokio::task::spawn_blocking(move || store.blocking(f)).await?
    }
}

/// Today's date (UTC), the day assignments are judged by.
pub(crate) fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

/// Now, as stored text.
pub(crate) fn now_text() -> String {
    chrono::Utc::now().to_rfc3339()
}

/// Brings an in-memory connection's schema up to date (for unit tests of modules above the
/// store).
#[cfg(test)]
pub(crate) fn migrate_for_tests(conn: &mut Connection) {
    schema::migrate(conn).expect("the schema migrates");
}

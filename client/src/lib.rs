//! The Fieldsync laptop app: the local store of Automerge documents in SQLite, and the
//! `fieldsync` command-line interface over it.
//!
//! Everything works offline. Every edit is one SQLite transaction that writes the document's new
//! change, its projection rows and (once sync exists) its outbox entry together, so a crash at
//! any point leaves either the whole edit or none of it.

pub mod cli;
pub mod error;
pub mod home;
pub mod store;
pub mod sync;

pub use error::ClientError;
pub use store::Store;

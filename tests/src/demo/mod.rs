//! The demo: a realistic organisation on a real server, salespeople working offline for a week
//! on real laptop stores, everyone syncing, and the consolidated picture head office sees.
//!
//! Run by `fieldsync-demo` (see the README); also run small in the end-to-end tests.

pub mod org;
pub mod print;
pub mod week;

pub use org::Org;
pub use week::{Outcome, run_week};

//! Pulling: the log after a cursor, filtered to what the user may read, up to a byte budget.
//!
//! The log is replayed from the cursor as the user would have seen it: a change is readable
//! when its document's territory *at that point* (stored on the change row) is in the user's
//! read scope. At a move marker, a document entering the scope arrives as its whole history
//! (every change before the marker, each carrying the marker's seq); one leaving it arrives as
//! a purge instruction. Because the answer depends only on the cursor, paging and retrying from
//! an old cursor are both safe.
//!
//! The user's own scope is replayed the same way: the pull starts from the territory they held
//! at the cursor (their last scope change at or before it), and at each of their scope-change
//! markers every document readable under the new scope but not the old arrives whole (at the
//! marker's seq), and every one readable under the old but not the new is purged. The laptop
//! defers a purge until its own pending edits to that document are acknowledged or refused.
//!
//! Left for later: a territory node moving to another parent is not replayed (readability is
//! judged by the tree as it is now), so a manager above the old or new parent gets neither the
//! purge nor the history; re-login with a fresh store is the workaround.

use std::collections::HashSet;

use rusqlite::Connection;
use shared::RecordId;
use shared::protocol::PullChange;

use crate::accounts::UserInfo;
use crate::error::ServerError;
use crate::store::log::{self, LogEntry};
use crate::store::realign;
use crate::territory::Tree;

/// What one pull returns.
#[derive(Debug, Default)]
pub struct Pulled {
    /// Changes, in log order.
    pub changes: Vec<PullChange>,
    /// Documents to drop.
    pub purge: Vec<RecordId>,
    /// The cursor after this page.
    pub next_cursor: u64,
    /// Whether readable entries remain.
    pub more: bool,
}

/// Pulls for `user` from `cursor`, at most `budget` change bytes (but at least one entry),
/// leaving out changes whose hashes are in `skip` (the caller's own, just acknowledged).
pub fn pull(
    conn: &Connection,
    tree: &Tree,
    user: &UserInfo,
    cursor: u64,
    budget: u64,
    skip: &HashSet<Vec<u8>>,
) -> Result<Pulled, ServerError> {
    let mut out = Pulled {
        next_cursor: cursor,
        ..Pulled::default()
    };
    let mut used: u64 = 0;
    let mut included_any = false;
    let mut viewer = user.clone();
    viewer.territory = realign::territory_at(conn, &user.name, cursor, &user.territory)?;
    for entry in log::entries_after(conn, cursor)? {
        match entry {
            LogEntry::Change {
                seq,
                doc_id,
                territory,
                hash,
                len,
            } => {
                if !tree.can_read(&viewer, &territory) || skip.contains(&hash) {
                    out.next_cursor = seq;
                    continue;
                }
                if included_any && used + len > budget {
                    out.more = true;
                    break;
                }
                let Some(id) = parse_id(&doc_id) else {
                    out.next_cursor = seq;
                    continue;
                };
                out.changes.push(PullChange {
                    seq,
                    doc_id: id,
                    bytes: log::change_bytes(conn, seq)?,
                });
                used += len;
                included_any = true;
                out.next_cursor = seq;
            }
            LogEntry::Move {
                seq,
                doc_id,
                from,
                to,
            } => {
                let (was, is) = (tree.can_read(&viewer, &from), tree.can_read(&viewer, &to));
                let Some(id) = parse_id(&doc_id) else {
                    out.next_cursor = seq;
                    continue;
                };
                if !was && is {
                    let history = log::history_before(conn, &doc_id, seq)?;
                    let size: u64 = history.iter().map(|(_, b)| b.len() as u64).sum();
                    if included_any && used + size > budget {
                        out.more = true;
                        break;
                    }
                    out.purge.retain(|p| *p != id);
                    out.changes
                        .extend(history.into_iter().map(|(_, bytes)| PullChange {
                            seq,
                            doc_id: id,
                            bytes,
                        }));
                    used += size;
                    included_any = true;
                } else if was && !is {
                    out.changes.retain(|c| c.doc_id != id);
                    if !out.purge.contains(&id) {
                        out.purge.push(id);
                    }
                }
                out.next_cursor = seq;
            }
            LogEntry::Scope { seq, user: who, .. } if who != user.name => {
                out.next_cursor = seq;
            }
            LogEntry::Scope { seq, from, to, .. } => {
                let mut before = viewer.clone();
                before.territory = from;
                let mut after = viewer.clone();
                after.territory = to;
                let mut arriving = Vec::new();
                let mut size = 0u64;
                let mut leaving = Vec::new();
                for (doc_id, territory) in realign::territories_before(conn, seq)? {
                    let (was, is) = (
                        tree.can_read(&before, &territory),
                        tree.can_read(&after, &territory),
                    );
                    let Some(id) = parse_id(&doc_id).filter(|_| was != is) else {
                        continue;
                    };
                    if is {
                        let history = log::history_before(conn, &doc_id, seq)?;
                        size += history.iter().map(|(_, b)| b.len() as u64).sum::<u64>();
                        arriving.extend(history.into_iter().map(|(_, bytes)| PullChange {
                            seq,
                            doc_id: id,
                            bytes,
                        }));
                    } else {
                        leaving.push(id);
                    }
                }
                // The whole new scope arrives in one page (a page may exceed the budget when it
                // holds nothing else), so that the cursor never stops half-way through a marker.
                if included_any && used + size > budget {
                    out.more = true;
                    break;
                }
                if !arriving.is_empty() {
                    out.purge
                        .retain(|p| !arriving.iter().any(|c| c.doc_id == *p));
                    out.changes.extend(arriving);
                    used += size;
                    included_any = true;
                }
                for id in leaving {
                    out.changes.retain(|c| c.doc_id != id);
                    if !out.purge.contains(&id) {
                        out.purge.push(id);
                    }
                }
                viewer = after;
                out.next_cursor = seq;
            }
        }
    }
    Ok(out)
}

fn parse_id(doc_id: &str) -> Option<RecordId> {
    doc_id.parse().ok()
}

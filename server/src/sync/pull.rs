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
//! A territory node moving to another parent is a marker too: the documents of its subtree
//! are judged against the tree with the node under its old parent and under its new one.
//! Entries before such a marker are judged by the tree as it is now (the tree's past shapes
//! are not kept), so a pull from an old cursor may send a document that a later marker purges,
//! or purge one it never sent; where it ends is always the scope of the current tree.

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
                let crossing = crossing(
                    conn,
                    seq,
                    |_| true,
                    |t| tree.can_read(&before, t),
                    |t| tree.can_read(&after, t),
                )?;
                if !crossing.settle(&mut out, &mut used, &mut included_any, budget) {
                    break;
                }
                viewer = after;
                out.next_cursor = seq;
            }
            LogEntry::TreeMove {
                seq, code, from, ..
            } => {
                // Only the moved subtree changes readers; judged against the tree as it was
                // (this node under its old parent) and as it is now.
                let old_tree = tree.with_parent(&code, from.as_deref());
                let crossing = crossing(
                    conn,
                    seq,
                    |t| tree.is_within(t, &code),
                    |t| old_tree.can_read(&viewer, t),
                    |t| tree.can_read(&viewer, t),
                )?;
                if !crossing.settle(&mut out, &mut used, &mut included_any, budget) {
                    break;
                }
                out.next_cursor = seq;
            }
        }
    }
    Ok(out)
}

/// The documents whose readability changes at a realignment marker.
struct Crossing {
    /// Whole histories of the documents entering the scope, at the marker's seq.
    arriving: Vec<PullChange>,
    /// Their size in bytes.
    size: u64,
    /// Documents leaving the scope.
    leaving: Vec<RecordId>,
}

/// Every document (among those `concerned`, by territory just before `seq`) readable before
/// the marker but not after, or after but not before.
fn crossing(
    conn: &Connection,
    seq: u64,
    concerned: impl Fn(&str) -> bool,
    was: impl Fn(&str) -> bool,
    is: impl Fn(&str) -> bool,
) -> Result<Crossing, ServerError> {
    let mut out = Crossing {
        arriving: Vec::new(),
        size: 0,
        leaving: Vec::new(),
    };
    for (doc_id, territory) in realign::territories_before(conn, seq)? {
        if !concerned(&territory) {
            continue;
        }
        let (was, is) = (was(&territory), is(&territory));
        let Some(id) = parse_id(&doc_id).filter(|_| was != is) else {
            continue;
        };
        if is {
            let history = log::history_before(conn, &doc_id, seq)?;
            out.size += history.iter().map(|(_, b)| b.len() as u64).sum::<u64>();
            out.arriving
                .extend(history.into_iter().map(|(_, bytes)| PullChange {
                    seq,
                    doc_id: id,
                    bytes,
                }));
        } else {
            out.leaving.push(id);
        }
    }
    Ok(out)
}

impl Crossing {
    /// Adds the crossing to the page; false (and `more` set) when it must wait for the next
    /// page. The whole crossing arrives in one page (a page may exceed the budget when it holds
    /// nothing else), so that the cursor never stops half-way through a marker.
    fn settle(
        self,
        out: &mut Pulled,
        used: &mut u64,
        included_any: &mut bool,
        budget: u64,
    ) -> bool {
        if *included_any && *used + self.size > budget {
            out.more = true;
            return false;
        }
        if !self.arriving.is_empty() {
            let arriving = self.arriving;
            out.purge
                .retain(|p| !arriving.iter().any(|c| c.doc_id == *p));
            out.changes.extend(arriving);
            *used += self.size;
            *included_any = true;
        }
        for id in self.leaving {
            out.changes.retain(|c| c.doc_id != id);
            if !out.purge.contains(&id) {
                out.purge.push(id);
            }
        }
        true
    }
}

fn parse_id(doc_id: &str) -> Option<RecordId> {
    doc_id.parse().ok()
}

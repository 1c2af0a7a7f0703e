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
//! A change of role is a scope change like a change of territory. A revoked device's scope
//! closes at its revocation marker: everything it could read is purged, and it reads nothing
//! after. A document also moves when its customer is reassigned (客户归属, rule 2): a salesperson
//! reads their own customers' documents, so a move between owners is a crossing like a move
//! between territories.
//!
//! A realignment marker may bring more than one page holds: its documents are taken in a fixed
//! order (see [`realign::territories_before`]) and the cursor can point inside the marker, at
//! a position in that order ([`Cursor`]), so a page stops at the budget like any other and the
//! next resumes where it stopped, nothing missing and nothing twice.
//!
//! A territory node moving to another parent is a marker too: the documents of its subtree
//! are judged against the tree with the node under its old parent and under its new one.
//! Entries before such a marker are judged by the tree as it is now (the tree's past shapes
//! are not kept), so a pull from an old cursor may send a document that a later marker purges,
//! or purge one it never sent; where it ends is always the scope of the current tree.

use std::collections::HashSet;

use rusqlite::Connection;
use shared::protocol::PullChange;
use shared::{RecordId, RecordKind};

use crate::accounts::UserInfo;
use crate::error::ServerError;
use crate::store::log::{self, LogEntry};
use crate::store::realign::{self, Filed};
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

/// A position in the log as the wire cursor encodes it: after log row `seq`, or inside the
/// marker at `seq` with its first `done` documents sent. The laptop keeps the cursor as an
/// opaque number; a plain seq (the top bit clear) is what every older cursor is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cursor {
    /// Everything up to and including `seq` was sent.
    After(u64),
    /// Everything before marker `seq`, and its first `done` documents, were sent.
    Inside {
        /// The marker.
        seq: u64,
        /// How many of its documents (in [`realign::territories_before`] order) were sent.
        done: u64,
    },
}

const INSIDE: u64 = 1 << 63;
const DONE_BITS: u32 = 24;
const DONE_MASK: u64 = (1 << DONE_BITS) - 1;

impl Cursor {
    /// Decodes a wire cursor.
    pub fn decode(cursor: u64) -> Self {
        if cursor & INSIDE == 0 {
            Cursor::After(cursor)
        } else {
            Cursor::Inside {
                seq: (cursor & !INSIDE) >> DONE_BITS,
                done: cursor & DONE_MASK,
            }
        }
    }

    /// Encodes a wire cursor. A marker with more documents than the position can count (16 M)
    /// stops counting there: the rest go in one page.
    pub fn encode(self) -> u64 {
        match self {
            Cursor::After(seq) => seq,
            Cursor::Inside { seq, done } => INSIDE | (seq << DONE_BITS) | done.min(DONE_MASK),
        }
    }

    /// The last log row wholly sent.
    pub fn settled(self) -> u64 {
        match self {
            Cursor::After(seq) => seq,
            Cursor::Inside { seq, .. } => seq.saturating_sub(1),
        }
    }
}

/// Who reads: the user as they were at a point of the log, or nobody (a revoked device).
#[derive(Debug, Clone)]
enum Viewer {
    Open(UserInfo),
    Closed,
}

impl Viewer {
    fn reads(
        &self,
        tree: &Tree,
        kind: Option<RecordKind>,
        territory: &str,
        owner: Option<&str>,
    ) -> bool {
        match self {
            Viewer::Open(user) => tree.can_read_doc(user, kind, territory, owner),
            Viewer::Closed => false,
        }
    }
}

/// The page being built.
struct Page {
    out: Pulled,
    used: u64,
    included_any: bool,
    budget: u64,
}

impl Page {
    /// Whether `size` more bytes fit (a page always takes its first entry).
    fn fits(&self, size: u64) -> bool {
        !self.included_any || self.used + size <= self.budget
    }

    fn arrive(&mut self, id: RecordId, seq: u64, history: Vec<log::HashAndBytes>) {
        self.used += history.iter().map(|(_, b)| b.len() as u64).sum::<u64>();
        self.included_any = true;
        self.out.purge.retain(|p| *p != id);
        self.out
            .changes
            .extend(history.into_iter().map(|(_, bytes)| PullChange {
                seq,
                doc_id: id,
                bytes,
            }));
    }

    fn leave(&mut self, id: RecordId) {
        self.out.changes.retain(|c| c.doc_id != id);
        if !self.out.purge.contains(&id) {
            self.out.purge.push(id);
        }
    }
}

/// Pulls for `user` on device `actor` from `cursor`, at most `budget` change bytes (but at
/// least one entry), leaving out changes whose hashes are in `skip` (the caller's own, just
/// acknowledged).
pub fn pull(
    conn: &Connection,
    tree: &Tree,
    user: &UserInfo,
    actor: &str,
    cursor: u64,
    budget: u64,
    skip: &HashSet<Vec<u8>>,
) -> Result<Pulled, ServerError> {
    let cursor = Cursor::decode(cursor);
    let mut page = Page {
        out: Pulled {
            next_cursor: cursor.encode(),
            ..Pulled::default()
        },
        used: 0,
        included_any: false,
        budget,
    };
    let settled = cursor.settled();
    let mut viewer = match realign::revoked_at(conn, actor)? {
        Some(revoked) if revoked <= settled => Viewer::Closed,
        _ => Viewer::Open(realign::scope_at(conn, settled, user)?),
    };
    for entry in log::entries_after(conn, settled)? {
        let seq = entry_seq(&entry);
        let resume = match cursor {
            Cursor::Inside { seq: at, done } if at == seq => done,
            _ => 0,
        };
        let finished = match entry {
            LogEntry::Change {
                seq,
                doc_id,
                territory,
                owner,
                kind,
                hash,
                len,
            } => {
                if !viewer.reads(tree, kind, &territory, owner.as_deref()) || skip.contains(&hash) {
                    true
                } else if !page.fits(len) {
                    false
                } else {
                    if let Some(id) = parse_id(&doc_id) {
                        page.out.changes.push(PullChange {
                            seq,
                            doc_id: id,
                            bytes: log::change_bytes(conn, seq)?,
                        });
                        page.used += len;
                        page.included_any = true;
                    }
                    true
                }
            }
            LogEntry::Move {
                seq,
                doc_id,
                from,
                to,
                from_owner,
                to_owner,
                kind,
            } => {
                let was = viewer.reads(tree, kind, &from, from_owner.as_deref());
                let is = viewer.reads(tree, kind, &to, to_owner.as_deref());
                match parse_id(&doc_id) {
                    Some(id) if !was && is => {
                        let history = log::history_before(conn, &doc_id, seq)?;
                        let size = history.iter().map(|(_, b)| b.len() as u64).sum();
                        if page.fits(size) {
                            page.arrive(id, seq, history);
                            true
                        } else {
                            false
                        }
                    }
                    Some(id) if was && !is => {
                        page.leave(id);
                        true
                    }
                    _ => true,
                }
            }
            LogEntry::Scope {
                seq,
                user: who,
                to,
                to_role,
                actor: device,
                ..
            } => {
                let after = match (&device, &viewer) {
                    _ if who != user.name => None,
                    (Some(device), _) if device != actor => None,
                    (Some(_), _) => Some(Viewer::Closed),
                    (None, Viewer::Closed) => None,
                    (None, Viewer::Open(before)) => {
                        let mut after = before.clone();
                        after.territory = to;
                        if let Some(role) = to_role.and_then(|r| r.parse().ok()) {
                            after.role = role;
                        }
                        Some(Viewer::Open(after))
                    }
                };
                match after {
                    None => true,
                    Some(after) => {
                        let done = crossing(conn, &mut page, seq, resume, |filed| {
                            let (kind, owner) = (filed.kind, filed.owner.as_deref());
                            let was = viewer.reads(tree, kind, &filed.territory, owner);
                            (was, after.reads(tree, kind, &filed.territory, owner))
                        })?;
                        if done {
                            viewer = after;
                        }
                        done
                    }
                }
            }
            LogEntry::TreeMove {
                seq, code, from, ..
            } => {
                // Only the moved subtree changes readers; judged against the tree as it was
                // (this node under its old parent) and as it is now.
                let old_tree = tree.with_parent(&code, from.as_deref());
                crossing(conn, &mut page, seq, resume, |filed| {
                    if !tree.is_within(&filed.territory, &code) {
                        return (false, false);
                    }
                    let (kind, owner) = (filed.kind, filed.owner.as_deref());
                    let was = viewer.reads(&old_tree, kind, &filed.territory, owner);
                    (was, viewer.reads(tree, kind, &filed.territory, owner))
                })?
            }
        };
        if !finished {
            page.out.more = true;
            break;
        }
        page.out.next_cursor = Cursor::After(seq).encode();
    }
    Ok(page.out)
}

fn entry_seq(entry: &LogEntry) -> u64 {
    match entry {
        LogEntry::Change { seq, .. }
        | LogEntry::Move { seq, .. }
        | LogEntry::Scope { seq, .. }
        | LogEntry::TreeMove { seq, .. } => *seq,
    }
}

/// Settles the documents whose readability changes at the realignment marker `seq`, starting
/// at position `resume` of [`realign::territories_before`]: `judge` says whether each was and is
/// readable. Those entering arrive whole (at the marker's seq), those leaving are purged. Stops
/// when the page is full, with the cursor inside the marker at the first document not sent;
/// returns whether the marker is finished.
fn crossing(
    conn: &Connection,
    page: &mut Page,
    seq: u64,
    resume: u64,
    judge: impl Fn(&Filed) -> (bool, bool),
) -> Result<bool, ServerError> {
    let filed = realign::territories_before(conn, seq)?;
    for (position, doc) in filed.iter().enumerate().skip(resume as usize) {
        let (was, is) = judge(doc);
        let Some(id) = parse_id(&doc.doc_id).filter(|_| was != is) else {
            continue;
        };
        if !is {
            page.leave(id);
            continue;
        }
        let history = log::history_before(conn, &doc.doc_id, seq)?;
        let size = history.iter().map(|(_, b)| b.len() as u64).sum();
        // A position past what the cursor can count cannot be resumed from: take the rest.
        if !page.fits(size) && (position as u64) < DONE_MASK {
            page.out.next_cursor = Cursor::Inside {
                seq,
                done: position as u64,
            }
            .encode();
            return Ok(false);
        }
        page.arrive(id, seq, history);
    }
    Ok(true)
}

fn parse_id(doc_id: &str) -> Option<RecordId> {
    doc_id.parse().ok()
}

//! Flags (预警): business conflicts found by the rules, kept as synced records so that the people
//! involved see and handle them on their laptops, offline too.
//!
//! The server creates and updates a flag's *content* (what was found); people change only its
//! *handling* ([`Flag::status`], [`Flag::handled_by`], [`Flag::handled_at`], [`Flag::note`]).
//! One finding is one flag document ([`Flag::id_of_finding`]), however many regions it involves:
//! the server files it under every region in [`Flag::regions`], so each region's people receive
//! the same document, and handling it once handles it for everyone.
//!
//! Older servers wrote one copy per region ([`Flag::id_for`]); the server's re-check replaces
//! such copies with the single flag and voids them.

use autosurgeon::{Hydrate, Reconcile};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Voided;
use crate::RecordId;
use crate::rules::{Finding, FindingKind, Severity};
use crate::validate::Validation;
use crate::word_enum;

word_enum! {
    /// Where a flag stands.
    pub enum FlagStatus {
        /// Raised, nobody has looked yet.
        Open = ("open", "Open", "待处理"),
        /// Someone has seen it and is on it.
        Acknowledged = ("acknowledged", "Acknowledged", "已确认"),
        /// Handled; detecting the same situation again does not re-open it.
        Resolved = ("resolved", "Resolved", "已解决"),
    }
}

/// The namespace of flag ids (UUIDv5 over `finding:key`, and over `len:key|region` for the
/// per-region copies older servers wrote). Fixed forever: changing it would give every existing
/// situation a second flag.
const FLAG_NAMESPACE: Uuid = Uuid::from_u128(0x6f1e_2d4c_8a3b_4e57_9c0d_1b2a_3f4e_5d6c);

/// A business-conflict flag.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Flag {
    /// What kind of conflict (the flag's type).
    pub kind: FindingKind,
    /// How urgent.
    pub severity: Severity,
    /// The finding's stable key: one situation, one key however often it is detected.
    pub key: String,
    /// The first region involved (older flags: the region this copy was for); every region is
    /// in [`Flag::regions`].
    pub region: String,
    /// The records involved, the subject first.
    pub records: Vec<RecordId>,
    /// The people involved (user names).
    pub people: Vec<String>,
    /// Every region involved: the flag is visible in each of them. A region stays listed once
    /// involved, so a flag does not leave a region when a salesperson or an office moves.
    pub regions: Vec<String>,
    /// What happened, in English.
    pub message_en: String,
    /// What happened, in Chinese.
    pub message_zh: String,
    /// The rule's evidence as JSON ([`crate::rules::Detail`]); text, so a newer rule's detail
    /// never makes an older laptop fail to read the flag.
    pub detail: String,
    /// When the server first detected the situation.
    #[autosurgeon(with = "crate::codec::instant")]
    pub detected_at: DateTime<Utc>,
    /// When the situation arose: the time of the latest record involved, the one whose arrival
    /// made it. Reports count the flag in this period. Absent in older flags (then
    /// `detected_at` counts).
    #[serde(default)]
    #[autosurgeon(with = "crate::codec::opt_instant")]
    pub occurred_at: Option<DateTime<Utc>>,
    /// When the server last found the situation gone (and closed the flag); `None` while it
    /// holds. Finding it again re-opens the flag.
    #[serde(default)]
    #[autosurgeon(with = "crate::codec::opt_instant")]
    pub cleared_at: Option<DateTime<Utc>>,
    /// Handling status, set by people.
    pub status: FlagStatus,
    /// Who last acknowledged or resolved it (user name), as the server authenticated them;
    /// `system` when the server closed or re-opened it.
    pub handled_by: Option<String>,
    /// When it was last handled.
    #[autosurgeon(with = "crate::codec::opt_instant")]
    pub handled_at: Option<DateTime<Utc>>,
    /// The handler's note (e.g. the manager's ruling on a 撞单 dispute).
    pub note: Option<String>,
    /// Set when the flag is voided.
    pub voided: Option<Voided>,
}

impl Flag {
    /// The deterministic id of the flag for `key` in `region`, so that detecting the same
    /// situation again, on any server run, finds the same document instead of making a new one.
    /// The key is length-prefixed so that no key and region pair can forge another's name.
    pub fn id_for(key: &str, region: &str) -> RecordId {
        let name = format!("{}:{key}|{region}", key.len());
        RecordId::from(Uuid::new_v5(&FLAG_NAMESPACE, name.as_bytes()))
    }

    /// The deterministic id of the one flag of the finding with `key`, whichever regions it
    /// involves. Its name cannot be a per-region name ([`Flag::id_for`]), which starts with a
    /// digit.
    pub fn id_of_finding(key: &str) -> RecordId {
        let name = format!("finding:{key}");
        RecordId::from(Uuid::new_v5(&FLAG_NAMESPACE, name.as_bytes()))
    }

    /// A new, open flag for `finding`, first detected `now`; `region` is its first region.
    pub fn from_finding(finding: &Finding, region: &str, now: DateTime<Utc>) -> Self {
        let mut flag = Self {
            kind: finding.kind,
            severity: finding.severity,
            key: finding.key.clone(),
            region: region.to_string(),
            records: Vec::new(),
            people: Vec::new(),
            regions: Vec::new(),
            message_en: String::new(),
            message_zh: String::new(),
            detail: String::new(),
            detected_at: now,
            occurred_at: None,
            cleared_at: None,
            status: FlagStatus::Open,
            handled_by: None,
            handled_at: None,
            note: None,
            voided: None,
        };
        flag.set_content(finding);
        flag
    }

    /// Copies a finding's content (not its handling) into the flag. Returns whether anything
    /// changed, so callers commit only real changes.
    pub fn set_content(&mut self, finding: &Finding) -> bool {
        let before = self.clone();
        self.kind = finding.kind;
        self.severity = finding.severity;
        self.key = finding.key.clone();
        self.records = finding.records.clone();
        self.people = finding.people.clone();
        // Regions are only added: a region once involved keeps seeing the flag.
        let mut regions = self.regions.clone();
        regions.extend(finding.regions.iter().cloned());
        regions.sort();
        regions.dedup();
        self.regions = regions;
        self.message_en = finding.message.en.clone();
        self.message_zh = finding.message.zh_cn.clone();
        self.detail = serde_json::to_string(&finding.detail).unwrap_or_default();
        *self != before
    }

    /// The flag with its handling fields (status, handled by/at, note) taken from `other`: what
    /// a person's edit is compared against, since only those fields are theirs to change.
    pub fn with_handling_of(&self, other: &Flag) -> Flag {
        Flag {
            status: other.status,
            handled_by: other.handled_by.clone(),
            handled_at: other.handled_at,
            note: other.note.clone(),
            ..self.clone()
        }
    }

    /// Checks the rules every flag must satisfy.
    pub fn validate(&self) -> Result<(), Validation> {
        let mut v = Validation::default();
        v.require("key", &self.key);
        v.require("region", &self.region);
        v.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_deterministic_per_key_and_region() {
        assert_eq!(Flag::id_for("k", "EAST"), Flag::id_for("k", "EAST"));
        assert_ne!(Flag::id_for("k", "EAST"), Flag::id_for("k", "NORTH"));
        assert_ne!(Flag::id_for("k|a", "b"), Flag::id_for("k", "a|b"));
        assert_eq!(Flag::id_of_finding("k"), Flag::id_of_finding("k"));
        assert_ne!(Flag::id_of_finding("k"), Flag::id_of_finding("k2"));
        assert_ne!(Flag::id_of_finding("1:k|a"), Flag::id_for("k", "a"));
    }
}

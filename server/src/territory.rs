//! The territory tree (company → large region → region → salesperson) and scope checks.
//!
//! A user is assigned to one node; they read and write within that node's subtree (a
//! salesperson is assigned to their region's node). Head office and admins read everything;
//! head office writes only customers' credit terms and dealers (master data), finance only
//! financial fields of customers and orders in its subtree, admins products (which belong to
//! the whole company, [`GLOBAL`], and are readable by everyone) and dealers' authorised
//! regions. Which fields exactly is `shared::permissions`' table.

use std::collections::HashMap;

use shared::RecordKind;

use crate::accounts::{Role, UserInfo};
use crate::store::accounts::TerritoryRow;

/// The territory of company-wide documents (products): readable by all.
pub const GLOBAL: &str = "*";

/// Joins territory codes into the territory of a document filed under several (a flag involving
/// several regions): sorted, without repeats, separated by a space, which no territory code
/// contains (`admin` refuses whitespace in codes).
pub fn territory_set<S: AsRef<str>>(codes: impl IntoIterator<Item = S>) -> String {
    let mut codes: Vec<String> = codes.into_iter().map(|c| c.as_ref().to_string()).collect();
    codes.sort();
    codes.dedup();
    codes.join(" ")
}

/// The codes of a document's territory: one, or several for a territory set.
pub fn members(territory: &str) -> impl Iterator<Item = &str> {
    territory.split(' ').filter(|c| !c.is_empty())
}

/// The tree, as child → parent.
#[derive(Debug, Clone, Default)]
pub struct Tree {
    parent: HashMap<String, Option<String>>,
}

impl Tree {
    /// Builds the tree from stored rows.
    pub fn new(rows: impl IntoIterator<Item = TerritoryRow>) -> Self {
        Self {
            parent: rows.into_iter().map(|r| (r.code, r.parent)).collect(),
        }
    }

    /// This tree with `code` under `parent` instead (the tree as it was before a node moved).
    pub fn with_parent(&self, code: &str, parent: Option<&str>) -> Self {
        let mut parents = self.parent.clone();
        parents.insert(code.to_string(), parent.map(str::to_string));
        Self { parent: parents }
    }

    /// Whether a territory code exists.
    pub fn exists(&self, code: &str) -> bool {
        self.parent.contains_key(code)
    }

    /// Whether `code` is `ancestor` or lies below it. A territory set ([`territory_set`]) is
    /// within when any of its codes is: a flag is in scope if any of its territories is.
    pub fn is_within(&self, code: &str, ancestor: &str) -> bool {
        if code.contains(' ') {
            return members(code).any(|member| self.is_within(member, ancestor));
        }
        let mut current = Some(code.to_string());
        // The walk is bounded by the number of nodes so that a cycle cannot hang us.
        for _ in 0..=self.parent.len() {
            match current {
                Some(ref c) if c == ancestor => return true,
                Some(c) => current = self.parent.get(&c).cloned().flatten(),
                None => return false,
            }
        }
        false
    }

    /// Every territory code at or below `ancestor` (a manager's reach, for approvals).
    pub fn codes_within(&self, ancestor: &str) -> std::collections::BTreeSet<String> {
        self.parent
            .keys()
            .filter(|code| self.is_within(code, ancestor))
            .cloned()
            .collect()
    }

    /// Whether adding `code` under `parent` would make a cycle.
    pub fn would_cycle(&self, code: &str, parent: &str) -> bool {
        self.is_within(parent, code)
    }

    /// Whether `user` may read documents of `territory`.
    pub fn can_read(&self, user: &UserInfo, territory: &str) -> bool {
        territory == GLOBAL || user.role.reads_all() || self.is_within(territory, &user.territory)
    }

    /// Whether `user` may write a record of `kind` in `territory`. Anyone who reads a flag may
    /// push to it, head office included; who may handle it and which fields are checked
    /// separately (`flags::guard`: managers of its regions and head office).
    pub fn can_write(&self, user: &UserInfo, kind: RecordKind, territory: &str) -> bool {
        if kind == RecordKind::Flag {
            return territory != GLOBAL && self.can_read(user, territory);
        }
        // Which fields each role may change is the field-permission table's business
        // (`shared::permissions`); here only which kinds and territories.
        match user.role {
            Role::Admin => matches!(kind, RecordKind::Product | RecordKind::Dealer),
            Role::HeadOffice => {
                matches!(kind, RecordKind::Customer | RecordKind::Dealer) && territory != GLOBAL
            }
            Role::Finance => {
                matches!(kind, RecordKind::Customer | RecordKind::Order)
                    && territory != GLOBAL
                    && self.is_within(territory, &user.territory)
            }
            Role::Salesperson | Role::RegionManager | Role::LargeRegionManager => {
                kind != RecordKind::Product
                    && territory != GLOBAL
                    && self.is_within(territory, &user.territory)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(code: &str, parent: Option<&str>) -> TerritoryRow {
        TerritoryRow {
            code: code.into(),
            name: code.into(),
            parent: parent.map(Into::into),
        }
    }

    #[test]
    fn scopes_follow_the_tree() {
        let tree = Tree::new([
            row("CN", None),
            row("EAST", Some("CN")),
            row("EAST-SH", Some("EAST")),
            row("NORTH", Some("CN")),
        ]);
        let user = |role, territory: &str| UserInfo {
            name: "u".into(),
            role,
            territory: territory.into(),
        };
        let sales = user(Role::Salesperson, "EAST-SH");
        let large = user(Role::LargeRegionManager, "EAST");
        let head = user(Role::HeadOffice, "CN");
        assert!(tree.can_write(&sales, RecordKind::Customer, "EAST-SH"));
        assert!(!tree.can_write(&sales, RecordKind::Customer, "EAST"));
        assert!(tree.can_write(&large, RecordKind::Customer, "EAST-SH"));
        assert!(!tree.can_read(&large, "NORTH"));
        assert!(tree.can_read(&large, GLOBAL));
        assert!(tree.can_read(&head, "NORTH"));
        assert!(tree.can_write(&head, RecordKind::Customer, "NORTH"));
        assert!(!tree.can_write(&head, RecordKind::Visit, "NORTH"));
        let finance = user(Role::Finance, "EAST");
        assert!(tree.can_write(&finance, RecordKind::Order, "EAST-SH"));
        assert!(!tree.can_write(&finance, RecordKind::Order, "NORTH"));
        assert!(!tree.can_write(&finance, RecordKind::Visit, "EAST-SH"));
        assert!(tree.would_cycle("EAST", "EAST-SH"));
        assert!(!tree.is_within("UNKNOWN", "CN"));
        // A flag filed under two regions is read in both and by their managers, not elsewhere.
        let both = territory_set(["NORTH", "EAST-SH"]);
        assert_eq!(both, "EAST-SH NORTH");
        assert!(tree.can_read(&sales, &both) && tree.can_read(&large, &both));
        assert!(!tree.can_read(&user(Role::Salesperson, "EAST-HZ"), &both));
    }
}

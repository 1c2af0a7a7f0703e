//! The territory tree (company → large region → region → salesperson) and scope checks.
//!
//! A user is assigned to one node; managers read and write within that node's subtree. A
//! salesperson is assigned to their region's node but works only their own leaf of it (rule 2):
//! the customers assigned to them (the document's owner, 客户归属), those customers' visits,
//! quotations and orders, and the flags involving them; the region's dealers they read but do
//! not write. Head office and admins read everything; head office writes only customers'
//! credit terms and dealers (master data), finance only financial fields of customers and
//! orders in its subtree, admins products (which belong to the whole company, [`GLOBAL`], and
//! are readable by everyone) and dealers' authorised regions. Which fields exactly is
//! `shared::permissions`' table.

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

    /// Whether `territory` lies within `user`'s reach (their node's subtree, or everything
    /// for head office and admins). Which documents there they may read is [`Tree::can_read_doc`].
    pub fn can_read(&self, user: &UserInfo, territory: &str) -> bool {
        territory == GLOBAL || user.role.reads_all() || self.is_within(territory, &user.territory)
    }

    /// Whether `user` may read a document of `kind` filed in `territory` and owned by `owner`
    /// (a salesperson's name, or a space-separated set of them for a flag). A salesperson reads
    /// their own customers' documents, the flags involving them (and flags with no owner, the
    /// office's), and the dealers of their territory.
    pub fn can_read_doc(
        &self,
        user: &UserInfo,
        kind: Option<RecordKind>,
        territory: &str,
        owner: Option<&str>,
    ) -> bool {
        if !self.can_read(user, territory) {
            return false;
        }
        if territory == GLOBAL || user.role != Role::Salesperson {
            return true;
        }
        match kind {
            Some(RecordKind::Dealer) => true,
            Some(RecordKind::Flag) => owner.is_none_or(|o| owns(o, &user.name)),
            // A kind not known (yet) is judged by its owner alone.
            Some(_) | None => owner.is_some_and(|o| owns(o, &user.name)),
        }
    }

    /// Whether `user` may write a record of `kind` in `territory`, owned by `owner`. Anyone who
    /// reads a flag may push to it, head office included; who may handle it and which fields
    /// are checked separately (`flags::guard`: managers of its regions and head office). A
    /// salesperson writes only their own customers and those customers' records; dealers are
    /// read-only to them.
    pub fn can_write(
        &self,
        user: &UserInfo,
        kind: RecordKind,
        territory: &str,
        owner: Option<&str>,
    ) -> bool {
        if kind == RecordKind::Flag {
            return territory != GLOBAL && self.can_read_doc(user, Some(kind), territory, owner);
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
            Role::Salesperson => {
                !matches!(kind, RecordKind::Product | RecordKind::Dealer)
                    && territory != GLOBAL
                    && self.is_within(territory, &user.territory)
                    && owner.is_some_and(|o| owns(o, &user.name))
            }
            Role::RegionManager | Role::LargeRegionManager => {
                kind != RecordKind::Product
                    && territory != GLOBAL
                    && self.is_within(territory, &user.territory)
            }
        }
    }
}

/// Whether an owner (one name, or a space-separated set of them) includes `name`.
pub fn owns(owner: &str, name: &str) -> bool {
    owner.split(' ').any(|o| o == name)
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
        let mine = Some("u");
        assert!(tree.can_write(&sales, RecordKind::Customer, "EAST-SH", mine));
        assert!(!tree.can_write(&sales, RecordKind::Customer, "EAST", mine));
        assert!(tree.can_write(&large, RecordKind::Customer, "EAST-SH", Some("other")));
        assert!(!tree.can_read(&large, "NORTH"));
        assert!(tree.can_read(&large, GLOBAL));
        assert!(tree.can_read(&head, "NORTH"));
        assert!(tree.can_write(&head, RecordKind::Customer, "NORTH", None));
        assert!(!tree.can_write(&head, RecordKind::Visit, "NORTH", None));
        let finance = user(Role::Finance, "EAST");
        assert!(tree.can_write(&finance, RecordKind::Order, "EAST-SH", None));
        assert!(!tree.can_write(&finance, RecordKind::Order, "NORTH", None));
        assert!(!tree.can_write(&finance, RecordKind::Visit, "EAST-SH", None));
        assert!(tree.would_cycle("EAST", "EAST-SH"));
        assert!(!tree.is_within("UNKNOWN", "CN"));
        // A flag filed under two regions is read in both and by their managers, not elsewhere.
        let both = territory_set(["NORTH", "EAST-SH"]);
        assert_eq!(both, "EAST-SH NORTH");
        assert!(tree.can_read(&sales, &both) && tree.can_read(&large, &both));
        assert!(!tree.can_read(&user(Role::Salesperson, "EAST-HZ"), &both));
    }

    #[test]
    fn a_salesperson_works_their_own_customers_and_reads_the_offices_dealers() {
        let tree = Tree::new([row("CN", None), row("EAST-SH", Some("CN"))]);
        let sales = UserInfo {
            name: "sh1".into(),
            role: Role::Salesperson,
            territory: "EAST-SH".into(),
        };
        let read = |kind, owner| tree.can_read_doc(&sales, Some(kind), "EAST-SH", owner);
        let write = |kind, owner| tree.can_write(&sales, kind, "EAST-SH", owner);
        for kind in [
            RecordKind::Customer,
            RecordKind::Visit,
            RecordKind::Quotation,
            RecordKind::Order,
        ] {
            assert!(
                read(kind, Some("sh1")) && write(kind, Some("sh1")),
                "{kind:?}"
            );
            assert!(
                !read(kind, Some("sh2")) && !write(kind, Some("sh2")),
                "{kind:?}"
            );
            assert!(!read(kind, None) && !write(kind, None), "{kind:?}");
        }
        assert!(read(RecordKind::Dealer, None) && !write(RecordKind::Dealer, None));
        assert!(read(RecordKind::Flag, Some("sh2 sh1")) && write(RecordKind::Flag, Some("sh1")));
        assert!(!read(RecordKind::Flag, Some("sh2")));
        assert!(tree.can_read_doc(&sales, Some(RecordKind::Product), GLOBAL, None));
    }
}

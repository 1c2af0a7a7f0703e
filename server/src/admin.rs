//! Organisation management: territories, users, and importing a whole organisation.
//!
//! # Import format (TOML)
//!
//! ```toml
//! [[territory]]
//! code = "CN"
//! name = "公司总部"          # the root: no parent
//!
//! [[territory]]
//! code = "EAST"
//! name = "华东大区"
//! parent = "CN"
//!
//! [[territory]]
//! code = "EAST-SH"
//! name = "上海办事处"
//! parent = "EAST"
//!
//! [[user]]
//! name = "zhang.wei"
//! role = "salesperson"       # salesperson | region_manager | large_region_manager | head_office | finance | admin
//! territory = "EAST-SH"      # a salesperson is attached to their region's node
//! password = "..."           # optional: kept for existing users, generated for new ones
//! grade = "regular"          # optional: probation | regular | supervisor (default regular)
//! ```
//!
//! Territories may appear in any order; the whole import is one transaction. Customers' and
//! dealers' territories come from their records' `region` fields, so none are listed here.

mod clock;
mod merge;
mod scope;

pub use merge::MergeSummary;

use chrono::NaiveDate;
use rand::RngCore;
use serde::Deserialize;

use shared::rules::authority::StaffGrade;

use crate::accounts::{self, Role, UserInfo};
use crate::error::ServerError;
use crate::store::accounts::{self as db, TerritoryRow};
use crate::store::realign::{self, Assignment};
use crate::store::{Store, today};
use crate::territory::{GLOBAL, Tree};

/// Admin operations on a store.
#[derive(Debug)]
pub struct Admin<'a> {
    store: &'a Store,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// Territories created or updated.
    pub territories: usize,
    /// Users created or updated.
    pub users: usize,
    /// Passwords generated for new users given none: `(user, password)`, shown once.
    pub generated_passwords: Vec<(String, String)>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OrgFile {
    #[serde(default)]
    territory: Vec<TerritoryEntry>,
    #[serde(default)]
    user: Vec<UserEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TerritoryEntry {
    code: String,
    name: String,
    parent: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserEntry {
    name: String,
    role: String,
    territory: String,
    password: Option<String>,
    grade: Option<String>,
}

fn check_code(code: &str) -> Result<(), ServerError> {
    if code.is_empty()
        || code == GLOBAL
        || code.len() > 64
        || code.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(ServerError::malformed(format!(
            "territory code {code:?} must be 1 to 64 characters without spaces"
        )));
    }
    Ok(())
}

fn check_user_name(name: &str) -> Result<(), ServerError> {
    if name == crate::flags::SYSTEM_USER {
        return Err(ServerError::malformed(format!(
            "user name {name:?} is reserved for the server's own changes"
        )));
    }
    if name.is_empty() || name.len() > 100 || name.chars().any(char::is_control) {
        return Err(ServerError::malformed(format!(
            "user name {name:?} is not usable"
        )));
    }
    Ok(())
}

fn generated_password() -> String {
    let mut bytes = [0u8; 12];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

impl<'a> Admin<'a> {
    /// Admin operations on `store`.
    pub fn new(store: &'a Store) -> Self {
        Self { store }
    }

    /// Every territory.
    pub fn territories(&self) -> Result<Vec<TerritoryRow>, ServerError> {
        self.store.blocking(|c| db::territories(c))
    }

    /// Creates (or renames) a territory. Only one root may exist. Giving an existing territory
    /// another parent is refused: that is a realignment, logged by [`Admin::move_territory`].
    pub fn add_territory(
        &self,
        code: &str,
        name: &str,
        parent: Option<&str>,
    ) -> Result<(), ServerError> {
        check_code(code)?;
        self.store.blocking(|c| {
            let rows = db::territories(c)?;
            let tree = Tree::new(rows.clone());
            match parent {
                Some(parent) if !tree.exists(parent) => {
                    return Err(ServerError::NotFound(format!("no territory {parent:?}")));
                }
                Some(parent) if tree.exists(code) && tree.would_cycle(code, parent) => {
                    return Err(ServerError::malformed("that parent would make a cycle"));
                }
                _ if rows
                    .iter()
                    .any(|r| r.code == code && r.parent.as_deref() != parent) =>
                {
                    return Err(ServerError::Conflict(format!(
                        "territory {code} already exists under another parent; move it with \
                         `territory move {code} --parent CODE` so that laptops follow"
                    )));
                }
                None if rows.iter().any(|r| r.parent.is_none() && r.code != code) => {
                    return Err(ServerError::malformed(
                        "a root territory already exists; give a parent",
                    ));
                }
                _ => {}
            }
            db::upsert_territory(c, code, name, parent)
        })
    }

    /// Moves territory node `code` (and everything under it) to `parent`, with a marker in the
    /// log so that readers above the old parent lose its documents and readers above the new
    /// one receive them whole on their next sync. The root cannot move; a cycle is refused.
    pub fn move_territory(&self, code: &str, parent: &str) -> Result<(), ServerError> {
        self.store.blocking(|c| {
            let tx = c.transaction()?;
            let rows = db::territories(&tx)?;
            let tree = Tree::new(rows.clone());
            let Some(row) = rows.iter().find(|r| r.code == code) else {
                return Err(ServerError::NotFound(format!("no territory {code:?}")));
            };
            if !tree.exists(parent) {
                return Err(ServerError::NotFound(format!("no territory {parent:?}")));
            }
            if row.parent.is_none() {
                return Err(ServerError::malformed("the root territory cannot move"));
            }
            if tree.would_cycle(code, parent) {
                return Err(ServerError::malformed("that parent would make a cycle"));
            }
            if row.parent.as_deref() != Some(parent) {
                realign::append_tree_move(&tx, code, row.parent.as_deref(), parent)?;
            }
            tx.commit()?;
            Ok(())
        })
    }

    /// Creates or updates a user.
    pub fn add_user(
        &self,
        name: &str,
        password: &str,
        role: Role,
        territory: &str,
    ) -> Result<(), ServerError> {
        check_user_name(name)?;
        if password.is_empty() {
            return Err(ServerError::malformed("the password must not be empty"));
        }
        let hash = accounts::hash_password(password)?;
        self.store.blocking(|c| {
            if !Tree::new(db::territories(c)?).exists(territory) {
                return Err(ServerError::NotFound(format!("no territory {territory:?}")));
            }
            db::upsert_user(c, name, &hash, role, territory)
        })
    }

    /// Every user.
    pub fn list_users(&self) -> Result<Vec<UserInfo>, ServerError> {
        self.store.blocking(|c| db::users(c))
    }

    /// Sets a user's grade, which with their role decides their authority.
    pub fn set_grade(&self, name: &str, grade: StaffGrade) -> Result<(), ServerError> {
        self.store.blocking(|c| db::set_grade(c, name, grade))
    }

    /// Assigns a user to another territory from `effective` (default today). An assignment
    /// whose day has come takes effect at once: a scope-change marker in the log, so that on
    /// their next sync the new territory's documents arrive whole and the old one's are purged
    /// (after their pending edits are judged). A later day waits, recorded, until a request on
    /// or after that day. A past day is recorded as such, but the scope changes now: the log
    /// laptops have already pulled cannot be rewritten. Returns whether it took effect now.
    pub fn move_user(
        &self,
        name: &str,
        territory: &str,
        effective: Option<NaiveDate>,
    ) -> Result<bool, ServerError> {
        if name == crate::flags::SYSTEM_USER {
            return Err(ServerError::malformed(
                "the server's own account cannot move",
            ));
        }
        self.store.blocking(|c| {
            let tx = c.transaction()?;
            if !Tree::new(db::territories(&tx)?).exists(territory) {
                return Err(ServerError::NotFound(format!("no territory {territory:?}")));
            }
            if !db::users(&tx)?.iter().any(|u| u.name == name) {
                return Err(ServerError::NotFound(format!("no user {name:?}")));
            }
            let today = today();
            realign::record_assignment(&tx, name, territory, effective.unwrap_or(today))?;
            realign::apply_due(&tx, today)?;
            tx.commit()?;
            Ok(effective.is_none_or(|day| day <= today))
        })
    }

    /// A user's assignments, oldest first (made by [`Admin::move_user`]).
    pub fn assignments(&self, name: &str) -> Result<Vec<Assignment>, ServerError> {
        self.store.blocking(|c| realign::assignments(c, name))
    }

    /// Merges customer `duplicate` into `survivor` (撞单), as the server's own change: the
    /// duplicate is voided as "merged into" the survivor and keeps resolving to it; the
    /// survivor takes the duplicate's missing fields and contacts; nothing is destroyed.
    pub fn merge_customers(
        &self,
        survivor: shared::RecordId,
        duplicate: shared::RecordId,
    ) -> Result<MergeSummary, ServerError> {
        self.store
            .blocking(|c| merge::merge_customers(c, survivor, duplicate))
    }

    /// Sets the authority limits (discount and amount per role and grade) from TOML in the
    /// format of [`shared::rules::authority::Limits`], e.g.
    ///
    /// ```toml
    /// [[limits]]
    /// role = "salesperson"
    /// grade = "regular"
    /// max_discount_pct = "10"
    /// max_amount = { CNY = "200000" }
    /// ```
    ///
    /// They apply to every change accepted from then on; run [`Admin::recheck`] to apply them to
    /// what is already there. Returns how many entries were set.
    pub fn set_limits_toml(&self, text: &str) -> Result<usize, ServerError> {
        let limits: shared::rules::authority::Limits = toml::from_str(text)
            .map_err(|e| ServerError::malformed(format!("limits file: {e}")))?;
        let json = serde_json::to_string(&limits)
            .map_err(|e| ServerError::Internal(format!("limits: {e}")))?;
        self.store.blocking(|c| {
            c.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                rusqlite::params![crate::flags::LIMITS_SETTING, json],
            )?;
            Ok(())
        })?;
        Ok(limits.limits.len())
    }

    /// The authority limits in force (those set, else the demo table), as TOML.
    pub fn limits_toml(&self) -> Result<String, ServerError> {
        let limits = self.store.blocking(|c| crate::flags::limits(c))?;
        toml::to_string(&limits).map_err(|e| ServerError::Internal(format!("limits: {e}")))
    }

    /// Re-runs every business rule over every document (after a realignment or a rule change).
    pub fn recheck(&self) -> Result<crate::flags::RecheckSummary, ServerError> {
        crate::flags::recheck_all(self.store)
    }

    /// Imports an organisation from TOML (format in the module documentation).
    pub fn import_toml(&self, text: &str) -> Result<ImportSummary, ServerError> {
        let file: OrgFile = toml::from_str(text)
            .map_err(|e| ServerError::malformed(format!("organisation file: {e}")))?;
        for t in &file.territory {
            check_code(&t.code)?;
        }
        let mut summary = ImportSummary::default();
        // Hash passwords before taking the database (argon2 is slow on purpose).
        let existing: Vec<String> = self.list_users()?.into_iter().map(|u| u.name).collect();
        let mut users = Vec::new();
        for u in &file.user {
            check_user_name(&u.name)?;
            let role: Role = u.role.parse()?;
            // No grade given keeps an existing user's grade (new users default to regular).
            let grade = u
                .grade
                .as_deref()
                .map(str::parse::<StaffGrade>)
                .transpose()
                .map_err(|e| ServerError::malformed(format!("user {}: {e}", u.name)))?;
            let hash = match (&u.password, existing.contains(&u.name)) {
                (Some(p), _) if !p.is_empty() => Some(accounts::hash_password(p)?),
                (_, true) => None,
                (_, false) => {
                    let password = generated_password();
                    let hash = accounts::hash_password(&password)?;
                    summary.generated_passwords.push((u.name.clone(), password));
                    Some(hash)
                }
            };
            users.push((u, role, grade, hash));
        }
        self.store.blocking(|c| {
            let tx = c.transaction()?;
            tx.pragma_update(None, "defer_foreign_keys", true)?;
            let before = db::territories(&tx)?;
            let mut moves = Vec::new();
            for t in &file.territory {
                // An existing node under another parent moves with a marker in the log, as
                // `territory move` does, so that laptops follow; the name is updated here.
                let parent = match before.iter().find(|r| r.code == t.code) {
                    Some(old) if old.parent.as_deref() != t.parent.as_deref() => {
                        let Some(to) = t.parent.clone() else {
                            return Err(ServerError::malformed(format!(
                                "territory {} already exists; it cannot become the root",
                                t.code
                            )));
                        };
                        moves.push((t.code.clone(), old.parent.clone(), to));
                        old.parent.as_deref()
                    }
                    _ => t.parent.as_deref(),
                };
                db::upsert_territory(&tx, &t.code, &t.name, parent)?;
            }
            for (code, from, to) in &moves {
                if Tree::new(db::territories(&tx)?).would_cycle(code, to) {
                    return Err(ServerError::malformed(format!(
                        "moving territory {code} under {to} would make a cycle"
                    )));
                }
                realign::append_tree_move(&tx, code, from.as_deref(), to)?;
            }
            let rows = db::territories(&tx)?;
            let tree = Tree::new(rows.clone());
            let roots = rows.iter().filter(|r| r.parent.is_none()).count();
            if roots != 1 {
                return Err(ServerError::malformed(format!(
                    "the territories must form one tree with one root; found {roots} roots"
                )));
            }
            let root = rows
                .iter()
                .find(|r| r.parent.is_none())
                .map(|r| r.code.clone())
                .unwrap_or_default();
            for row in &rows {
                if !tree.is_within(&row.code, &root) {
                    return Err(ServerError::malformed(format!(
                        "territory {} does not lead to the root (unknown parent or a cycle)",
                        row.code
                    )));
                }
            }
            for (u, role, grade, hash) in &users {
                if !tree.exists(&u.territory) {
                    return Err(ServerError::NotFound(format!(
                        "user {}: no territory {:?}",
                        u.name, u.territory
                    )));
                }
                match hash {
                    Some(hash) => db::upsert_user(&tx, &u.name, hash, *role, &u.territory)?,
                    None => {
                        // A change of territory or role is a logged scope change.
                        let today = today().to_string();
                        realign::set_scope(&tx, &u.name, &u.territory, Some(*role), &today)?;
                    }
                }
                if let Some(grade) = grade {
                    db::set_grade(&tx, &u.name, *grade)?;
                }
            }
            tx.commit()?;
            Ok(())
        })?;
        summary.territories = file.territory.len();
        summary.users = file.user.len();
        Ok(summary)
    }
}

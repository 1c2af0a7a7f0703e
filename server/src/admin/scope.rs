//! Changes of scope made by hand: revoking devices and assigning customers (客户归属). Each is
//! a logged realignment that laptops act on (drain, then purge).

use crate::accounts::Role;
use crate::error::ServerError;
use crate::store::accounts::{self as db};
use crate::store::realign;
use crate::territory::Tree;

use super::Admin;

impl Admin<'_> {
    /// Revokes a user's devices (a lost laptop: the one named `device`; a leaver: all of them).
    /// Each revocation is a logged scope change for that device alone: its next sync refuses
    /// its pushes and purges everything it holds, after which its token stops working, and it
    /// cannot log in again. Returns how many devices were revoked now.
    pub fn revoke_devices(&self, name: &str, device: Option<&str>) -> Result<usize, ServerError> {
        self.store.blocking(|c| {
            let tx = c.transaction()?;
            if !db::users(&tx)?.iter().any(|u| u.name == name) {
                return Err(ServerError::NotFound(format!("no user {name:?}")));
            }
            let devices = db::devices(&tx, name)?;
            let chosen: Vec<_> = devices
                .iter()
                .filter(|d| device.is_none_or(|wanted| d.device == wanted))
                .collect();
            if let Some(wanted) = device
                && chosen.is_empty()
            {
                return Err(ServerError::NotFound(format!(
                    "{name} has no device {wanted:?}"
                )));
            }
            let mut revoked = 0;
            for d in chosen {
                if realign::revoke_device(&tx, name, &d.actor)?.is_some() {
                    revoked += 1;
                }
            }
            tx.commit()?;
            Ok(revoked)
        })
    }

    /// A user's devices (see [`Admin::revoke_devices`]).
    pub fn devices(&self, name: &str) -> Result<Vec<db::DeviceRow>, ServerError> {
        self.store.blocking(|c| db::devices(c, name))
    }

    /// Assigns customer `customer` (and its visits, quotations and orders) to salesperson
    /// `to` (客户归属). Each document moves with a marker in the log: `to`'s laptop receives
    /// them whole on its next sync, the previous owner's drains its pending edits and then
    /// purges them. `to` must be a salesperson whose territory holds the customer. Returns how
    /// many documents moved.
    pub fn assign_customer(
        &self,
        customer: shared::RecordId,
        to: &str,
    ) -> Result<usize, ServerError> {
        self.store.blocking(|c| {
            let tx = c.transaction()?;
            let id = realign::resolve_customer(&tx, &customer.to_string())?;
            let Some((_, territory)) = crate::store::log::kind_and_territory(&tx, &id)? else {
                return Err(ServerError::NotFound(format!("no customer {customer}")));
            };
            let Some(user) = db::users(&tx)?.into_iter().find(|u| u.name == to) else {
                return Err(ServerError::NotFound(format!("no user {to:?}")));
            };
            let tree = Tree::new(db::territories(&tx)?);
            if user.role != Role::Salesperson || !tree.is_within(&territory, &user.territory) {
                return Err(ServerError::Conflict(format!(
                    "{to} ({}, {}) cannot own a customer of territory {territory}: it takes a \
                     salesperson of that territory",
                    user.role, user.territory
                )));
            }
            let moved = crate::store::owners::reassign(&tx, &id, Some(to))?;
            tx.commit()?;
            Ok(moved)
        })
    }
}

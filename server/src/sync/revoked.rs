//! A revoked device (a lost laptop, a leaver's): its next sync purges everything it holds and
//! refuses its pushes, and then its token stops working.
//!
//! Revoking a device appends a scope change for that device alone (see
//! [`crate::store::realign::revoke_device`]); pull replays it like any realignment, closing the
//! device's scope, so every document it could read is purged. Until the laptop has settled that
//! page (its cursor is past the marker) and has nothing left to push, its token still reaches
//! the sync exchange, but only to be refused and purged; after that, the token is revoked and
//! every request is refused as unauthorised. Logging in again from the device is refused at
//! login ([`crate::store::accounts::register_device`]).

use rusqlite::Connection;
use shared::protocol::{PushChange, Rejection, SyncRequest};

use crate::accounts::Caller;
use crate::error::ServerError;
use crate::store::{accounts, realign};
use crate::sync::apply::Outcome;
use crate::sync::pull::Cursor;

/// The refusal code of a push from a revoked device.
pub const CODE: &str = "device_revoked";

/// Whether the caller's device is revoked (`Some(marker seq)`), ending the token once the
/// laptop has settled the purge and has nothing left to push.
pub fn check(
    conn: &Connection,
    caller: &Caller,
    request: &SyncRequest,
) -> Result<Option<u64>, ServerError> {
    let Some(seq) = realign::revoked_at(conn, &caller.actor)? else {
        return Ok(None);
    };
    if Cursor::decode(request.cursor).settled() >= seq && request.push.is_empty() {
        accounts::revoke_device_tokens(conn, &caller.actor)?;
        return Err(ServerError::Unauthorized(
            "this device was revoked and the company's data on it removed; it cannot sync again"
                .into(),
        ));
    }
    Ok(Some(seq))
}

/// The refusal of the change at `index` of a request from a revoked device.
pub fn refuse(index: u32, push: &PushChange) -> Outcome {
    Outcome::Rejected(Rejection {
        index,
        doc_id: push.doc_id,
        code: CODE.to_string(),
        reason: "此设备已被停用，修改未被接受 / this device was revoked: the edit was not accepted"
            .to_string(),
    })
}

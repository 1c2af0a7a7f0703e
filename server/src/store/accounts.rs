//! Territories, users, devices and tokens.

use rusqlite::{Connection, OptionalExtension, params};

use crate::accounts::{Role, UserInfo};
use crate::error::ServerError;
use crate::store::{now_text, realign, today};

/// One territory row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerritoryRow {
    /// Code.
    pub code: String,
    /// Display name.
    pub name: String,
    /// Parent code; `None` for the root.
    pub parent: Option<String>,
}

/// All territories.
pub fn territories(conn: &Connection) -> Result<Vec<TerritoryRow>, ServerError> {
    let mut stmt =
        conn.prepare_cached("SELECT code, name, parent FROM territories ORDER BY code")?;
    let rows = stmt.query_map([], |r| {
        Ok(TerritoryRow {
            code: r.get(0)?,
            name: r.get(1)?,
            parent: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Inserts or renames/reparents a territory.
pub fn upsert_territory(
    conn: &Connection,
    code: &str,
    name: &str,
    parent: Option<&str>,
) -> Result<(), ServerError> {
    conn.execute(
        "INSERT INTO territories (code, name, parent) VALUES (?1, ?2, ?3)
         ON CONFLICT (code) DO UPDATE SET name = excluded.name, parent = excluded.parent",
        params![code, name, parent],
    )?;
    Ok(())
}

/// Inserts or updates a user. An existing user given another territory or role moves there
/// now, with a scope-change marker in the log so their laptops' scope follows.
pub fn upsert_user(
    conn: &Connection,
    name: &str,
    password_hash: &str,
    role: Role,
    territory: &str,
) -> Result<(), ServerError> {
    realign::set_scope(conn, name, territory, Some(role), &today().to_string())?;
    conn.execute(
        "INSERT INTO users (name, password_hash, role, territory, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (name) DO UPDATE SET password_hash = excluded.password_hash,
             role = excluded.role, territory = excluded.territory",
        params![name, password_hash, role.as_str(), territory, now_text()],
    )?;
    Ok(())
}

/// A user's grade (`probation`, `regular`, `supervisor`), as stored.
pub fn grade(conn: &Connection, name: &str) -> Result<String, ServerError> {
    Ok(conn
        .prepare_cached("SELECT grade FROM users WHERE name = ?1")?
        .query_row([name], |r| r.get(0))?)
}

/// Sets a user's grade; an unknown user is an error.
pub fn set_grade(
    conn: &Connection,
    name: &str,
    grade: shared::rules::authority::StaffGrade,
) -> Result<(), ServerError> {
    let changed = conn.execute(
        "UPDATE users SET grade = ?2 WHERE name = ?1",
        params![name, grade.as_str()],
    )?;
    if changed == 0 {
        return Err(ServerError::NotFound(format!("no user {name:?}")));
    }
    Ok(())
}

/// A user with their password hash.
pub fn user_with_hash(
    conn: &Connection,
    name: &str,
) -> Result<Option<(UserInfo, String)>, ServerError> {
    conn.query_row(
        "SELECT name, role, territory, password_hash FROM users WHERE name = ?1",
        [name],
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get(2)?,
                r.get(3)?,
            ))
        },
    )
    .optional()?
    .map(|(name, role, territory, hash)| Ok((user_info(name, &role, territory)?, hash)))
    .transpose()
}

fn user_info(name: String, role: &str, territory: String) -> Result<UserInfo, ServerError> {
    let role = role
        .parse()
        .map_err(|_| ServerError::Internal(format!("user {name} has unknown role {role}")))?;
    Ok(UserInfo {
        name,
        role,
        territory,
    })
}

/// Every user.
pub fn users(conn: &Connection) -> Result<Vec<UserInfo>, ServerError> {
    let mut stmt = conn.prepare("SELECT name, role, territory FROM users ORDER BY name")?;
    let rows = stmt.query_map([], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?))
    })?;
    rows.map(|row| {
        let (name, role, territory) = row?;
        user_info(name, &role, territory)
    })
    .collect()
}

/// The user an actor is registered to.
pub fn device_user(conn: &Connection, actor: &str) -> Result<Option<String>, ServerError> {
    Ok(conn
        .query_row("SELECT user FROM devices WHERE actor = ?1", [actor], |r| {
            r.get(0)
        })
        .optional()?)
}

/// Registers an actor for a user's device (a no-op when already registered to them). A revoked
/// device may not register again: logging in from it is refused.
pub fn register_device(
    conn: &Connection,
    actor: &str,
    user: &str,
    device: &str,
) -> Result<(), ServerError> {
    if realign::revoked_at(conn, actor)?.is_some() {
        return Err(ServerError::Forbidden(
            "此设备已被停用 / this device was revoked; it cannot log in again".into(),
        ));
    }
    conn.execute(
        "INSERT INTO devices (actor, user, device, registered_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (actor) DO UPDATE SET device = excluded.device",
        params![actor, user, device, now_text()],
    )?;
    Ok(())
}

/// Stores a token's hash.
pub fn insert_token(
    conn: &Connection,
    hash: &[u8],
    user: &str,
    device: &str,
    actor: &str,
) -> Result<(), ServerError> {
    conn.execute(
        "INSERT INTO tokens (hash, user, device, actor, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![hash, user, device, actor, now_text()],
    )?;
    Ok(())
}

/// The live (not revoked) token with this hash: its user, device and actor. Assignments whose
/// day has come are put in force first, so the caller is judged by the territory they hold
/// today.
pub fn token(
    conn: &Connection,
    hash: &[u8],
) -> Result<Option<(UserInfo, String, String)>, ServerError> {
    realign::apply_due(conn, today())?;
    let row = conn
        .query_row(
            "SELECT u.name, u.role, u.territory, t.device, t.actor
             FROM tokens t JOIN users u ON u.name = t.user
             WHERE t.hash = ?1 AND t.revoked_at IS NULL",
            [hash],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                ))
            },
        )
        .optional()?;
    row.map(|(name, role, territory, device, actor)| {
        Ok((user_info(name, &role, territory)?, device, actor))
    })
    .transpose()
}

/// Revokes one token.
pub fn revoke_token(conn: &Connection, hash: &[u8]) -> Result<(), ServerError> {
    conn.execute(
        "UPDATE tokens SET revoked_at = ?2 WHERE hash = ?1 AND revoked_at IS NULL",
        params![hash, now_text()],
    )?;
    Ok(())
}

/// Revokes every token of a user; returns how many.
pub fn revoke_user_tokens(conn: &Connection, user: &str) -> Result<usize, ServerError> {
    Ok(conn.execute(
        "UPDATE tokens SET revoked_at = ?2 WHERE user = ?1 AND revoked_at IS NULL",
        params![user, now_text()],
    )?)
}

/// Revokes every token of one device (by its actor); returns how many.
pub fn revoke_device_tokens(conn: &Connection, actor: &str) -> Result<usize, ServerError> {
    Ok(conn.execute(
        "UPDATE tokens SET revoked_at = ?2 WHERE actor = ?1 AND revoked_at IS NULL",
        params![actor, now_text()],
    )?)
}

/// One registered device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRow {
    /// Its actor id (hex).
    pub actor: String,
    /// The user it belongs to.
    pub user: String,
    /// The device name given at login.
    pub device: String,
    /// When it was revoked, if it was.
    pub revoked_at: Option<String>,
}

/// A user's devices, oldest first.
pub fn devices(conn: &Connection, user: &str) -> Result<Vec<DeviceRow>, ServerError> {
    let mut stmt = conn.prepare_cached(
        "SELECT actor, user, device, revoked_at FROM devices WHERE user = ?1
         ORDER BY registered_at, actor",
    )?;
    let rows = stmt.query_map([user], |r| {
        Ok(DeviceRow {
            actor: r.get(0)?,
            user: r.get(1)?,
            device: r.get(2)?,
            revoked_at: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

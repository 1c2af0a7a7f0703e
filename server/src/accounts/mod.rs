//! Accounts: roles, password hashing (argon2) and per-device tokens.
//!
//! A token is 32 random bytes shown to the client once as 64 hex characters; the server keeps
//! only its SHA-256, so a stolen database yields no usable tokens. Logging out revokes the token.
//! Login checks passwords on the bounded pool of [`passwords`].

pub mod passwords;

use std::fmt;
use std::str::FromStr;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::ServerError;

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads and writes records of their territory.
    Salesperson,
    /// Reads and writes records of their region's subtree.
    RegionManager,
    /// Reads and writes records of their large region's subtree.
    LargeRegionManager,
    /// Reads everything; writes only master data: customers' credit terms and dealers
    /// ([`shared::permissions`] says which fields).
    HeadOffice,
    /// Reads their territory's subtree; writes only financial fields (customers' credit terms,
    /// orders' invoicing and payment).
    Finance,
    /// Manages accounts, the price list (products) and dealers' authorised regions; reads
    /// everything.
    Admin,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 6] = [
        Role::Salesperson,
        Role::RegionManager,
        Role::LargeRegionManager,
        Role::HeadOffice,
        Role::Finance,
        Role::Admin,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Salesperson => "salesperson",
            Role::RegionManager => "region_manager",
            Role::LargeRegionManager => "large_region_manager",
            Role::HeadOffice => "head_office",
            Role::Finance => "finance",
            Role::Admin => "admin",
        }
    }

    /// The role as the field-permission table knows it.
    pub fn writer(self) -> shared::permissions::Role {
        use shared::permissions::Role as W;
        match self {
            Role::Salesperson => W::Salesperson,
            Role::RegionManager => W::RegionManager,
            Role::LargeRegionManager => W::LargeRegionManager,
            Role::HeadOffice => W::HeadOffice,
            Role::Finance => W::Finance,
            Role::Admin => W::Admin,
        }
    }

    /// Whether the role reads every territory.
    pub fn reads_all(self) -> bool {
        matches!(self, Role::HeadOffice | Role::Admin)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = ServerError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                ServerError::malformed(format!(
                    "unknown role {s:?}; one of: {}",
                    Role::ALL.map(Role::as_str).join(", ")
                ))
            })
    }
}

/// A user as the rest of the server sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserInfo {
    /// Login name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// The territory node they are assigned to.
    pub territory: String,
}

/// The caller of an authenticated request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The user.
    pub user: UserInfo,
    /// The device name given at login.
    pub device: String,
    /// The device's Automerge actor id (hex).
    pub actor: String,
    /// SHA-256 of the token used.
    pub token_hash: Vec<u8>,
}

/// Hashes a password with argon2id and a random salt.
pub fn hash_password(password: &str) -> Result<String, ServerError> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt =
        SaltString::encode_b64(&salt).map_err(|e| ServerError::Internal(format!("salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ServerError::Internal(format!("hashing password: {e}")))
}

/// Checks a password against a stored hash.
pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A fresh token (64 hex characters) and its stored hash.
pub fn new_token() -> (String, Vec<u8>) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let hash = token_hash(&token);
    (token, hash)
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Checks an actor id: 32 hex characters (16 bytes), normalised to lower case.
pub fn parse_actor(actor: &str) -> Result<String, ServerError> {
    let actor = actor.trim().to_ascii_lowercase();
    if actor.len() == 32 && actor.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(actor)
    } else {
        Err(ServerError::malformed(
            "actor must be 32 hexadecimal characters",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_and_tokens() {
        let hash = hash_password("s3cret").expect("hashes");
        assert!(verify_password("s3cret", &hash));
        assert!(!verify_password("wrong", &hash));
        assert!(!verify_password("s3cret", "garbage"));
        let (token, stored) = new_token();
        assert_eq!(token.len(), 64);
        assert_eq!(token_hash(&token), stored);
        assert!(parse_actor("00112233445566778899AABBCCDDEEFF").is_ok());
        assert!(parse_actor("xyz").is_err());
        assert_eq!(
            "head_office".parse::<Role>().expect("role"),
            Role::HeadOffice
        );
        for role in Role::ALL {
            assert_eq!(role.writer().as_str(), role.as_str());
        }
    }
}

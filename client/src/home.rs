//! Where the laptop keeps its data, and who this device is.

use std::path::{Path, PathBuf};

use automerge::ActorId;

/// The database file's name inside a home directory.
pub const DB_FILE: &str = "fieldsync.db";

/// The home directory to use: the one given, else `FIELDSYNC_HOME`, else the platform's data
/// directory (e.g. `~/.local/share/fieldsync` on Linux).
pub fn resolve_home(given: Option<&Path>) -> PathBuf {
    if let Some(path) = given {
        return path.to_path_buf();
    }
    if let Some(path) = std::env::var_os("FIELDSYNC_HOME") {
        return PathBuf::from(path);
    }
    directories::ProjectDirs::from("com", "Fieldsync", "fieldsync")
        .map(|dirs| dirs.data_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from(".fieldsync"))
}

/// This laptop's identity in the audit trail.
#[derive(Debug, Clone)]
pub struct Device {
    /// The stable Automerge actor id of this device: every change made here carries it.
    pub actor: ActorId,
    /// The user signed in on this device.
    pub user: String,
    /// The device's name, e.g. the host name.
    pub name: String,
    /// The IANA time zone new visits default to.
    pub time_zone: chrono_tz::Tz,
}

/// A fresh random actor id (16 bytes), made once per device.
pub fn new_actor() -> ActorId {
    ActorId::from(uuid::Uuid::new_v4().as_bytes().as_slice())
}

/// The user name to start with before anyone signs in: the operating system's user.
pub fn default_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "me".to_string())
}

/// The device name to start with: the host name.
pub fn default_device_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .unwrap_or_else(|| "laptop".to_string())
}

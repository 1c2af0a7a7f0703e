//! Typed server configuration, layered: built-in defaults, then an optional TOML file, then
//! environment variables `FIELDSYNC_*` (`FIELDSYNC_DB_PATH`, `FIELDSYNC_LISTEN`,
//! `FIELDSYNC_TLS_CERT`, `FIELDSYNC_TLS_KEY`, `FIELDSYNC_ALLOW_PLAIN_HTTP_OFF_LOOPBACK`,
//! `FIELDSYNC_PULL_BUDGET_MAX`, `FIELDSYNC_RULES_ENABLED`). Command-line flags override all of
//! them in `main`.
//!
//! The TOML file uses the same field names:
//!
//! ```toml
//! db_path = "/var/lib/fieldsync/server.db"
//! listen = "0.0.0.0:8440"
//! tls_cert = "/etc/fieldsync/cert.pem"
//! tls_key = "/etc/fieldsync/key.pem"
//! pull_budget_max = 4194304
//! rules_enabled = true
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::ServerError;

/// The server's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The SQLite database file.
    pub db_path: PathBuf,
    /// Address to listen on.
    pub listen: SocketAddr,
    /// PEM certificate chain for HTTPS.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for HTTPS.
    pub tls_key: Option<PathBuf>,
    /// Serve plain HTTP on a non-loopback address (only behind a TLS-terminating proxy).
    pub allow_plain_http_off_loopback: bool,
    /// The most change bytes one sync response carries, whatever the client asks for.
    pub pull_budget_max: u64,
    /// Run the flag rules on every accepted change (default). Turning them off is for
    /// measurement only (the ingest benchmark): changes are then accepted without raising flags.
    pub rules_enabled: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            db_path: PathBuf::from("fieldsync-server.db"),
            listen: SocketAddr::from(([127, 0, 0, 1], 8440)),
            tls_cert: None,
            tls_key: None,
            allow_plain_http_off_loopback: false,
            pull_budget_max: 4 * 1024 * 1024,
            rules_enabled: true,
        }
    }
}

impl Config {
    /// Defaults, then `file` if given, then the process environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ServerError> {
        Self::load_with(file, |key| std::env::var(key).ok())
    }

    /// Like [`Config::load`] with an explicit environment lookup (for tests).
    pub fn load_with(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ServerError> {
        let mut config = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| ServerError::Config(format!("reading {}: {e}", path.display())))?;
                Self::from_toml(&text)?
            }
            None => Self::default(),
        };
        config.apply_env(env)?;
        config.check()?;
        Ok(config)
    }

    /// Parses a TOML configuration over the defaults.
    pub fn from_toml(text: &str) -> Result<Self, ServerError> {
        toml::from_str(text).map_err(|e| ServerError::Config(format!("config file: {e}")))
    }

    fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) -> Result<(), ServerError> {
        let bad =
            |key: &str, value: &str| ServerError::Config(format!("{key}={value:?} is invalid"));
        if let Some(v) = env("FIELDSYNC_DB_PATH") {
            self.db_path = PathBuf::from(v);
        }
        if let Some(v) = env("FIELDSYNC_LISTEN") {
            self.listen = v.parse().map_err(|_| bad("FIELDSYNC_LISTEN", &v))?;
        }
        if let Some(v) = env("FIELDSYNC_TLS_CERT") {
            self.tls_cert = Some(PathBuf::from(v));
        }
        if let Some(v) = env("FIELDSYNC_TLS_KEY") {
            self.tls_key = Some(PathBuf::from(v));
        }
        let flag = |key: &str, v: &str| match v {
            "1" | "true" | "yes" => Ok(true),
            "0" | "false" | "no" | "" => Ok(false),
            _ => Err(bad(key, v)),
        };
        if let Some(v) = env("FIELDSYNC_ALLOW_PLAIN_HTTP_OFF_LOOPBACK") {
            self.allow_plain_http_off_loopback =
                flag("FIELDSYNC_ALLOW_PLAIN_HTTP_OFF_LOOPBACK", &v)?;
        }
        if let Some(v) = env("FIELDSYNC_RULES_ENABLED") {
            self.rules_enabled = flag("FIELDSYNC_RULES_ENABLED", &v)?;
        }
        if let Some(v) = env("FIELDSYNC_PULL_BUDGET_MAX") {
            self.pull_budget_max = v
                .parse()
                .map_err(|_| bad("FIELDSYNC_PULL_BUDGET_MAX", &v))?;
        }
        Ok(())
    }

    /// Checks that the settings fit together.
    pub fn check(&self) -> Result<(), ServerError> {
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return Err(ServerError::Config(
                "tls_cert and tls_key must be given together".into(),
            ));
        }
        if self.pull_budget_max == 0 {
            return Err(ServerError::Config(
                "pull_budget_max must be positive".into(),
            ));
        }
        Ok(())
    }

    /// Whether HTTPS is configured.
    pub fn tls(&self) -> Option<(&Path, &Path)> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some((cert, key)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_apply_in_order() {
        let file = Config::from_toml("listen = \"0.0.0.0:9000\"\npull_budget_max = 10")
            .expect("toml parses");
        assert_eq!(file.listen.port(), 9000);
        assert_eq!(file.db_path, Config::default().db_path);
        let config = Config::load_with(None, |key| {
            (key == "FIELDSYNC_PULL_BUDGET_MAX").then(|| "77".to_string())
        })
        .expect("env applies");
        assert_eq!(config.pull_budget_max, 77);
        assert!(Config::from_toml("nonsense = 1").is_err());
        assert!(Config::default().rules_enabled);
        let off = Config::from_toml("rules_enabled = false").expect("toml parses");
        assert!(!off.rules_enabled);
        let env_off = Config::load_with(None, |key| {
            (key == "FIELDSYNC_RULES_ENABLED").then(|| "0".to_string())
        })
        .expect("env applies");
        assert!(!env_off.rules_enabled);
        assert!(
            Config::load_with(None, |key| (key == "FIELDSYNC_RULES_ENABLED")
                .then(|| "x".into()))
            .is_err()
        );
        assert!(
            Config::load_with(None, |key| (key == "FIELDSYNC_LISTEN").then(|| "x".into())).is_err()
        );
    }
}

//! Typed server configuration, layered: built-in defaults, then an optional TOML file, then
//! environment variables `FIELDSYNC_*` (`FIELDSYNC_DB_PATH`, `FIELDSYNC_LISTEN`,
//! `FIELDSYNC_TLS_CERT`, `FIELDSYNC_TLS_KEY`, `FIELDSYNC_ALLOW_PLAIN_HTTP_OFF_LOOPBACK`,
//! `FIELDSYNC_PULL_BUDGET_MAX`, `FIELDSYNC_RULES_ENABLED`, and the limits below, each as
//! `FIELDSYNC_` and its name in capitals). Command-line flags override all of them in `main`.
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
//!
//! The limits that keep the server up for everyone under a flood (see
//! [`crate::handlers::limits`]), with their defaults:
//!
//! ```toml
//! login_concurrency = 0                  # password checks at once; 0: one per core
//! login_wait_ms = 2000                   # a login waits this long for a check, then 503
//! login_attempts_per_user = 10           # failed logins a minute per user name, then 429
//! login_attempts_per_address = 60        # failed logins a minute per client address, then 429
//! sync_inflight_bytes = 268435456        # memory all syncs in flight may reserve, then 503
//! sync_per_device = 2                    # syncs in flight per device, then 429
//! sync_wait_ms = 2000                    # a sync waits this long for room, then 503
//! ```
//!
//! Each password check holds about 19 MiB while it runs, so the checks take at most
//! `login_concurrency` × 19 MiB; syncs take at most `sync_inflight_bytes`. The address is the
//! connection's peer: behind a proxy every client shares the proxy's address, so raise
//! `login_attempts_per_address` there.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use shared::protocol::{MAX_DECOMPRESSED_BYTES, MAX_REQUEST_BYTES};

use crate::error::ServerError;
use crate::sync::ZSTD_WINDOW_BYTES;

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
    /// Password checks run at once (each holds ~19 MiB while it runs); 0 means one per core.
    pub login_concurrency: usize,
    /// Milliseconds a login waits for a free password check before answering 503.
    pub login_wait_ms: u64,
    /// Failed logins a minute per user name before 429 (0: no limit).
    pub login_attempts_per_user: u32,
    /// Failed logins a minute per client address before 429 (0: no limit).
    pub login_attempts_per_address: u32,
    /// Bytes all syncs in flight may reserve (bodies, their inflation, decoded requests,
    /// responses) before more are answered 503. At least [`Config::min_sync_inflight_bytes`].
    pub sync_inflight_bytes: u64,
    /// Syncs in flight per device before more are answered 429.
    pub sync_per_device: u32,
    /// Milliseconds a sync waits for room in the budget before answering 503.
    pub sync_wait_ms: u64,
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
            login_concurrency: 0,
            login_wait_ms: 2000,
            login_attempts_per_user: 10,
            login_attempts_per_address: 60,
            sync_inflight_bytes: 256 * 1024 * 1024,
            sync_per_device: 2,
            sync_wait_ms: 2000,
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
        self.apply_limits_env(&env)
    }

    fn apply_limits_env(
        &mut self,
        env: &impl Fn(&str) -> Option<String>,
    ) -> Result<(), ServerError> {
        fn number<T: std::str::FromStr>(
            env: &impl Fn(&str) -> Option<String>,
            key: &str,
            field: &mut T,
        ) -> Result<(), ServerError> {
            if let Some(v) = env(key) {
                *field = v
                    .parse()
                    .map_err(|_| ServerError::Config(format!("{key}={v:?} is invalid")))?;
            }
            Ok(())
        }
        number(
            env,
            "FIELDSYNC_LOGIN_CONCURRENCY",
            &mut self.login_concurrency,
        )?;
        number(env, "FIELDSYNC_LOGIN_WAIT_MS", &mut self.login_wait_ms)?;
        number(
            env,
            "FIELDSYNC_LOGIN_ATTEMPTS_PER_USER",
            &mut self.login_attempts_per_user,
        )?;
        number(
            env,
            "FIELDSYNC_LOGIN_ATTEMPTS_PER_ADDRESS",
            &mut self.login_attempts_per_address,
        )?;
        number(
            env,
            "FIELDSYNC_SYNC_INFLIGHT_BYTES",
            &mut self.sync_inflight_bytes,
        )?;
        number(env, "FIELDSYNC_SYNC_PER_DEVICE", &mut self.sync_per_device)?;
        number(env, "FIELDSYNC_SYNC_WAIT_MS", &mut self.sync_wait_ms)
    }

    /// Password checks at once: `login_concurrency`, or one per core when it is 0.
    pub fn login_concurrency(&self) -> usize {
        match self.login_concurrency {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            n => n,
        }
    }

    /// The smallest `sync_inflight_bytes` that still lets the largest sync through: its body,
    /// the zstd window, its inflation and decoded request (twice the inflation cap), and a
    /// response at `pull_budget_max` built twice over (encoded, then compressed), plus slack.
    pub fn min_sync_inflight_bytes(&self) -> u64 {
        let request =
            MAX_REQUEST_BYTES as u64 + ZSTD_WINDOW_BYTES as u64 + 2 * MAX_DECOMPRESSED_BYTES as u64;
        request + 2 * self.pull_budget_max + 1024 * 1024
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
        if self.sync_inflight_bytes < self.min_sync_inflight_bytes() {
            return Err(ServerError::Config(format!(
                "sync_inflight_bytes must be at least {} (the largest sync) with this pull_budget_max",
                self.min_sync_inflight_bytes()
            )));
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

    #[test]
    fn limits_load_and_are_checked() {
        let config = Config::from_toml("login_attempts_per_user = 3\nsync_per_device = 1")
            .expect("toml parses");
        assert_eq!(config.login_attempts_per_user, 3);
        assert_eq!(config.sync_per_device, 1);
        let config = Config::load_with(None, |key| {
            (key == "FIELDSYNC_LOGIN_CONCURRENCY").then(|| "3".to_string())
        })
        .expect("env applies");
        assert_eq!(config.login_concurrency(), 3);
        assert!(
            Config::default().login_concurrency() >= 1,
            "0 is one per core"
        );
        let small = Config::load_with(None, |key| {
            (key == "FIELDSYNC_SYNC_INFLIGHT_BYTES").then(|| "1000".to_string())
        });
        assert!(small.is_err(), "a budget smaller than one sync is refused");
        assert!(Config::default().check().is_ok());
    }
}

//! Fieldsync's sync server: the change log, accounts and territories, authorisation, and the
//! versioned HTTP API the laptops sync with.
//!
//! Start it with [`AppState::open`], [`router`] and [`serve`]; manage accounts with
//! [`AppState::admin`].

pub mod accounts;
pub mod admin;
pub mod clock;
pub mod config;
pub mod error;
pub mod flags;
pub mod handlers;
pub mod reports;
pub mod store;
pub mod sync;
pub mod territory;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum_server::tls_rustls::RustlsConfig;

pub use config::Config;
pub use error::ServerError;
pub use handlers::router;

/// What every request handler shares: the database, the configuration and the limits.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The database.
    pub store: store::Store,
    /// The configuration the server was opened with.
    pub config: Arc<Config>,
    /// The bounds on password checks, failed logins and in-flight syncs.
    pub limits: Arc<handlers::limits::Limits>,
}

impl AppState {
    /// Opens (creating and migrating if needed) the database named in `config`.
    pub fn open(config: &Config) -> Result<AppState, ServerError> {
        config.check()?;
        Ok(AppState {
            store: store::Store::open(&config.db_path)?,
            config: Arc::new(config.clone()),
            limits: Arc::new(handlers::limits::Limits::new(config)?),
        })
    }

    /// Account and organisation management.
    pub fn admin(&self) -> admin::Admin<'_> {
        admin::Admin::new(&self.store)
    }
}

/// Refuses plain HTTP on a non-loopback address unless the configuration allows it.
pub fn check_plain_http(addr: SocketAddr, config: &Config) -> Result<(), ServerError> {
    if config.tls().is_none() && !addr.ip().is_loopback() && !config.allow_plain_http_off_loopback {
        return Err(ServerError::Config(format!(
            "refusing to serve plain HTTP on {addr}, which is not a loopback address: give \
             tls_cert and tls_key, or set allow_plain_http_off_loopback behind a TLS proxy"
        )));
    }
    Ok(())
}

/// The URL clients connect to for a listening address.
pub fn url_for(addr: SocketAddr, config: &Config) -> String {
    let scheme = if config.tls().is_some() {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{addr}")
}

/// Serves the API on `listener` until `shutdown` completes, over HTTPS when the configuration
/// names a certificate and key.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let addr = listener.local_addr()?;
    check_plain_http(addr, &state.config)?;
    let tls = state
        .config
        .tls()
        .map(|(cert, key)| (cert.to_path_buf(), key.to_path_buf()));
    let app = router(state);
    match tls {
        Some((cert, key)) => {
            // Another part of the process may have installed a provider already; either works.
            let _ = rustls::crypto::ring::default_provider().install_default();
            let tls = RustlsConfig::from_pem_file(&cert, &key)
                .await
                .map_err(|e| ServerError::Config(format!("loading TLS certificate/key: {e}")))?;
            let handle = axum_server::Handle::new();
            let stopper = handle.clone();
            tokio::spawn(async move {
                shutdown.await;
                stopper.graceful_shutdown(Some(Duration::from_secs(10)));
            });
            axum_server::from_tcp_rustls(listener.into_std()?, tls)
                .handle(handle)
                .serve(app.into_make_service_with_connect_info::<SocketAddr>())
                .await?;
        }
        None => {
            // The peer address is what failed logins are counted against.
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(shutdown)
            .await?;
        }
    }
    Ok(())
}

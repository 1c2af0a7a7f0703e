//! Setup, not measured: the in-process server with its organisation, and laptops signed in to
//! it as `fieldsync login` signs them in.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use client::Store;
use client::sync::{Http, SyncOptions, SyncReport};
use server::{AppState, Config};

/// The organisation: one office with two salespeople.
const ORG: &str = r#"
[[territory]]
code = "CN"
name = "公司总部"
[[territory]]
code = "EAST"
name = "华东大区"
parent = "CN"
[[territory]]
code = "EAST-SH"
name = "上海办事处"
parent = "EAST"

[[user]]
name = "sh1"
role = "salesperson"
territory = "EAST-SH"
password = "pw-sh1"
[[user]]
name = "sh2"
role = "salesperson"
territory = "EAST-SH"
password = "pw-sh2"
"#;

/// The one territory both salespeople work.
pub const TERRITORY: &str = "EAST-SH";

/// Push budget for seeding only (the measured sync uses the client's defaults).
pub const SEED_PUSH_BUDGET: usize = 8 * 1024 * 1024;

/// The in-process server.
pub struct Running {
    pub url: String,
    pub db_path: PathBuf,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

/// Starts the server on port 0 with a temporary database in `dir`.
pub fn start_server(rt: &tokio::runtime::Runtime, dir: &Path) -> Result<Running> {
    let config = Config {
        db_path: dir.join("server.db"),
        ..Config::default()
    };
    let state = AppState::open(&config).context("opening the server state")?;
    state
        .admin()
        .import_toml(ORG)
        .context("importing the organisation")?;
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .context("binding port 0")?;
    let url = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = rt.spawn(async move {
        let served = server::serve(listener, state, async {
            let _ = stopped.await;
        })
        .await;
        if let Err(e) = served {
            eprintln!("server stopped with an error: {e}");
        }
    });
    Ok(Running {
        url,
        db_path: config.db_path,
        stop,
        task,
    })
}

/// Opens a laptop store and signs it in, as `fieldsync login` does.
pub fn laptop(home: &Path, url: &str, user: &str) -> Result<(Store, Http)> {
    let mut store = Store::open_home(home)?;
    let http = Http::new(url)?;
    let device = format!("{user}-laptop");
    let actor = store.device().actor.to_hex_string();
    let reply = http.login(user, &format!("pw-{user}"), &device, &actor)?;
    let tz = store.device().time_zone;
    store.set_identity(&reply.user, &device, tz)?;
    store.set_meta("server", url)?;
    store.set_meta("token", &reply.token)?;
    Ok((store, http))
}

/// A sync that must not have any change refused.
pub fn sync_checked(store: &mut Store, http: &Http, options: &SyncOptions) -> Result<SyncReport> {
    let report = client::sync::sync(store, http, options, |_| {})?;
    if report.rejected > 0 {
        bail!("the server refused {} changes", report.rejected);
    }
    Ok(report)
}

impl Running {
    /// Stops the server and waits for it.
    pub fn stop(self, rt: &tokio::runtime::Runtime) -> Result<()> {
        let _ = self.stop.send(());
        rt.block_on(self.task)?;
        Ok(())
    }
}

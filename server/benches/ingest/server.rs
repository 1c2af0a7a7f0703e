//! One real server in this process (tokio, port 0, temporary SQLite), its people signed in,
//! and the pushes the benchmark times.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use server::{AppState, Config};
use shared::protocol::{self, CONTENT_TYPE};

use crate::workload::{Batch, Workload};

/// A running server and its people's tokens.
pub struct Running {
    url: String,
    state: AppState,
    http: reqwest::Client,
    tokens: Vec<String>,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), server::ServerError>>,
    _dir: tempfile::TempDir,
}

/// Starts a server of the workload's organisation, the rules on or off, and signs everyone in.
pub async fn start(work: &Workload, rules_enabled: bool) -> Result<Running> {
    let dir = tempfile::tempdir().context("temp dir")?;
    let config = Config {
        db_path: dir.path().join("server.db"),
        rules_enabled,
        ..Config::default()
    };
    let state = AppState::open(&config).context("opening the server")?;
    state
        .admin()
        .import_toml(&work.org)
        .context("importing the organisation")?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .context("binding")?;
    let url = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = state.clone();
    let task = tokio::spawn(async move {
        server::serve(listener, serving, async {
            let _ = stopped.await;
        })
        .await
    });
    let http = reqwest::Client::new();
    let mut tokens = Vec::new();
    for person in &work.people {
        // Logging in registers the laptop's actor, so the server accepts its changes.
        let response = http
            .post(format!("{url}/v1/login"))
            .json(&json!({
                "user": person.name,
                "password": format!("pw-{}", person.name),
                "device": format!("{}-laptop", person.name),
                "actor": person.actor.to_hex_string(),
            }))
            .send()
            .await
            .context("login request")?;
        let status = response.status();
        let body: Value = response.json().await.context("login response")?;
        let Some(token) = body["token"].as_str().filter(|_| status.is_success()) else {
            bail!("login {} failed: {status} {body}", person.name);
        };
        tokens.push(token.to_string());
    }
    Ok(Running {
        url,
        state,
        http,
        tokens,
        stop,
        task,
        _dir: dir,
    })
}

impl Running {
    /// Pushes one batch and returns its round-trip time; any rejection is an error.
    pub async fn push(&self, batch: &Batch) -> Result<Duration> {
        let started = Instant::now();
        let response = self
            .http
            .post(format!("{}/v1/sync", self.url))
            .header("content-type", CONTENT_TYPE)
            .bearer_auth(&self.tokens[batch.person])
            .body(batch.body.clone())
            .send()
            .await
            .context("sync request")?;
        let status = response.status();
        let bytes = response.bytes().await.context("sync response")?;
        let elapsed = started.elapsed();
        if !status.is_success() {
            bail!("sync failed: {status} {}", String::from_utf8_lossy(&bytes));
        }
        let inflated = zstd::decode_all(&bytes[..]).context("inflating the response")?;
        let response: shared::protocol::SyncResponse =
            protocol::decode(&inflated).context("decoding the response")?;
        if let Some(first) = response.rejected.first() {
            bail!(
                "{} of {} changes rejected, first: {} {}",
                response.rejected.len(),
                batch.changes,
                first.code,
                first.reason
            );
        }
        if response.acked as usize != batch.changes {
            bail!("{} acked of {}", response.acked as usize, batch.changes);
        }
        Ok(elapsed)
    }

    /// Flags by kind, and documents that are not flags.
    pub fn counts(&self) -> Result<(BTreeMap<String, u64>, u64)> {
        Ok(self.state.store.blocking(|c| {
            let mut stmt = c.prepare("SELECT kind, COUNT(*) FROM flags GROUP BY kind")?;
            let flags = stmt
                .query_map([], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
                })?
                .collect::<Result<BTreeMap<_, _>, _>>()?;
            let docs: i64 = c.query_row(
                "SELECT COUNT(*) FROM documents WHERE kind <> 'flag'",
                [],
                |r| r.get(0),
            )?;
            Ok((flags, docs as u64))
        })?)
    }

    /// Stops the server and waits for it.
    pub async fn stop(self) -> Result<()> {
        let _ = self.stop.send(());
        self.task.await.context("server task")??;
        Ok(())
    }
}

//! Shared helpers: a real server on port 0 with a temporary database and an organisation.

#![allow(dead_code)]

use automerge::{ActorId, AutoCommit};
use reqwest::StatusCode;
use serde_json::{Value, json};
use server::{AppState, Config};
use shared::RecordId;
use shared::doc::CommitMeta;
use shared::domain::Customer;
use shared::protocol::{
    self, CONTENT_TYPE, DEFAULT_PULL_BUDGET, PROTOCOL_VERSION, PushChange, SyncRequest,
    SyncResponse,
};

/// The test organisation.
pub const ORG: &str = r#"
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
[[territory]]
code = "EAST-HZ"
name = "杭州办事处"
parent = "EAST"
[[territory]]
code = "NORTH"
name = "华北大区"
parent = "CN"
[[territory]]
code = "NORTH-BJ"
name = "北京办事处"
parent = "NORTH"

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
[[user]]
name = "hz1"
role = "salesperson"
territory = "EAST-HZ"
password = "pw-hz1"
[[user]]
name = "bj1"
role = "salesperson"
territory = "NORTH-BJ"
password = "pw-bj1"
[[user]]
name = "east.boss"
role = "large_region_manager"
territory = "EAST"
password = "pw-boss"
[[user]]
name = "head"
role = "head_office"
territory = "CN"
password = "pw-head"
"#;

/// A running server.
pub struct TestServer {
    /// Base URL.
    pub url: String,
    /// The state (for admin calls).
    pub state: AppState,
    /// HTTP client.
    pub http: reqwest::Client,
    /// The database file (for admin commands run as a second process).
    pub db_path: std::path::PathBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl TestServer {
    /// Starts a server with the test organisation imported.
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let db_path = dir.path().join("server.db");
        let config = Config {
            db_path: db_path.clone(),
            ..Config::default()
        };
        let state = AppState::open(&config).expect("opens");
        state.admin().import_toml(ORG).expect("imports");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binds");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = state.clone();
        let task = tokio::spawn(async move {
            server::serve(listener, serving, async {
                let _ = stopped.await;
            })
            .await
            .expect("serves");
        });
        Self {
            url,
            state,
            http: reqwest::Client::new(),
            db_path,
            stop: Some(stop),
            task: Some(task),
            _dir: dir,
        }
    }

    /// Stops the server and waits for it.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task ends cleanly");
        }
    }

    /// Logs in; returns the status and JSON body.
    pub async fn login_raw(
        &self,
        user: &str,
        password: &str,
        actor: &ActorId,
    ) -> (StatusCode, Value) {
        let response = self
            .http
            .post(format!("{}/v1/login", self.url))
            .json(&json!({
                "user": user,
                "password": password,
                "device": format!("{user}-laptop"),
                "actor": actor.to_hex_string(),
            }))
            .send()
            .await
            .expect("login request");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Logs a user in with a fresh device.
    pub async fn login(&self, user: &str) -> Session {
        let actor = ActorId::random();
        let (status, body) = self
            .login_raw(
                user,
                &format!("pw-{user}").replace("pw-east.boss", "pw-boss"),
                &actor,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "login {user}: {body}");
        Session {
            token: body["token"].as_str().expect("token").to_string(),
            actor,
        }
    }

    /// Posts raw bytes to /v1/sync.
    pub async fn raw_sync(
        &self,
        token: Option<&str>,
        content_type: &str,
        body: Vec<u8>,
    ) -> (StatusCode, Vec<u8>) {
        let mut request = self
            .http
            .post(format!("{}/v1/sync", self.url))
            .header("content-type", content_type)
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("sync request");
        let status = response.status();
        (
            status,
            response
                .bytes()
                .await
                .map(|b| b.to_vec())
                .unwrap_or_default(),
        )
    }

    /// One sync exchange that must succeed.
    pub async fn sync(
        &self,
        session: &Session,
        cursor: u64,
        push: Vec<PushChange>,
        budget: u64,
    ) -> SyncResponse {
        let request = SyncRequest {
            protocol: PROTOCOL_VERSION,
            cursor,
            push,
            pull_budget: budget,
        };
        let body = zstd::encode_all(&protocol::encode(&request)[..], 3).expect("compresses");
        let (status, bytes) = self
            .raw_sync(Some(&session.token), CONTENT_TYPE, body)
            .await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&bytes)
        );
        let inflated = zstd::decode_all(&bytes[..]).expect("inflates");
        protocol::decode(&inflated).expect("decodes")
    }

    /// Pulls everything from `cursor`, page by page.
    pub async fn pull_all(&self, session: &Session, mut cursor: u64) -> (Vec<SyncResponse>, u64) {
        let mut pages = Vec::new();
        loop {
            let page = self
                .sync(session, cursor, Vec::new(), DEFAULT_PULL_BUDGET)
                .await;
            cursor = page.next_cursor;
            let more = page.more;
            pages.push(page);
            if !more {
                return (pages, cursor);
            }
        }
    }

    /// Whether the server still answers its health check.
    pub async fn healthy(&self) -> bool {
        match self
            .http
            .get(format!("{}/v1/health", self.url))
            .send()
            .await
        {
            Ok(r) => r.status() == StatusCode::OK && r.text().await.unwrap_or_default() == "ok",
            Err(_) => false,
        }
    }
}

/// A logged-in device.
pub struct Session {
    /// Bearer token.
    pub token: String,
    /// The device's actor.
    pub actor: ActorId,
}

/// A new customer document made by `actor`, and the change that created it.
pub fn new_customer(
    actor: &ActorId,
    name: &str,
    region: Option<&str>,
) -> (RecordId, AutoCommit, PushChange) {
    let id = RecordId::new();
    let mut customer = Customer::new(name, chrono::Utc::now());
    customer.region = region.map(Into::into);
    let mut doc = shared::doc::create(actor, id, &customer, &CommitMeta::now("create customer"))
        .expect("creates");
    let change = last_change(&mut doc, id);
    (id, doc, change)
}

/// The document's last local change, as a push.
pub fn last_change(doc: &mut AutoCommit, id: RecordId) -> PushChange {
    let change = doc.get_last_local_change().expect("a change");
    PushChange {
        doc_id: id,
        bytes: change.raw_bytes().to_vec(),
    }
}

/// Edits a customer's region as `actor` on a fork of `doc`; returns the change.
pub fn move_customer(
    doc: &mut AutoCommit,
    id: RecordId,
    actor: &ActorId,
    region: &str,
) -> PushChange {
    let mut fork = doc.fork().with_actor(actor.clone());
    let mut customer: Customer = shared::doc::read_as(&fork).expect("reads");
    customer.region = Some(region.to_string());
    shared::doc::update(&mut fork, &customer, &CommitMeta::now("move customer"))
        .expect("updates")
        .expect("changed");
    let change = last_change(&mut fork, id);
    *doc = fork;
    change
}

/// A new document for any record made by `actor`: its id and the change that created it.
pub fn new_record<T: shared::RecordType>(actor: &ActorId, record: &T) -> (RecordId, PushChange) {
    let id = RecordId::new();
    let mut doc =
        shared::doc::create(actor, id, record, &CommitMeta::now("create")).expect("creates");
    (id, last_change(&mut doc, id))
}

/// A GET with a bearer token; returns status, content type and body.
pub async fn get_raw(
    server: &TestServer,
    token: &str,
    path: &str,
) -> (StatusCode, String, Vec<u8>) {
    let response = server
        .http
        .get(format!("{}{path}", server.url))
        .bearer_auth(token)
        .send()
        .await
        .expect("GET request");
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = response
        .bytes()
        .await
        .map(|b| b.to_vec())
        .unwrap_or_default();
    (status, content_type, body)
}
pub mod flags;

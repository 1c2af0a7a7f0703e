//! The real `fieldsync-server` binary in a child process, so that a test can read its memory
//! from `/proc/PID/status` while flooding it from loopback.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use server::{AppState, Config};
use shared::protocol::{self, CONTENT_TYPE, PROTOCOL_VERSION, PushChange, SyncRequest};

/// The organisation the child serves (the in-process tests' one).
pub use crate::common::ORG;

/// A server running in a child process on a loopback port.
pub struct ChildServer {
    /// Base URL.
    pub url: String,
    /// The child's process id.
    pub pid: u32,
    /// HTTP client.
    pub http: reqwest::Client,
    child: Child,
    _dir: tempfile::TempDir,
}

impl ChildServer {
    /// Starts the binary with the test organisation and these `FIELDSYNC_*` settings.
    pub fn start(env: &[(&str, &str)]) -> ChildServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("server.db");
        let config = Config {
            db_path: db.clone(),
            ..Config::default()
        };
        AppState::open(&config)
            .expect("opens")
            .admin()
            .import_toml(ORG)
            .expect("imports");
        let mut child = Command::new(env!("CARGO_BIN_EXE_fieldsync-server"))
            .args(["serve", "--listen", "127.0.0.1:0", "--db"])
            .arg(&db)
            .envs(env.iter().copied())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the server binary starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let url = loop {
            let line = lines
                .next()
                .expect("the server prints its address")
                .expect("reads");
            if let Some(url) = line.strip_prefix("Fieldsync server listening on ") {
                break url.trim().to_string();
            }
        };
        // Keep reading its output so the child never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        ChildServer {
            url,
            pid: child.id(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(120))
                .build()
                .expect("client"),
            child,
            _dir: dir,
        }
    }

    /// The child's peak resident memory so far (`VmHWM`), in bytes.
    pub fn peak_rss(&self) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid)).expect("proc status");
        let line = status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))
            .expect("VmHWM line");
        let kib: u64 = line
            .split_whitespace()
            .nth(1)
            .and_then(|n| n.parse().ok())
            .expect("a number");
        kib * 1024
    }

    /// One login attempt: status, `Retry-After` if any, and the JSON body.
    pub async fn login(
        &self,
        user: &str,
        password: &str,
        actor: &str,
    ) -> (StatusCode, Option<u64>, Value) {
        let response = self
            .http
            .post(format!("{}/v1/login", self.url))
            .json(&json!({"user": user, "password": password, "device": "test", "actor": actor}))
            .send()
            .await
            .expect("login request");
        let status = response.status();
        let retry_after = retry_after(&response);
        (
            status,
            retry_after,
            response.json().await.unwrap_or(Value::Null),
        )
    }

    /// Logs `user` (password `pw-USER`) in on a fresh device; returns its token and actor.
    pub async fn device(&self, user: &str) -> (String, automerge::ActorId) {
        let actor = automerge::ActorId::random();
        let (status, _, body) = self
            .login(user, &format!("pw-{user}"), &actor.to_hex_string())
            .await;
        assert_eq!(status, StatusCode::OK, "login {user}: {body}");
        (body["token"].as_str().expect("token").to_string(), actor)
    }

    /// An honest sync pushing one new customer, waiting out every 429/503 as its
    /// `Retry-After` asks (a bounded number of times): the customer must be accepted.
    pub async fn honest_sync(&self, token: &str, actor: &automerge::ActorId, name: &str) {
        let (_, _, change) = crate::common::new_customer(actor, name, Some("EAST-HZ"));
        let body = body(vec![change]);
        for _ in 0..60 {
            let (status, retry_after, bytes) = self.sync_raw(token, body.clone()).await;
            if status == StatusCode::OK {
                let inflated = zstd::decode_all(&bytes[..]).expect("inflates");
                let response: shared::protocol::SyncResponse =
                    protocol::decode(&inflated).expect("decodes");
                assert_eq!(
                    response.acked, 1,
                    "the honest change is accepted: {response:?}"
                );
                return;
            }
            assert!(
                status == StatusCode::TOO_MANY_REQUESTS
                    || status == StatusCode::SERVICE_UNAVAILABLE,
                "an honest sync is answered {status}: {}",
                String::from_utf8_lossy(&bytes)
            );
            let seconds = retry_after.expect("a busy answer says when to retry");
            tokio::time::sleep(Duration::from_secs(seconds)).await;
        }
        panic!("the honest sync never got through");
    }

    /// Posts a compressed sync body: status, `Retry-After` if any, and the body.
    pub async fn sync_raw(&self, token: &str, body: Vec<u8>) -> (StatusCode, Option<u64>, Vec<u8>) {
        let response = self
            .http
            .post(format!("{}/v1/sync", self.url))
            .bearer_auth(token)
            .header("content-type", CONTENT_TYPE)
            .body(body)
            .send()
            .await
            .expect("sync request");
        let status = response.status();
        let retry_after = retry_after(&response);
        let bytes = response
            .bytes()
            .await
            .map(|b| b.to_vec())
            .unwrap_or_default();
        (status, retry_after, bytes)
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `Retry-After` seconds of an answer.
pub fn retry_after(response: &reqwest::Response) -> Option<u64> {
    response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// A compressed sync body pushing `push` and pulling from cursor 0.
pub fn body(push: Vec<PushChange>) -> Vec<u8> {
    let request = SyncRequest {
        protocol: PROTOCOL_VERSION,
        cursor: 0,
        push,
        pull_budget: protocol::DEFAULT_PULL_BUDGET,
    };
    zstd::encode_all(&protocol::encode(&request)[..], 19).expect("compresses")
}

/// 512 MiB: what the server may reach under any of these floods.
pub const RSS_BOUND: u64 = 512 * 1024 * 1024;

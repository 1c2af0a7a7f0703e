//! Helpers for end-to-end tests: laptops as real `fieldsync` processes on temporary homes, a
//! real sync server, and a proxy that breaks connections.

pub mod demo;
pub mod proxy;
pub mod server;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use tempfile::TempDir;

/// A laptop: a home directory and the real CLI binary run against it.
pub struct Laptop {
    home: TempDir,
    binary: PathBuf,
}

impl Laptop {
    /// A new laptop with a fresh home, signed in as `user` on `device`.
    pub fn new(binary: &str, user: &str, device: &str) -> Laptop {
        let laptop = Laptop {
            home: TempDir::new().expect("temporary home"),
            binary: PathBuf::from(binary),
        };
        laptop.ok(&[
            "init",
            "--user",
            user,
            "--device",
            device,
            "--tz",
            "Asia/Shanghai",
        ]);
        laptop
    }

    /// A second laptop that starts as a copy of this one's store but has its own device id.
    pub fn copy_as(&self, user: &str, device: &str) -> Laptop {
        let copy = Laptop {
            home: TempDir::new().expect("temporary home"),
            binary: self.binary.clone(),
        };
        // Merging into an empty store copies every document while the new store keeps its own
        // actor, exactly like a second laptop receiving the records.
        copy.ok(&["init", "--user", user, "--device", device]);
        copy.ok(&["merge", "--from", &self.home().display().to_string()]);
        copy
    }

    /// The home directory.
    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// Runs the CLI with these arguments.
    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(&self.binary)
            .arg("--home")
            .arg(self.home.path())
            .args(args)
            .env("LANG", "en_US.UTF-8")
            .output()
            .expect("run fieldsync")
    }

    /// Signs in to a server, giving the password on standard input as a script would.
    pub fn login(&self, url: &str, user: &str, password: &str) {
        let mut child = Command::new(&self.binary)
            .arg("--home")
            .arg(self.home.path())
            .args(["login", "--server", url, "--user", user, "--password-stdin"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run fieldsync login");
        if let Some(mut stdin) = child.stdin.take() {
            writeln!(stdin, "{password}").expect("password");
        }
        let output = child.wait_with_output().expect("login finishes");
        assert!(
            output.status.success(),
            "login failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Syncs; returns the JSON summary.
    pub fn sync(&self) -> Value {
        self.json(&["sync"])
    }

    /// The ids of the customers this laptop holds, sorted.
    pub fn customer_ids(&self) -> Vec<String> {
        let list = self.json(&["customer", "list", "--all"]);
        let mut ids: Vec<String> = list
            .as_array()
            .map(|rows| {
                rows.iter()
                    .filter_map(|r| r["id"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        ids.sort();
        ids
    }

    /// Runs a command that must succeed; returns its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "fieldsync {args:?} failed: {}{stdout}",
            String::from_utf8_lossy(&output.stderr)
        );
        stdout
    }

    /// Runs a command with `--json` that must succeed; returns the parsed output.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let stdout = self.ok(&all);
        serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("fieldsync {args:?} printed no JSON ({e}): {stdout}"))
    }

    /// Runs a command that creates something and returns the new id.
    pub fn create(&self, args: &[&str]) -> String {
        let value = self.json(args);
        value["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no id in {value}"))
            .to_string()
    }

    /// Runs a command that must fail; returns its stderr. Asserts it did not panic.
    pub fn fails(&self, args: &[&str]) -> String {
        let output = self.run(args);
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(
            !output.status.success(),
            "fieldsync {args:?} should have failed"
        );
        assert!(
            !stderr.contains("panicked"),
            "fieldsync {args:?} panicked: {stderr}"
        );
        stderr
    }

    /// Everything a person could see in the store, as JSON: every list and every record.
    pub fn snapshot(&self) -> Value {
        let mut all = serde_json::Map::new();
        for kind in ["customer", "dealer", "visit", "quote", "order"] {
            let list = self.json(&[kind, "list", "--all"]);
            let mut shown = Vec::new();
            for row in list.as_array().cloned().unwrap_or_default() {
                let id = row["id"].as_str().unwrap_or_default().to_string();
                shown.push(
                    serde_json::json!({"row": row, "record": self.json(&[kind, "show", &id])}),
                );
            }
            all.insert(kind.to_string(), Value::Array(shown));
        }
        all.insert("products".into(), self.json(&["product", "list"]));
        all.insert("conflicts".into(), self.json(&["conflicts", "list"]));
        Value::Object(all)
    }
}

//! A busy server answers 429/503 with `Retry-After`; the laptop waits that long, tells the user
//! "server busy, retrying", tries again, and completes its sync.

#![allow(clippy::unwrap_used)] // Test helpers outside #[test] functions unwrap too.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

use fieldsync_tests::Laptop;
use fieldsync_tests::server::TestServer;
use shared::protocol::CONTENT_TYPE;

const BIN: &str = env!("CARGO_BIN_EXE_fieldsync-e2e-laptop");

/// The laptop's device token, as its store keeps it.
fn token_of(laptop: &Laptop) -> String {
    let conn = rusqlite::Connection::open(laptop.home().join(client::home::DB_FILE)).unwrap();
    conn.query_row("SELECT value FROM meta WHERE key = 'token'", [], |r| {
        r.get(0)
    })
    .unwrap()
}

/// A sync from this device that sends its headers and part of its body, then stalls: the
/// server admits it and holds one of the device's slots until the connection closes.
fn stall(server: &TestServer, token: &str) -> TcpStream {
    let mut stream = TcpStream::connect(server.addr).unwrap();
    write!(
        stream,
        "POST /v1/sync HTTP/1.1\r\nhost: {}\r\nauthorization: Bearer {token}\r\n\
         content-type: {CONTENT_TYPE}\r\ncontent-length: 4096\r\n\r\n",
        server.addr
    )
    .unwrap();
    stream.write_all(&[0; 16]).unwrap();
    stream
}

/// Asks, as this device, until the server answers 429 (both of its slots are held).
fn wait_until_busy(server: &TestServer, token: &str) {
    let http = reqwest::blocking::Client::new();
    for _ in 0..500 {
        let status = http
            .post(format!("{}/v1/sync", server.url()))
            .bearer_auth(token)
            .header("content-type", CONTENT_TYPE)
            .body(vec![0u8; 8])
            .send()
            .unwrap()
            .status();
        if status.as_u16() == 429 {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("the stalled syncs never held the device's slots");
}

#[test]
fn the_laptop_waits_out_a_busy_server_and_completes() {
    let server = TestServer::start();
    let laptop = Laptop::new(BIN, "zhang.wei", "zhang-laptop");
    laptop.login(&server.url(), "zhang.wei", "pw-zhang");
    let id = laptop.create(&["customer", "add", "忙时客户", "--region", "EAST-SH"]);
    let token = token_of(&laptop);
    // A server allows two syncs in flight per device; two stalled ones take both.
    let stalled = [stall(&server, &token), stall(&server, &token)];
    wait_until_busy(&server, &token);

    let mut child = Command::new(BIN)
        .arg("--home")
        .arg(laptop.home())
        .arg("sync")
        .env("LANG", "en_US.UTF-8")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let notice = lines
        .by_ref()
        .map_while(Result::ok)
        .find(|line| line.contains("server busy, retrying"));
    assert!(
        notice.is_some(),
        "the laptop says it waits for a busy server"
    );
    // The server has room again; the laptop's next try goes through.
    drop(stalled);
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "sync failed: {rest:?}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("synced"));

    // The customer reached the server: a colleague's laptop receives it.
    let colleague = Laptop::new(BIN, "east.boss", "li-laptop"); // the manager: rule 2 keeps a colleague to her own customers
    colleague.login(&server.url(), "east.boss", "pw-boss");
    colleague.sync();
    assert_eq!(colleague.customer_ids(), vec![id]);
}

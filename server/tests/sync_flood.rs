//! Sync bodies that inflate to the cap cannot take the server's memory: every sync reserves
//! its memory from one budget before using it (503 with `Retry-After` past it), and one device
//! has only a few syncs in flight (429 with `Retry-After` past them).
//!
//! The server is the real binary in a child process, flooded from loopback a bounded number of
//! times; nothing here measures time.

mod child;
mod common;

use std::sync::Arc;

use child::{ChildServer, RSS_BOUND, body};
use reqwest::StatusCode;
use shared::RecordId;
use shared::protocol::{MAX_DECOMPRESSED_BYTES, PushChange};
use tokio::io::AsyncWriteExt;

/// About a kilobyte on the wire that inflates to just under the 32 MiB cap.
fn bomb() -> Vec<u8> {
    let change = PushChange {
        doc_id: RecordId::new(),
        bytes: vec![0; MAX_DECOMPRESSED_BYTES - 1024],
    };
    let bomb = body(vec![change]);
    assert!(bomb.len() < 16 * 1024, "the bomb is small: {}", bomb.len());
    bomb
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sync_bomb_flood_stays_bounded_and_honest_syncs_go_on() {
    let server = ChildServer::start(&[]);
    let (honest, actor) = server.device("hz1").await;
    let mut devices = Vec::new();
    for _ in 0..8 {
        devices.push(server.device("sh1").await.0);
    }
    let server = Arc::new(server);
    let bomb = Arc::new(bomb());
    let mut flood = Vec::new();
    // Eight devices, four bombs at once each, three rounds.
    for token in devices {
        for _ in 0..4 {
            let (server, bomb, token) = (server.clone(), bomb.clone(), token.clone());
            flood.push(tokio::spawn(async move {
                let mut answers = Vec::new();
                for _ in 0..3 {
                    answers.push(server.sync_raw(&token, bomb.to_vec()).await);
                }
                answers
            }));
        }
    }
    server.honest_sync(&honest, &actor, "轰炸中的客户").await;
    let mut refused = 0;
    for task in flood {
        for (status, retry_after, bytes) in task.await.expect("flood task") {
            match status {
                // The bomb got through the budget: its oversized change is refused by name.
                StatusCode::OK => {}
                StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
                    assert!(retry_after.is_some(), "a busy answer says when to retry");
                    refused += 1;
                }
                other => panic!(
                    "a bomb was answered {other}: {}",
                    String::from_utf8_lossy(&bytes)
                ),
            }
        }
    }
    let peak = server.peak_rss();
    println!("peak resident memory: {} MiB", peak / (1024 * 1024));
    assert!(
        peak < RSS_BOUND,
        "the server peaked at {} MiB under a sync-bomb flood",
        peak / (1024 * 1024)
    );
    assert!(refused > 0, "96 bombs at once cannot all fit the budget");
}

/// Opens a sync on a raw connection that sends its headers and part of its body, then stalls:
/// the server has admitted it and holds its slot until the connection closes.
async fn stalled_sync(server: &ChildServer, token: &str) -> tokio::net::TcpStream {
    let address = server.url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connects");
    let head = format!(
        "POST /v1/sync HTTP/1.1\r\nhost: {address}\r\nauthorization: Bearer {token}\r\n\
         content-type: {}\r\ncontent-length: 4096\r\n\r\n",
        shared::protocol::CONTENT_TYPE
    );
    stream.write_all(head.as_bytes()).await.expect("writes");
    stream.write_all(&[0; 16]).await.expect("writes");
    stream
}

#[tokio::test]
async fn one_device_has_few_syncs_in_flight() {
    let server = ChildServer::start(&[("FIELDSYNC_SYNC_PER_DEVICE", "1")]);
    let (token, _) = server.device("sh1").await;
    let (other, _) = server.device("sh1").await;
    let stalled = stalled_sync(&server, &token).await;
    // The stalled sync is admitted at some point after its headers arrive; ask until it is.
    let mut answer = None;
    for _ in 0..200 {
        let (status, retry_after, _) = server.sync_raw(&token, body(Vec::new())).await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            answer = Some(retry_after);
            break;
        }
        assert_eq!(status, StatusCode::OK);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let retry_after = answer.expect("a second sync from the same device is answered 429");
    assert!(retry_after.is_some_and(|s| s >= 1));
    // Another device of the same user is not held back.
    let (status, _, _) = server.sync_raw(&other, body(Vec::new())).await;
    assert_eq!(status, StatusCode::OK);
    // Once the stalled sync ends, the device syncs again.
    drop(stalled);
    let mut ok = false;
    for _ in 0..200 {
        let (status, _, _) = server.sync_raw(&token, body(Vec::new())).await;
        if status == StatusCode::OK {
            ok = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(ok, "the device's slot is given back when its sync ends");
}

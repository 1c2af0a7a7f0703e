//! Wrong passwords cannot take the server down: checks run on a bounded pool outside the
//! database lock, failed logins are limited per user and per address (429 with `Retry-After`),
//! and an unknown user is answered exactly like a wrong password.
//!
//! The server is the real binary in a child process, flooded from loopback a bounded number of
//! times; nothing here measures time.

mod child;
mod common;

use child::{ChildServer, RSS_BOUND};
use reqwest::StatusCode;

const ACTOR: &str = "00112233445566778899aabbccddeeff";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_wrong_password_flood_stays_bounded_and_syncs_go_on() {
    // The per-user and per-address limits are off, so every attempt really checks a password:
    // what bounds the memory here is the pool alone.
    let server = ChildServer::start(&[
        ("FIELDSYNC_LOGIN_ATTEMPTS_PER_USER", "0"),
        ("FIELDSYNC_LOGIN_ATTEMPTS_PER_ADDRESS", "0"),
    ]);
    let (token, actor) = server.device("hz1").await;
    let server = std::sync::Arc::new(server);
    let mut flood = Vec::new();
    for connection in 0..16 {
        let server = server.clone();
        flood.push(tokio::spawn(async move {
            let mut answers = Vec::new();
            for attempt in 0..12 {
                let user = if attempt % 2 == 0 { "sh1" } else { "nobody" };
                let password = format!("wrong-{connection}-{attempt}");
                answers.push(server.login(user, &password, ACTOR).await);
            }
            answers
        }));
    }
    // An honest laptop syncs while the flood runs.
    server.honest_sync(&token, &actor, "洪水中的客户").await;
    for task in flood {
        for (status, retry_after, body) in task.await.expect("flood task") {
            match status {
                StatusCode::UNAUTHORIZED => {}
                StatusCode::SERVICE_UNAVAILABLE => assert!(retry_after.is_some(), "{body}"),
                other => panic!("a wrong password was answered {other}: {body}"),
            }
        }
    }
    let peak = server.peak_rss();
    println!("peak resident memory: {} MiB", peak / (1024 * 1024));
    assert!(
        peak < RSS_BOUND,
        "the server peaked at {} MiB under a wrong-password flood",
        peak / (1024 * 1024)
    );
    // The pool is free again: the right password still works.
    server.device("sh1").await;
}

#[tokio::test]
async fn unknown_users_and_wrong_passwords_are_answered_and_limited_alike() {
    let server = ChildServer::start(&[
        ("FIELDSYNC_LOGIN_ATTEMPTS_PER_USER", "2"),
        ("FIELDSYNC_LOGIN_ATTEMPTS_PER_ADDRESS", "0"),
    ]);
    let (wrong_status, _, wrong) = server.login("sh1", "wrong", ACTOR).await;
    let (unknown_status, _, unknown) = server.login("nobody", "wrong", ACTOR).await;
    assert_eq!(wrong_status, StatusCode::UNAUTHORIZED);
    assert_eq!((unknown_status, &unknown), (wrong_status, &wrong));
    // Each name has one failed attempt left this minute, then 429 for both alike.
    for user in ["sh1", "nobody"] {
        let (status, _, _) = server.login(user, "wrong", ACTOR).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, retry_after, body) = server.login(user, "wrong", ACTOR).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{user}: {body}");
        assert_eq!(body["error"], "rate_limited");
        assert!(
            retry_after.is_some_and(|s| s >= 1),
            "429 says when to retry"
        );
    }
    // Another user is not held back by sh1's failures, and a success does not count.
    for _ in 0..3 {
        server.device("hz1").await;
    }
}

#[tokio::test]
async fn failed_logins_are_limited_per_address() {
    let server = ChildServer::start(&[
        ("FIELDSYNC_LOGIN_ATTEMPTS_PER_USER", "0"),
        ("FIELDSYNC_LOGIN_ATTEMPTS_PER_ADDRESS", "3"),
    ]);
    for user in ["sh1", "sh2", "hz1"] {
        let (status, _, _) = server.login(user, "wrong", ACTOR).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    // Three failures from this address: a fourth name, even with its right password, waits.
    let (status, retry_after, body) = server.login("bj1", "pw-bj1", ACTOR).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(retry_after.is_some_and(|s| s >= 1));
}

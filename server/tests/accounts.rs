//! Login, tokens, revocation.

mod common;

use automerge::ActorId;
use common::TestServer;
use reqwest::StatusCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_me_logout_and_revocation() {
    let server = TestServer::start().await;
    let actor = ActorId::random();

    let (status, body) = server.login_raw("sh1", "wrong", &actor).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "unauthorized");
    let (status, _) = server.login_raw("nobody", "pw", &actor).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (status, body) = server.login_raw("sh1", "pw-sh1", &actor).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["role"], "salesperson");
    assert_eq!(body["territory"], "EAST-SH");
    let token = body["token"].as_str().expect("token").to_string();
    assert_eq!(token.len(), 64);

    // The same actor cannot be registered to another user.
    let (status, body) = server.login_raw("sh2", "pw-sh2", &actor).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    let me = server
        .http
        .get(format!("{}/v1/me", server.url))
        .bearer_auth(&token)
        .send()
        .await
        .expect("me");
    assert_eq!(me.status(), StatusCode::OK);
    let me: serde_json::Value = me.json().await.expect("json");
    assert_eq!(me["user"], "sh1");

    let (status, _) = server
        .raw_sync(None, shared::protocol::CONTENT_TYPE, vec![1, 2, 3])
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = server
        .raw_sync(Some("not-a-token"), shared::protocol::CONTENT_TYPE, vec![1])
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let out = server
        .http
        .post(format!("{}/v1/logout", server.url))
        .bearer_auth(&token)
        .send()
        .await
        .expect("logout");
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    let me = server
        .http
        .get(format!("{}/v1/me", server.url))
        .bearer_auth(&token)
        .send()
        .await
        .expect("me");
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);

    // An admin revoking a user's devices: the device can no longer log in (its wipe on the
    // next sync is tested in server/tests/scope.rs).
    let session = server.login("sh2").await;
    assert_eq!(
        server
            .state
            .admin()
            .revoke_devices("sh2", None)
            .expect("revokes"),
        1
    );
    let (status, body) = server.login_raw("sh2", "pw-sh2", &session.actor).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    // Malformed login bodies are 400s with a JSON error.
    let bad = server
        .http
        .post(format!("{}/v1/login", server.url))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("login");
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_rules_hold() {
    let server = TestServer::start().await;
    let admin = server.state.admin();
    assert!(admin.add_territory("OTHER-ROOT", "x", None).is_err());
    assert!(admin.add_territory("X", "x", Some("NOPE")).is_err());
    assert!(
        admin
            .add_territory("EAST", "华东", Some("EAST-SH"))
            .is_err(),
        "cycle"
    );
    admin
        .add_territory("EAST-NJ", "南京办事处", Some("EAST"))
        .expect("adds");
    admin
        .add_user(
            "nj1",
            "pw-nj1",
            server::accounts::Role::Salesperson,
            "EAST-NJ",
        )
        .expect("adds user");
    assert!(
        admin
            .add_user("x", "pw", server::accounts::Role::Salesperson, "NOPE")
            .is_err()
    );
    let users = admin.list_users().expect("lists");
    assert!(
        users
            .iter()
            .any(|u| u.name == "nj1" && u.territory == "EAST-NJ")
    );
    let summary = admin
        .import_toml("[[user]]\nname = \"new.one\"\nrole = \"admin\"\nterritory = \"CN\"\n")
        .expect("imports");
    assert_eq!(summary.generated_passwords.len(), 1);
    assert!(
        admin
            .import_toml("[[territory]]\ncode = \"Z\"\nname = \"z\"\nparent = \"Q\"\n")
            .is_err()
    );
    server.stop().await;
}

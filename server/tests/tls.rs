//! HTTPS: with a certificate and key the server speaks TLS (rustls); without them it refuses to
//! serve plain HTTP anywhere but loopback.

#![allow(clippy::unwrap_used)] // Test helpers outside #[test] functions unwrap too.

use server::{AppState, Config};

#[tokio::test]
async fn serves_https_with_a_certificate_and_not_plain_http() {
    let dir = tempfile::tempdir().unwrap();
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert_pem = certified.cert.pem();
    std::fs::write(dir.path().join("cert.pem"), &cert_pem).unwrap();
    std::fs::write(
        dir.path().join("key.pem"),
        certified.signing_key.serialize_pem(),
    )
    .unwrap();
    let config = Config {
        db_path: dir.path().join("server.db"),
        tls_cert: Some(dir.path().join("cert.pem")),
        tls_key: Some(dir.path().join("key.pem")),
        ..Config::default()
    };
    let state = AppState::open(&config).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server::serve(listener, state, async {
        let _ = stopped.await;
    }));

    let trusting = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    let url = format!("https://localhost:{port}/v1/health");
    let mut answer = None;
    for _ in 0..50 {
        if let Ok(response) = trusting.get(&url).send().await {
            answer = Some(response);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let response = answer.expect("the HTTPS server answers");
    assert!(response.status().is_success());
    assert_eq!(response.text().await.unwrap(), "ok");

    // A client that does not trust the certificate is refused by its own TLS check, and plain
    // HTTP to the TLS port gets no HTTP answer.
    assert!(reqwest::Client::new().get(&url).send().await.is_err());
    let plain = reqwest::Client::new()
        .get(format!("http://localhost:{port}/v1/health"))
        .send()
        .await;
    assert!(plain.map(|r| !r.status().is_success()).unwrap_or(true));

    let _ = stop.send(());
    task.await.unwrap().unwrap();
}

#[test]
fn plain_http_is_refused_off_loopback_unless_allowed() {
    let open: std::net::SocketAddr = "0.0.0.0:8440".parse().unwrap();
    let loopback: std::net::SocketAddr = "127.0.0.1:8440".parse().unwrap();
    let config = Config::default();
    assert!(server::check_plain_http(open, &config).is_err());
    assert!(server::check_plain_http(loopback, &config).is_ok());
    let allowed = Config {
        allow_plain_http_off_loopback: true,
        ..Config::default()
    };
    assert!(server::check_plain_http(open, &allowed).is_ok());
}

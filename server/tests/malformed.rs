//! Hostile and broken input: always a 4xx (or a `malformed` rejection), never a crash.

mod common;

use std::io::Write;

use common::{Session, TestServer, new_customer};
use flate2::Compression;
use flate2::write::DeflateEncoder;
use reqwest::StatusCode;
use shared::RecordId;
use shared::protocol::{
    self, CONTENT_TYPE, DEFAULT_PULL_BUDGET, MAX_CHANGE_BYTES, MAX_REQUEST_BYTES, PROTOCOL_VERSION,
    PushChange, SyncRequest,
};

const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];

fn leb(mut value: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

fn compressed_chunk(checksum: &[u8], body: &[u8]) -> Vec<u8> {
    let mut encoder = DeflateEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(body).expect("deflates");
    let deflated = encoder.finish().expect("deflates");
    let mut chunk = MAGIC.to_vec();
    chunk.extend_from_slice(checksum);
    chunk.push(2);
    chunk.extend(leb(deflated.len() as u64));
    chunk.extend(deflated);
    chunk
}

async fn expect_status(server: &TestServer, session: &Session, body: Vec<u8>, want: StatusCode) {
    let (status, bytes) = server
        .raw_sync(Some(&session.token), CONTENT_TYPE, body)
        .await;
    assert_eq!(status, want, "{}", String::from_utf8_lossy(&bytes));
    let error: serde_json::Value = serde_json::from_slice(&bytes).expect("a JSON error");
    assert!(error["error"].is_string() && error["message"].is_string());
    assert!(server.healthy().await);
}

fn request(push: Vec<PushChange>) -> Vec<u8> {
    let request = SyncRequest {
        protocol: PROTOCOL_VERSION,
        cursor: 0,
        push,
        pull_budget: DEFAULT_PULL_BUDGET,
    };
    zstd::encode_all(&protocol::encode(&request)[..], 3).expect("compresses")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_bodies_are_4xx_and_the_server_keeps_serving() {
    let server = TestServer::start().await;
    let sh1 = server.login("sh1").await;

    // Not zstd at all.
    expect_status(
        &server,
        &sh1,
        b"hello, garbage".to_vec(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    // Valid zstd of garbage.
    let junk = zstd::encode_all(&[0xffu8; 1000][..], 3).expect("compresses");
    expect_status(&server, &sh1, junk, StatusCode::BAD_REQUEST).await;
    // A decompression bomb: 100 MB of zeros.
    let bomb = zstd::encode_all(&vec![0u8; 100 * 1024 * 1024][..], 3).expect("compresses");
    assert!(bomb.len() < MAX_REQUEST_BYTES);
    expect_status(&server, &sh1, bomb, StatusCode::PAYLOAD_TOO_LARGE).await;
    // Over the body limit.
    let big = vec![7u8; MAX_REQUEST_BYTES + 1024];
    let (status, _) = server.raw_sync(Some(&sh1.token), CONTENT_TYPE, big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(server.healthy().await);
    // Wrong content type.
    let (status, _) = server
        .raw_sync(Some(&sh1.token), "application/json", request(vec![]))
        .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // Wrong protocol version.
    let other = SyncRequest {
        protocol: 99,
        cursor: 0,
        push: vec![],
        pull_budget: 1,
    };
    let body = zstd::encode_all(&protocol::encode(&other)[..], 3).expect("compresses");
    expect_status(&server, &sh1, body, StatusCode::BAD_REQUEST).await;
    // Empty body.
    expect_status(&server, &sh1, Vec::new(), StatusCode::BAD_REQUEST).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_changes_are_rejected_one_by_one() {
    let server = TestServer::start().await;
    let sh1 = server.login("sh1").await;
    let (id, mut doc, good) = new_customer(&sh1.actor, "好客户", Some("EAST-SH"));
    let raw = good.bytes.clone();
    let doc_id = RecordId::new();
    let push = |bytes: Vec<u8>| PushChange { doc_id, bytes };

    let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();
    cases.push(("truncated", raw[..raw.len() / 2].to_vec()));
    let mut bad_len = raw.clone();
    bad_len[9] ^= 0x55;
    cases.push(("corrupted length", bad_len));
    let mut bad_sum = raw.clone();
    bad_sum[5] ^= 0xff;
    cases.push(("corrupted checksum", bad_sum));
    let mut random = MAGIC.to_vec();
    random.extend((0..500u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    cases.push(("random after magic", random));
    cases.push((
        "inflation bomb",
        compressed_chunk(&raw[4..8], &vec![0u8; MAX_CHANGE_BYTES * 2]),
    ));
    cases.push(("deflate garbage", {
        let mut chunk = MAGIC.to_vec();
        chunk.extend([1, 2, 3, 4, 2, 4, 0xde, 0xad, 0xbe, 0xef]);
        chunk
    }));
    cases.push(("whole document", doc.save()));
    cases.push(("empty", Vec::new()));
    // Huge declared length with a tiny body.
    let mut huge = MAGIC.to_vec();
    huge.extend([0, 0, 0, 0, 1]);
    huge.extend(leb(u64::MAX / 2));
    huge.extend([1, 2, 3]);
    cases.push(("huge declared length", huge));

    let count = cases.len();
    let mut pushes: Vec<PushChange> = cases.iter().map(|(_, b)| push(b.clone())).collect();
    pushes.push(good.clone());
    let answer = server.sync(&sh1, 0, pushes, DEFAULT_PULL_BUDGET).await;
    assert_eq!(answer.rejected.len(), count, "{:#?}", answer.rejected);
    for (index, ((name, _), rejection)) in cases.iter().zip(&answer.rejected).enumerate() {
        assert!(
            rejection.code == "malformed" || rejection.code == "invalid_record",
            "{name}: {rejection:?}"
        );
        // Every refusal names the change it refuses by its place in the request, even one too
        // broken to have a hash: that is how the laptop knows which edit was refused.
        assert_eq!(rejection.index as usize, index, "{name}: {rejection:?}");
    }
    assert_eq!(
        answer.acked as usize, 1,
        "the good change behind the bad ones is stored"
    );
    assert_eq!(id, good.doc_id);

    // A legitimately compressed change chunk is inflated, checked and accepted.
    let (id2, _, second) = new_customer(&sh1.actor, "压缩客户", Some("EAST-SH"));
    let plain = &second.bytes;
    let (declared_len, leb_len) = {
        let mut value = 0u64;
        let mut n = 0;
        for (i, b) in plain[9..].iter().enumerate() {
            value |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                n = i + 1;
                break;
            }
        }
        (value, n)
    };
    let body = &plain[9 + leb_len..];
    assert_eq!(declared_len as usize, body.len());
    let compressed = compressed_chunk(&plain[4..8], body);
    let answer = server
        .sync(
            &sh1,
            0,
            vec![PushChange {
                doc_id: id2,
                bytes: compressed,
            }],
            DEFAULT_PULL_BUDGET,
        )
        .await;
    assert_eq!(answer.acked as usize, 1, "{:?}", answer.rejected);

    // Random corruption of a valid change, many times over: never a 5xx.
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for round in 0..200 {
        let mut bytes = raw.clone();
        for _ in 0..(1 + round % 4) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let at = (seed as usize) % bytes.len();
            bytes[at] = (seed >> 32) as u8;
        }
        let (status, body) = server
            .raw_sync(Some(&sh1.token), CONTENT_TYPE, request(vec![push(bytes)]))
            .await;
        assert_eq!(
            status,
            StatusCode::OK,
            "round {round}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    assert!(server.healthy().await);
    server.stop().await;
}

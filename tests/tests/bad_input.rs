//! Bad input: each a clear message naming the field, a non-zero exit, and the store unchanged.
//! Damaged files: a clear error, never a panic, nothing dropped.

#![allow(clippy::unwrap_used)] // Test helpers outside #[test] functions unwrap too.

use fieldsync_tests::Laptop;

const BIN: &str = env!("CARGO_BIN_EXE_fieldsync-e2e-laptop");

#[test]
fn every_bad_value_is_refused_by_name_and_changes_nothing() {
    let laptop = Laptop::new(BIN, "zhang.wei", "laptop-zw");
    let customer = laptop.create(&["customer", "add", "杭州西湖茶业有限公司"]);
    let quote = laptop.create(&["quote", "new", "--customer", &customer]);
    laptop.ok(&[
        "quote",
        "add-line",
        &quote,
        "--product",
        "TEA",
        "--qty",
        "2",
        "--price",
        "88",
    ]);
    let before = laptop.snapshot();
    let pending_before = laptop.json(&["status"])["pending_changes"].clone();

    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "quote",
                "add-line",
                &quote,
                "--product",
                "TEA",
                "--qty",
                "12,5",
                "--price",
                "1",
            ],
            "qty: `12,5` is not a decimal",
        ),
        (
            &[
                "quote",
                "add-line",
                &quote,
                "--product",
                "TEA",
                "--qty",
                "1e3",
                "--price",
                "1",
            ],
            "qty: `1e3` is not a decimal",
        ),
        (
            &[
                "quote",
                "add-line",
                &quote,
                "--product",
                "TEA",
                "--qty",
                "1",
                "--price",
                "abc",
            ],
            "price: `abc` is not a decimal",
        ),
        (
            &[
                "quote",
                "add-line",
                &quote,
                "--product",
                "TEA",
                "--qty",
                "-2",
                "--price",
                "1",
            ],
            "qty: must be greater than zero",
        ),
        (
            &[
                "quote",
                "add-line",
                &quote,
                "--product",
                "TEA",
                "--qty",
                "1",
                "--price",
                "1",
                "--discount",
                "150",
            ],
            "discount: must be between 0 and 100",
        ),
        (
            &["quote", "new", "--customer", &customer, "--currency", "RMB"],
            "currency: `RMB` is not an ISO 4217",
        ),
        (
            &["quote", "edit", &quote, "--valid-until", "2026-13-01"],
            "valid_until: `2026-13-01` is not a date",
        ),
        (
            &["visit", "add", "--customer", &customer, "--at", "tomorrow"],
            "at: `tomorrow` is not a date",
        ),
        (
            &[
                "visit",
                "add",
                "--customer",
                &customer,
                "--tz",
                "Mars/Olympus",
            ],
            "tz: `Mars/Olympus` is not a time zone",
        ),
        (
            &[
                "visit",
                "add",
                "--customer",
                "01234567-89ab-7def-8123-456789abcdef",
            ],
            "no customer with id",
        ),
        (
            &["customer", "edit", "nonsense", "--phone", "1"],
            "no customer with id `nonsense`",
        ),
        (&["customer", "add", "  "], "name: is required"),
        (
            &["customer", "add", "某公司", "--credit-limit", "-5"],
            "credit_limit: must not be negative",
        ),
        (
            &["customer", "add", "某公司", "--grade", "platinum"],
            "`platinum` is not one of: key, general, occasional",
        ),
        (
            &["customer", "add", "某公司", "--tax-id", "123"],
            "basics.tax_id",
        ),
        (
            &["quote", "edit", &quote, "--line", "7", "--qty", "1"],
            "no line `7`",
        ),
        (
            &[
                "conflicts",
                "resolve",
                &customer,
                "basics.phone",
                "--pick",
                "1",
            ],
            "no conflict at `basics.phone`",
        ),
    ];
    for (args, expected) in cases {
        let stderr = laptop.fails(args);
        assert!(
            stderr.contains(expected),
            "fieldsync {args:?}: expected {expected:?} in {stderr:?}"
        );
    }
    // Scripts get the same errors as JSON, with each field named.
    let output = laptop.run(&[
        "--json",
        "quote",
        "add-line",
        &quote,
        "--product",
        "TEA",
        "--qty",
        "x",
        "--price",
        "y",
    ]);
    let error: serde_json::Value = serde_json::from_slice(&output.stderr).expect("JSON error");
    let fields: Vec<&str> = error["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["qty", "price"]);

    assert_eq!(
        laptop.snapshot(),
        before,
        "a refused command changed the store"
    );
    assert_eq!(laptop.json(&["status"])["pending_changes"], pending_before);
}

#[test]
fn a_damaged_database_file_is_a_clear_error() {
    let laptop = Laptop::new(BIN, "zhang.wei", "laptop-zw");
    laptop.create(&["customer", "add", "南京金陵贸易有限公司"]);
    let db = laptop.home().join("fieldsync.db");
    // Fold the WAL into the main file first so the damage below hits real data.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.pragma_update(None, "wal_checkpoint", "TRUNCATE")
        .unwrap();
    drop(conn);

    std::fs::write(
        &db,
        b"this is not a database at all, just some text that a sync tool wrote here",
    )
    .unwrap();
    let stderr = laptop.fails(&["customer", "list"]);
    assert!(
        stderr.contains("damaged or not a Fieldsync store"),
        "{stderr}"
    );

    let bytes = vec![0u8; 3000];
    std::fs::write(&db, [b"SQLite format 3\0".as_slice(), &bytes].concat()).unwrap();
    let stderr = laptop.fails(&["customer", "list"]);
    assert!(stderr.contains("error"), "{stderr}");
}

#[test]
fn an_unreadable_document_is_set_aside_and_reported_not_dropped() {
    let laptop = Laptop::new(BIN, "zhang.wei", "laptop-zw");
    let good = laptop.create(&["customer", "add", "苏州姑苏食品有限公司"]);
    let bad = laptop.create(&["customer", "add", "无锡太湖饮料有限公司"]);
    let db = laptop.home().join("fieldsync.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute(
        "UPDATE documents SET snapshot = substr(snapshot, 1, 40) WHERE doc_id = ?1",
        [&bad],
    )
    .unwrap();
    drop(conn);

    let stderr = laptop.fails(&["customer", "show", &bad]);
    assert!(stderr.contains("set aside in quarantine"), "{stderr}");
    let stderr = laptop.fails(&["customer", "edit", &bad, "--phone", "1"]);
    assert!(stderr.contains("quarantine"), "{stderr}");
    // The rest of the store works, and the damaged document's bytes are still there.
    laptop.ok(&["customer", "edit", &good, "--phone", "0512-1"]);
    assert_eq!(laptop.json(&["status"])["quarantined"], 1);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let kept: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM documents WHERE doc_id = ?1",
            [&bad],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(kept, 1);
}

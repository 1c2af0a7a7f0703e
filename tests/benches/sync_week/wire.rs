//! What is on both sides before and after the measured sync, and what had to cross: both
//! sides' documents read from their SQLite files, the floor (raw changes, zstd), and the
//! measured request and response rebuilt from the same data to see where our bytes go.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, Result};
use client::Store;
use client::store::Outgoing;
use client::sync::SyncOptions;
use rusqlite::{Connection, OpenFlags};
use shared::RecordId;
use shared::protocol::{
    self, ActorInfo, PROTOCOL_VERSION, PullChange, PushChange, SyncRequest, SyncResponse,
};

use crate::setup::TERRITORY;

/// Documents by id, as bytes Automerge can load.
pub type Documents = BTreeMap<String, Vec<u8>>;

fn read_only(path: &Path) -> Result<Connection> {
    Ok(Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY,
    )?)
}

/// Rows of (document id, bytes) from a query whose parameters are `params`.
fn id_bytes_rows<P: rusqlite::Params>(
    conn: &Connection,
    sql: &str,
    params: P,
) -> Result<Vec<(String, Vec<u8>)>> {
    let mut statement = conn.prepare(sql)?;
    let rows = statement.query_map(params, |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Every document a laptop holds, as bytes Automerge can load (snapshot then changes).
pub fn laptop_documents(store: &Store) -> Result<Documents> {
    let conn = read_only(store.path())?;
    let mut out: Documents = id_bytes_rows(&conn, "SELECT doc_id, snapshot FROM documents", [])?
        .into_iter()
        .collect();
    for (id, bytes) in id_bytes_rows(
        &conn,
        "SELECT doc_id, bytes FROM doc_changes ORDER BY id",
        [],
    )? {
        if let Some(doc) = out.get_mut(&id) {
            doc.extend_from_slice(&bytes);
        }
    }
    Ok(out)
}

/// Every document the server holds in the territory: its stored snapshots.
pub fn server_documents(db_path: &Path) -> Result<Documents> {
    let conn = read_only(db_path)?;
    Ok(id_bytes_rows(
        &conn,
        "SELECT doc_id, snapshot FROM documents WHERE territory = ?1",
        [TERRITORY],
    )?
    .into_iter()
    .collect())
}

/// The floor: the changes that had to cross, concatenated raw in one envelope per direction,
/// uncompressed and compressed like the wire.
pub struct Floor {
    pub raw_up: u64,
    pub raw_down: u64,
    pub up: u64,
    pub down: u64,
}

impl Floor {
    /// Both directions' changes, concatenated and compressed.
    pub fn of(up: &[Vec<u8>], down: &[Vec<u8>]) -> Result<Floor> {
        let (raw_up, up) = envelope(up)?;
        let (raw_down, down) = envelope(down)?;
        Ok(Floor {
            raw_up,
            raw_down,
            up,
            down,
        })
    }

    /// Compressed bytes both ways.
    pub fn total(&self) -> u64 {
        self.up + self.down
    }
}

/// Changes concatenated raw and compressed like the wire: (raw bytes, compressed bytes).
fn envelope(changes: &[Vec<u8>]) -> Result<(u64, u64)> {
    let raw: Vec<u8> = changes.concat();
    Ok((raw.len() as u64, zstd_len(&raw)?))
}

/// Where our bytes go: the measured request and response rebuilt from the same data (they
/// compress to the measured sizes when the rebuild is faithful), then without the
/// acknowledgements, and the floor with each change's document id beside it.
pub struct Breakdown {
    pub request: u64,
    pub response: u64,
    pub response_without_acks: u64,
    pub floor_with_ids_up: u64,
    pub floor_with_ids_down: u64,
    /// Every change the laptop had to receive: the other salesperson's and any the server itself
    /// wrote meanwhile (its flags), in log order.
    pub down_changes: Vec<Vec<u8>>,
}

impl Breakdown {
    /// The floor with document ids, both ways.
    pub fn floor_with_ids(&self) -> u64 {
        self.floor_with_ids_up + self.floor_with_ids_down
    }
}

fn zstd_len(bytes: &[u8]) -> Result<u64> {
    Ok(zstd::encode_all(bytes, 3)?.len() as u64)
}

/// Rebuilds the measured exchange: the laptop's `outbox` pushed from `cursor`, and every change
/// the server logged after `cursor` that the laptop did not write.
pub fn breakdown(db_path: &Path, outbox: &[Outgoing], cursor: u64) -> Result<Breakdown> {
    let request = SyncRequest {
        protocol: PROTOCOL_VERSION,
        cursor,
        push: outbox
            .iter()
            .map(|o| PushChange {
                doc_id: o.doc_id,
                bytes: o.bytes.clone(),
            })
            .collect(),
        pull_budget: SyncOptions::default().pull_budget,
    };
    let conn = read_only(db_path)?;
    let mut statement = conn.prepare(
        "SELECT seq, doc_id, bytes FROM changes
         WHERE seq > ?1 AND bytes IS NOT NULL AND user <> 'sh1' ORDER BY seq",
    )?;
    let mut changes = Vec::new();
    for row in statement.query_map([cursor as i64], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Vec<u8>>(2)?,
        ))
    })? {
        let (seq, doc_id, bytes) = row?;
        changes.push(PullChange {
            seq: seq as u64,
            doc_id: doc_id.parse().context("a document id")?,
            bytes,
        });
    }
    let last: i64 = conn.query_row("SELECT MAX(seq) FROM changes", [], |r| r.get(0))?;
    // The actor directory the server sends beside the changes: who wrote the pulled documents.
    let docs: BTreeSet<String> = changes.iter().map(|c| c.doc_id.to_string()).collect();
    let mut who = conn.prepare(
        "SELECT DISTINCT d.actor, d.user, d.device FROM changes c
         JOIN devices d ON d.actor = c.actor WHERE c.doc_id = ?1",
    )?;
    let mut actors = BTreeSet::new();
    for doc in &docs {
        for row in who.query_map([doc], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })? {
            actors.insert(row?);
        }
    }
    let mut response = SyncResponse {
        acked: u32::try_from(outbox.len())?,
        held: Vec::new(),
        rejected: Vec::new(),
        changes,
        purge: Vec::new(),
        next_cursor: last as u64,
        more: false,
        actors: actors
            .into_iter()
            .map(|(actor, user, device)| ActorInfo {
                actor,
                user,
                device,
            })
            .collect(),
    };
    let with_ids = |items: &mut dyn Iterator<Item = (RecordId, &Vec<u8>)>| -> Result<u64> {
        let mut framed = Vec::new();
        for (id, bytes) in items {
            framed.extend_from_slice(id.as_uuid().as_bytes());
            framed.extend_from_slice(bytes);
        }
        zstd_len(&framed)
    };
    let floor_with_ids_up = with_ids(&mut outbox.iter().map(|o| (o.doc_id, &o.bytes)))?;
    let floor_with_ids_down = with_ids(&mut response.changes.iter().map(|c| (c.doc_id, &c.bytes)))?;
    let response_len = zstd_len(&protocol::encode(&response))?;
    let down_changes = response.changes.iter().map(|c| c.bytes.clone()).collect();
    response.acked = 0;
    Ok(Breakdown {
        request: zstd_len(&protocol::encode(&request))?,
        response: response_len,
        response_without_acks: zstd_len(&protocol::encode(&response))?,
        floor_with_ids_up,
        floor_with_ids_down,
        down_changes,
    })
}

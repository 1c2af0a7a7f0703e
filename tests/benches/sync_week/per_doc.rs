//! Automerge's own per-document sync protocol over every document, for comparison: one
//! `sync::State` per document on each side, all documents' messages of a round batched into one
//! exchange.

use std::collections::{BTreeSet, HashMap};

use anyhow::{Context, Result, bail};
use automerge::AutoCommit;
use automerge::sync::{self, SyncDoc};
use serde_json::{Value, json};
use shared::RecordId;

use crate::wire::Documents;

/// Persisted sync states by document: (laptop's, server's), as `State::encode` writes them.
type States = HashMap<String, (Vec<u8>, Vec<u8>)>;

/// One document on both sides of Automerge's per-document protocol.
struct Pair {
    id: [u8; 16],
    laptop: AutoCommit,
    server: AutoCommit,
    laptop_state: sync::State,
    server_state: sync::State,
}

/// Which side of a pair speaks.
#[derive(Clone, Copy)]
enum Side {
    Laptop,
    Server,
}

impl Pair {
    /// One side's document and its sync state.
    fn side(&mut self, side: Side) -> (&mut AutoCommit, &mut sync::State) {
        match side {
            Side::Laptop => (&mut self.laptop, &mut self.laptop_state),
            Side::Server => (&mut self.server, &mut self.server_state),
        }
    }
}

/// What the per-document protocol cost.
#[derive(Default)]
pub struct PerDoc {
    documents: u64,
    pub round_trips: u64,
    messages_up: u64,
    messages_down: u64,
    pub raw_up: u64,
    pub raw_down: u64,
    pub batched_up: u64,
    pub batched_down: u64,
    converged: bool,
}

impl PerDoc {
    /// Messages both ways.
    pub fn messages(&self) -> u64 {
        self.messages_up + self.messages_down
    }
    /// Uncompressed message bytes both ways.
    pub fn raw(&self) -> u64 {
        self.raw_up + self.raw_down
    }
    /// Batched, compressed bytes both ways.
    pub fn batched(&self) -> u64 {
        self.batched_up + self.batched_down
    }
    /// The figures as a JSON object.
    pub fn json(&self) -> Value {
        json!({
            "documents": self.documents,
            "round_trips": self.round_trips,
            "messages": self.messages(),
            "messages_up": self.messages_up,
            "messages_down": self.messages_down,
            "bytes_raw_up": self.raw_up,
            "bytes_raw_down": self.raw_down,
            "bytes_raw": self.raw(),
            "bytes_batched_zstd_up": self.batched_up,
            "bytes_batched_zstd_down": self.batched_down,
            "bytes_batched_zstd": self.batched(),
            "converged": self.converged,
        })
    }
}

/// A document from its bytes, or an empty one when that side does not hold it.
pub fn load(bytes: Option<&Vec<u8>>) -> Result<AutoCommit> {
    match bytes {
        Some(bytes) => AutoCommit::load(bytes).context("loading a document"),
        None => Ok(AutoCommit::new()),
    }
}

fn doc_key(id: &str) -> Result<[u8; 16]> {
    let id: RecordId = id.parse().context("a document id")?;
    Ok(*id.as_uuid().as_bytes())
}

/// Builds both sides for every document either side holds. A document only one side holds is
/// an empty document on the other (the per-document protocol needs some list of documents to
/// run over; giving it the union for free is generous to it).
fn pairs(laptop: &Documents, server: &Documents, states: &States) -> Result<Vec<Pair>> {
    let ids: BTreeSet<&String> = laptop.keys().chain(server.keys()).collect();
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let (laptop_state, server_state) = match states.get(id) {
            Some((l, s)) => (
                sync::State::decode(l).context("decoding a sync state")?,
                sync::State::decode(s).context("decoding a sync state")?,
            ),
            None => (sync::State::new(), sync::State::new()),
        };
        out.push(Pair {
            id: doc_key(id)?,
            laptop: load(laptop.get(id))?,
            server: load(server.get(id))?,
            laptop_state,
            server_state,
        });
    }
    Ok(out)
}

/// One direction's batch: each message framed by its document id and length, then zstd.
fn batch_size(messages: &[(usize, Vec<u8>)], pairs: &[Pair]) -> Result<u64> {
    let mut framed = Vec::new();
    for (i, bytes) in messages {
        framed.extend_from_slice(&pairs[*i].id);
        framed.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        framed.extend_from_slice(bytes);
    }
    Ok(zstd::encode_all(framed.as_slice(), 3)?.len() as u64)
}

/// One side's messages for every document that has something to say, then delivered to the
/// other side.
fn exchange(pairs: &mut [Pair], from: Side, to: Side) -> Result<Vec<(usize, Vec<u8>)>> {
    let mut messages = Vec::new();
    for (i, p) in pairs.iter_mut().enumerate() {
        let (doc, state) = p.side(from);
        if let Some(m) = doc.sync().generate_sync_message(state) {
            messages.push((i, m.encode()));
        }
    }
    for (i, bytes) in &messages {
        let (doc, state) = pairs[*i].side(to);
        let message = sync::Message::decode(bytes).context("decoding a sync message")?;
        doc.sync().receive_sync_message(state, message)?;
    }
    Ok(messages)
}

/// Runs Automerge's per-document sync over all pairs until both sides are quiet. Each round is
/// one round trip: the laptop's messages for every document in one request, the server's
/// answers for every document in one response.
fn per_document(pairs: &mut [Pair]) -> Result<PerDoc> {
    let mut figures = PerDoc {
        documents: pairs.len() as u64,
        ..PerDoc::default()
    };
    loop {
        let up = exchange(pairs, Side::Laptop, Side::Server)?;
        let down = exchange(pairs, Side::Server, Side::Laptop)?;
        if up.is_empty() && down.is_empty() {
            break;
        }
        figures.round_trips += 1;
        figures.messages_up += up.len() as u64;
        figures.messages_down += down.len() as u64;
        figures.raw_up += up.iter().map(|(_, b)| b.len() as u64).sum::<u64>();
        figures.raw_down += down.iter().map(|(_, b)| b.len() as u64).sum::<u64>();
        if !up.is_empty() {
            figures.batched_up += batch_size(&up, pairs)?;
        }
        if !down.is_empty() {
            figures.batched_down += batch_size(&down, pairs)?;
        }
        if figures.round_trips > 50 {
            bail!("the per-document protocol did not settle in 50 rounds");
        }
    }
    figures.converged = pairs
        .iter_mut()
        .all(|p| p.laptop.get_heads() == p.server.get_heads());
    Ok(figures)
}

/// The per-document protocol with fresh `sync::State`s: the in-memory state from the laptop's
/// previous session is gone (the laptop was closed and reopened during the week), and the
/// protocol's docs say a state must be reset when a connection is re-established.
pub fn fresh(laptop: &Documents, server: &Documents) -> Result<PerDoc> {
    per_document(&mut pairs(laptop, server, &HashMap::new())?)
}

/// The per-document protocol with persisted states: only what `State::encode` keeps (the
/// shared heads) from a sync of the `pre_week` documents, as an app storing states would.
pub fn persisted(pre_week: &Documents, laptop: &Documents, server: &Documents) -> Result<PerDoc> {
    let states = primed_states(pre_week)?;
    per_document(&mut pairs(laptop, server, &states)?)
}

/// Sync states both sides would have persisted after a per-document sync of the pre-week
/// documents (identical on both sides then), saved with `State::encode` as an app would.
fn primed_states(pre_week: &Documents) -> Result<States> {
    let mut primed = pairs(pre_week, pre_week, &HashMap::new())?;
    per_document(&mut primed)?;
    let ids: Vec<&String> = pre_week.keys().collect();
    Ok(ids
        .into_iter()
        .zip(primed.iter())
        .map(|(id, p)| {
            (
                id.clone(),
                (p.laptop_state.encode(), p.server_state.encode()),
            )
        })
        .collect())
}

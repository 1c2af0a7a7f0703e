//! The workload, built once before any server starts: every change made on the people's
//! laptops, in push order, cut into `/v1/sync` requests.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use automerge::{ActorId, AutoCommit};
use chrono::Utc;
use rand::SeedableRng;
use rand::rngs::StdRng;
use shared::RecordId;
use shared::doc::CommitMeta;
use shared::protocol::{self, PROTOCOL_VERSION, PushChange, SyncRequest};
use shared::record::RecordType;

use crate::org::{Person, organisation};
use crate::{customers, week};

/// Most changes per `/v1/sync` request.
pub const BATCH: usize = 200;

/// One `/v1/sync` request's worth of changes from one person.
pub struct Batch {
    pub person: usize,
    pub changes: usize,
    /// The zstd-compressed request body, built once and sent to both servers.
    pub body: Vec<u8>,
}

/// What the workload holds, for the report.
#[derive(Default)]
pub struct Mix {
    pub counts: BTreeMap<&'static str, usize>,
}

impl Mix {
    /// Counts one more `what`.
    pub fn add(&mut self, what: &'static str) {
        *self.counts.entry(what).or_default() += 1;
    }
}

/// The workload: the organisation, the people and the batches to push.
pub struct Workload {
    pub org: String,
    pub people: Vec<Person>,
    pub batches: Vec<Batch>,
    pub changes: usize,
    pub mix: Mix,
}

/// A document being made on a laptop.
pub struct Made {
    pub id: RecordId,
    doc: AutoCommit,
}

/// Changes in push order: who pushes, and what; and the tally of what they are.
pub struct Queue {
    /// Each person's actor, by index into the organisation's people.
    actors: Vec<ActorId>,
    items: Vec<(usize, PushChange)>,
    pub mix: Mix,
}

impl Queue {
    /// Creates `record` as a new document on `person`'s laptop.
    pub fn create<T: RecordType>(&mut self, person: usize, record: &T) -> Result<Made> {
        let id = RecordId::new();
        let mut doc =
            shared::doc::create(&self.actors[person], id, record, &CommitMeta::now("create"))
                .context("creating a document")?;
        self.push_last(person, id, &mut doc)?;
        Ok(Made { id, doc })
    }

    /// Edits `made` on `person`'s laptop to hold `record`.
    pub fn update<T: RecordType>(
        &mut self,
        person: usize,
        made: &mut Made,
        record: &T,
    ) -> Result<()> {
        shared::doc::update(&mut made.doc, record, &CommitMeta::now("edit"))
            .context("editing a document")?
            .context("the edit changed nothing")?;
        self.push_last(person, made.id, &mut made.doc)
    }

    fn push_last(&mut self, person: usize, id: RecordId, doc: &mut AutoCommit) -> Result<()> {
        let change = doc.get_last_local_change().context("no local change")?;
        self.items.push((
            person,
            PushChange {
                doc_id: id,
                bytes: change.raw_bytes().to_vec(),
            },
        ));
        Ok(())
    }
}

/// Builds the organisation and every change, once.
pub fn build() -> Result<Workload> {
    let mut rng = StdRng::seed_from_u64(20_240_404);
    let now = Utc::now();
    let org = organisation();
    let mut queue = Queue {
        actors: org.people.iter().map(|p| p.actor.clone()).collect(),
        items: Vec::new(),
        mix: Mix::default(),
    };
    let dealers = customers::dealers(&org, &mut queue, now)?;
    let mut customers = customers::customers(&org, &mut queue, now)?;
    // Each salesperson's week: visits, quotations, orders, edits.
    let context = week::Context {
        org: &org,
        dealers: &dealers,
        now,
    };
    for (r, region_customers) in customers.iter_mut().enumerate() {
        for k in 0..org.sellers[r].len() {
            week::salesperson_week(&context, r, k, region_customers, &mut queue, &mut rng)?;
        }
    }
    let (batches, changes) = batches(queue.items)?;
    Ok(Workload {
        org: org.toml,
        people: org.people,
        batches,
        changes,
        mix: queue.mix,
    })
}

/// Batches: runs of one person's changes, at most [`BATCH`] each, and the changes in all.
fn batches(items: Vec<(usize, PushChange)>) -> Result<(Vec<Batch>, usize)> {
    let mut batches = Vec::new();
    let mut items = items.into_iter().peekable();
    let mut changes = 0;
    while let Some((person, first)) = items.next() {
        let mut push = vec![first];
        while push.len() < BATCH
            && let Some((_, next)) = items.next_if(|(p, _)| *p == person)
        {
            push.push(next);
        }
        changes += push.len();
        let request = SyncRequest {
            protocol: PROTOCOL_VERSION,
            cursor: i64::MAX as u64,
            pull_budget: 1,
            push,
        };
        let count = request.push.len();
        let body =
            zstd::encode_all(&protocol::encode(&request)[..], 3).context("compressing a batch")?;
        batches.push(Batch {
            person,
            changes: count,
            body,
        });
    }
    Ok((batches, changes))
}

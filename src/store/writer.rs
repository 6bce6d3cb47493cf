//! The one writer: group commit.
//!
//! Every append goes through a channel to this single thread. It takes the first waiting
//! request, then everything else already queued (up to a batch limit), decides each one —
//! idempotency, expected version, seq and version numbers, the hash chain — writes the whole
//! batch with one atomic `apply_batch`, makes it durable with one flush + fdatasync
//! ([`Durability`]), publishes the new durable head, and only then answers every caller.
//! While one batch is being synced the next one queues up, so the fsync is paid once per
//! batch, not per event.
//!
//! Being the only writer is what makes `seq` gapless and versions contiguous without locks:
//! nothing else ever assigns them. Should a write or a sync fail, the thread answers the batch
//! with the error and refuses everything after it (the in-memory head could otherwise run
//! ahead of the disk); reopening the store recovers from what is on disk.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvError, TryRecvError};

use tokio::sync::oneshot;
use uuid::Uuid;

use super::envelope::*;
use super::error::StoreError;
use super::layout;
use super::sled_store::Shared;

pub type Reply = oneshot::Sender<Result<Appended, StoreError>>;

pub enum Msg {
    Append(AppendRequest, Reply),
}

/// The writer's view of the log, valid between batches.
pub struct Writer {
    shared: Arc<Shared>,
    head: Head,
    /// Versions of the streams touched so far; a miss reads the stream index.
    versions: HashMap<StreamId, u64>,
    max_batch_events: usize,
}

/// One batch being assembled: the sled writes and the answers to give once it is durable.
#[derive(Default)]
struct Pending {
    batch: sled::Batch,
    events: usize,
    answers: Vec<(Reply, Result<Appended, StoreError>)>,
    /// Command ids decided in this batch, not yet visible in sled.
    commands: HashMap<String, Appended>,
}

impl Writer {
    pub fn new(shared: Arc<Shared>, head: Head, max_batch_events: usize) -> Self {
        Self {
            shared,
            head,
            versions: HashMap::new(),
            max_batch_events,
        }
    }

    /// Runs until every sender is gone.
    pub fn run(mut self, rx: Receiver<Msg>) {
        let mut poisoned: Option<String> = None;
        loop {
            let first = match rx.recv() {
                Ok(msg) => msg,
                Err(RecvError) => return,
            };
            let mut pending = Pending::default();
            let mut next = Some(first);
            while let Some(Msg::Append(req, reply)) = next {
                if let Some(why) = &poisoned {
                    let _ = reply.send(Err(StoreError::Poisoned(why.clone())));
                } else {
                    let outcome = self.decide(&mut pending, req);
                    pending.answers.push((reply, outcome));
                }
                next = if pending.events >= self.max_batch_events {
                    None
                } else {
                    match rx.try_recv() {
                        Ok(msg) => Some(msg),
                        Err(TryRecvError::Empty | TryRecvError::Disconnected) => None,
                    }
                };
            }
            if let Err(e) = self.commit(&mut pending) {
                tracing::error!(error = %e, "group commit failed; the store refuses further writes");
                poisoned = Some(e.to_string());
                for (reply, outcome) in pending.answers.drain(..) {
                    let failed = outcome.and(Err(StoreError::Poisoned(e.to_string())));
                    let _ = reply.send(failed);
                }
            }
            for (reply, outcome) in pending.answers {
                let _ = reply.send(outcome);
            }
        }
    }

    /// Writes the batch and makes it durable; the answers are sent by the caller afterwards.
    fn commit(&mut self, pending: &mut Pending) -> Result<(), StoreError> {
        if pending.events == 0 {
            return Ok(());
        }
        let batch = std::mem::take(&mut pending.batch);
        let stats = &self.shared.stats;
        self.shared.tree.apply_batch(batch)?;
        let fsync = self
            .shared
            .durability
            .lock()
            .unwrap()
            .commit(&self.shared.db)?;
        stats.batches.fetch_add(1, Ordering::Relaxed);
        stats
            .events
            .fetch_add(pending.events as u64, Ordering::Relaxed);
        stats
            .fsync_nanos
            .fetch_add(fsync.as_nanos() as u64, Ordering::Relaxed);
        stats
            .largest_batch
            .fetch_max(pending.events as u64, Ordering::Relaxed);
        self.shared.publish_durable(self.head);
        Ok(())
    }

    /// Decides one append into the pending batch, or says why it cannot be.
    fn decide(
        &mut self,
        pending: &mut Pending,
        req: AppendRequest,
    ) -> Result<Appended, StoreError> {
        validate(&req)?;
        if let Some(original) = self.original(pending, &req.command_id)? {
            if original.stream != req.stream {
                return Err(StoreError::CommandIdReused {
                    command_id: req.command_id,
                    original_stream: original.stream,
                    stream: req.stream,
                });
            }
            return Ok(Appended {
                deduplicated: true,
                ..original
            });
        }
        let current = self.version_of(&req.stream)?;
        if !req.expected.admits(current) {
            return Err(StoreError::WrongExpectedVersion {
                stream: req.stream,
                expected: req.expected,
                current,
            });
        }
        let now = (self.shared.clock)();
        let first_seq = self.head.seq + 1;
        // Encode everything before touching the batch, so a failure leaves it as it was.
        let mut head = self.head;
        let mut records = Vec::with_capacity(req.events.len());
        for (i, event) in req.events.into_iter().enumerate() {
            let envelope = Envelope {
                seq: head.seq + 1,
                stream: req.stream.clone(),
                version: current + 1 + i as u64,
                event_id: Uuid::now_v7(),
                event_type: event.event_type,
                schema_version: event.schema_version,
                recorded_at: now,
                actor: req.actor.clone(),
                command_id: req.command_id.clone(),
                correlation_id: req.correlation_id,
                payload: event.payload,
                prev_hash: head.hash,
            };
            let (record, hash) = layout::encode_record(&envelope)?;
            if record.len() - 32 > MAX_EVENT_BYTES {
                return Err(StoreError::InvalidAppend(format!(
                    "event {} is {} bytes; at most {MAX_EVENT_BYTES} are stored",
                    i + 1,
                    record.len() - 32
                )));
            }
            head = Head {
                seq: envelope.seq,
                hash,
            };
            records.push((envelope.seq, envelope.version, record));
        }
        let appended = Appended {
            stream: req.stream.clone(),
            first_version: current + 1,
            last_version: current + records.len() as u64,
            first_seq,
            last_seq: head.seq,
            deduplicated: false,
        };
        for (seq, version, record) in records {
            pending.batch.insert(&layout::event_key(seq), record);
            pending
                .batch
                .insert(layout::stream_key(&req.stream, version), &seq.to_be_bytes());
        }
        pending.batch.insert(
            layout::command_key(&req.command_id),
            layout::encode_appended(&appended),
        );
        pending
            .batch
            .insert(layout::HEAD_KEY, &layout::encode_head(&head)[..]);
        pending.events += (appended.last_seq - appended.first_seq + 1) as usize;
        pending.commands.insert(req.command_id, appended.clone());
        self.versions.insert(req.stream, appended.last_version);
        self.head = head;
        Ok(appended)
    }

    /// The first answer given to this command id, if any (durable, or earlier in this batch).
    fn original(
        &self,
        pending: &Pending,
        command_id: &str,
    ) -> Result<Option<Appended>, StoreError> {
        if let Some(a) = pending.commands.get(command_id) {
            return Ok(Some(a.clone()));
        }
        match self.shared.tree.get(layout::command_key(command_id))? {
            Some(bytes) => Ok(Some(layout::decode_appended(&bytes)?)),
            None => Ok(None),
        }
    }

    fn version_of(&mut self, stream: &StreamId) -> Result<u64, StoreError> {
        if let Some(v) = self.versions.get(stream) {
            return Ok(*v);
        }
        let v = self.shared.stream_version(stream)?;
        self.versions.insert(stream.clone(), v);
        Ok(v)
    }
}

fn validate(req: &AppendRequest) -> Result<(), StoreError> {
    let invalid = |why: String| Err(StoreError::InvalidAppend(why));
    if req.events.is_empty() {
        return invalid("an append needs at least one event".into());
    }
    if req.events.len() > MAX_EVENTS_PER_APPEND {
        return invalid(format!("at most {MAX_EVENTS_PER_APPEND} events per append"));
    }
    if req.command_id.is_empty() || req.command_id.len() > MAX_COMMAND_ID_LEN {
        return invalid(format!("a command id has 1 to {MAX_COMMAND_ID_LEN} bytes"));
    }
    if let Some(e) = req.events.iter().find(|e| e.event_type.is_empty()) {
        return invalid(format!("event type missing in {e:?}"));
    }
    Ok(())
}

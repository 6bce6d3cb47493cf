//! The one writer: group commit.
//!
//! Every append goes through a bounded channel to this single thread (a full one refuses
//! the append at once: backpressure, see `StoreOptions::queue_capacity`). It takes the first waiting
//! request, then everything else already queued (up to a batch limit), decides each one —
//! idempotency, expected version, seq and version numbers, the hash chain — writes the
//! batch's events and the new chain head with one atomic `apply_batch`, makes it durable with
//! one flush + fdatasync ([`Durability`](super::durability::Durability)) — on the [`Syncer`]
//! thread while it writes index entries, by itself when it has none to write —, publishes
//! the new durable head, and only then answers every caller. While one batch is being synced
//! the next one queues up, so the fsync is paid once per batch, not per event.
//!
//! The derived index entries of a batch (see [`indexer`](super::indexer)) are written by this
//! same thread while the *next* batch is being synced — or at once when nothing is waiting —
//! so they cost no time on the commit path and sled sees a single writer.
//!
//! Being the only writer is what makes `seq` gapless and versions contiguous without locks:
//! nothing else ever assigns them. Should a write or a sync fail, the thread answers the batch
//! with the error and refuses everything after it (the in-memory head could otherwise run
//! ahead of the disk); reopening the store recovers from what is on disk.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::thread::JoinHandle;
use std::time::Duration;
use std::time::Instant;

use tokio::sync::oneshot;
use uuid::Uuid;

use super::chunk::ChunkBuilder;
use super::envelope::*;
use super::error::StoreError;
use super::indexer::IndexWork;
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
    /// Versions of every stream appended to since the store opened (a few per key project);
    /// a stream not in here has no unindexed events, so its index entry is current.
    versions: HashMap<StreamId, u64>,
    /// Answers to idempotent appends decided but not yet in the index, oldest first.
    unindexed: HashMap<String, Appended>,
    unindexed_order: VecDeque<(u64, String)>,
    /// Index entries of the last durable batch, written while the next one syncs.
    behind: Option<IndexWork>,
    max_batch_events: usize,
}

/// One batch being assembled: the sled writes and the answers to give once it is durable.
#[derive(Default)]
struct Pending {
    chunks: ChunkBuilder,
    events: usize,
    answers: Vec<(Reply, Result<Appended, StoreError>)>,
    /// The appends decided in this batch, in order, with the command ids to remember them by.
    decided: Vec<(Option<String>, Appended)>,
}

impl Writer {
    pub fn new(shared: Arc<Shared>, head: Head, max_batch_events: usize) -> Self {
        Self {
            shared,
            head,
            versions: HashMap::new(),
            unindexed: HashMap::new(),
            unindexed_order: VecDeque::new(),
            behind: None,
            max_batch_events,
        }
    }

    /// Runs until every sender is gone; then indexes what is left and syncs once more, so a
    /// clean shutdown leaves nothing for the next open to catch up.
    pub fn run(mut self, rx: Receiver<Msg>) {
        let syncer = Syncer::start(self.shared.clone());
        while let Some(first) = self.next_request(&rx) {
            let started = Instant::now();
            let mut pending = Pending::default();
            let mut next = Some(first);
            while let Some(Msg::Append(req, reply)) = next {
                // Read for every request: one earlier in this batch may have poisoned the
                // store, and nothing may be decided after that.
                if let Some(why) = &self.shared.poisoned() {
                    let _ = reply.send(Err(StoreError::Poisoned(why.clone())));
                } else {
                    let outcome = self.decide(&mut pending, req);
                    if let Err(e) = &outcome
                        && e.is_storage_failure()
                    {
                        // The index or the log could not be read back: append nothing more.
                        tracing::error!(error = %e, "reading the log failed; refusing writes");
                        self.shared.poison(format!("a read failed: {e}"));
                    }
                    pending.answers.push((reply, outcome));
                }
                next = match pending.events >= self.max_batch_events {
                    true => None,
                    false => rx.try_recv().ok(),
                };
            }
            if let Err(e) = self.commit(&mut pending, started, &syncer) {
                tracing::error!(error = %e, "group commit failed; the store refuses further writes");
                self.shared.poison(e.to_string());
                for (reply, outcome) in pending.answers.drain(..) {
                    // A new append of this batch may have reached the disk or not; a
                    // deduplicated answer was durable before and stays true.
                    let answer = match outcome {
                        Ok(a) if !a.deduplicated => Err(StoreError::InDoubt(e.to_string())),
                        other => other,
                    };
                    let _ = reply.send(answer);
                }
                continue;
            }
            for (reply, outcome) in pending.answers {
                let _ = reply.send(outcome);
            }
            if !pending.decided.is_empty() {
                let mut work = IndexWork::new();
                for (command_id, appended) in &pending.decided {
                    work.add(command_id.as_deref(), appended);
                }
                self.behind = Some(work);
            }
        }
        if self.index_behind().is_ok()
            && self.shared.poisoned().is_none()
            && let Err(e) = syncer.sync()
        {
            tracing::warn!(error = %e, "final sync of the index failed; it is rebuilt at open");
        }
        syncer.stop();
    }

    /// The next request, or `None` once every sender is gone. Index work left behind is done
    /// in the idle moment before blocking.
    fn next_request(&mut self, rx: &Receiver<Msg>) -> Option<Msg> {
        match rx.try_recv() {
            Ok(msg) => return Some(msg),
            Err(TryRecvError::Disconnected) => return None,
            Err(TryRecvError::Empty) => {}
        }
        if let Err(e) = self.index_behind() {
            tracing::error!(error = %e, "indexing failed; the store refuses further writes");
            self.shared.poison(format!("indexing failed: {e}"));
        }
        rx.recv().ok()
    }

    /// Writes the index entries of the last durable batch, and forgets the answers they cover.
    /// Once the store is poisoned — perhaps by index work that failed — nothing more is
    /// indexed: a later batch's watermark would claim the failed one's entries too. The index
    /// then stays behind, readers keep finding those appends in `recent`, and the next open
    /// derives the rest from the log.
    fn index_behind(&mut self) -> Result<(), StoreError> {
        let Some(work) = self.behind.take() else {
            return Ok(());
        };
        if self.shared.poisoned().is_some() {
            return Ok(());
        }
        work.apply(&self.shared)?;
        let indexed = self.shared.indexed_through.load(Ordering::Acquire);
        self.shared
            .recent
            .write()
            .unwrap()
            .retain(|(_, a)| a.last_seq > indexed);
        while let Some((seq, _)) = self.unindexed_order.front() {
            if *seq > indexed {
                break;
            }
            let (_, command_id) = self.unindexed_order.pop_front().unwrap();
            self.unindexed.remove(&command_id);
        }
        Ok(())
    }

    /// Writes the batch and makes it durable; the answers are sent by the caller afterwards.
    /// The previous batch's index entries are written while the sync runs.
    fn commit(
        &mut self,
        pending: &mut Pending,
        started: Instant,
        syncer: &Syncer,
    ) -> Result<(), StoreError> {
        if pending.events == 0 {
            return Ok(());
        }
        let mut batch = sled::Batch::default();
        for (key, chunk) in std::mem::take(&mut pending.chunks).finish() {
            batch.insert(&key, chunk);
        }
        batch.insert(layout::HEAD_KEY, &layout::encode_head(&self.head)[..]);
        self.shared.log.apply_batch(batch)?;
        let written = started.elapsed();
        let (indexed, (flush, fsync)) = if self.behind.is_some() {
            syncer.begin();
            let indexed = self.index_behind();
            (indexed, syncer.wait()?)
        } else {
            // Nothing to do while the sync runs (the writer indexed while it was idle, as it
            // is under light load): sync here and spare two hand-offs between threads.
            (Ok(()), self.shared.make_durable()?)
        };
        // The batch is durable whatever happened to the index: answer it, refuse what follows.
        if let Err(e) = indexed {
            tracing::error!(error = %e, "indexing failed; the store refuses further writes");
            self.shared.poison(format!("indexing failed: {e}"));
        }
        let stats = &self.shared.stats;
        let add = |counter: &AtomicU64, n: u64| counter.fetch_add(n, Ordering::Relaxed);
        add(&stats.batches, 1);
        add(&stats.events, pending.events as u64);
        add(&stats.write_nanos, written.as_nanos() as u64);
        add(&stats.flush_nanos, flush.as_nanos() as u64);
        add(&stats.fsync_nanos, fsync.as_nanos() as u64);
        let largest = &stats.largest_batch;
        largest.fetch_max(pending.events as u64, Ordering::Relaxed);
        // Readers find the batch here until it is indexed; published before the head moves.
        self.shared
            .recent
            .write()
            .unwrap()
            .extend(pending.decided.iter().cloned());
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
        if req.idempotent
            && let Some(original) = self.original(&req.command_id)?
        {
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
                request_hash: req.request_hash,
                payload: event.payload,
                prev_hash: head.hash,
            };
            let (body, hash) = layout::encode_body(&envelope)?;
            if body.len() > MAX_EVENT_BYTES {
                return Err(StoreError::InvalidAppend(format!(
                    "event {} is {} bytes; at most {MAX_EVENT_BYTES} are stored",
                    i + 1,
                    body.len()
                )));
            }
            head = Head {
                seq: envelope.seq,
                hash,
            };
            records.push((envelope.seq, hash, body));
        }
        let appended = Appended {
            stream: req.stream.clone(),
            first_version: current + 1,
            last_version: current + records.len() as u64,
            first_seq,
            last_seq: head.seq,
            deduplicated: false,
        };
        for (seq, hash, body) in records {
            pending.chunks.push(seq, &hash, &body);
        }
        pending.events += (appended.last_seq - appended.first_seq + 1) as usize;
        let mut remembered = None;
        if req.idempotent {
            self.unindexed
                .insert(req.command_id.clone(), appended.clone());
            self.unindexed_order
                .push_back((appended.last_seq, req.command_id.clone()));
            remembered = Some(req.command_id);
        }
        pending.decided.push((remembered, appended.clone()));
        self.versions.insert(req.stream, appended.last_version);
        self.head = head;
        Ok(appended)
    }

    /// The first answer given to this command id, if any: decided since the indexer's
    /// watermark (perhaps earlier in this very batch), or indexed.
    fn original(&self, command_id: &str) -> Result<Option<Appended>, StoreError> {
        if let Some(a) = self.unindexed.get(command_id) {
            return Ok(Some(a.clone()));
        }
        match self.shared.index.get(layout::command_key(command_id))? {
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

type SyncOutcome = Result<(Duration, Duration), StoreError>;

/// The thread that runs flush + fdatasync, so that the writer can do other work meanwhile.
struct Syncer {
    start: Sender<()>,
    done: Receiver<SyncOutcome>,
    thread: JoinHandle<()>,
}

impl Syncer {
    fn start(shared: Arc<Shared>) -> Self {
        let (start, requests) = mpsc::channel::<()>();
        let (finished, done) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("duban-log-sync".into())
            .spawn(move || {
                for () in requests {
                    let outcome = shared.make_durable();
                    if finished.send(outcome).is_err() {
                        return;
                    }
                }
            })
            .expect("the sync thread starts");
        Self {
            start,
            done,
            thread,
        }
    }

    /// Starts a flush + fdatasync of everything written so far.
    fn begin(&self) {
        let _ = self.start.send(());
    }

    /// Waits for the sync begun last.
    fn wait(&self) -> SyncOutcome {
        self.done
            .recv()
            .unwrap_or_else(|_| Err(StoreError::Poisoned("the sync thread stopped".into())))
    }

    fn sync(&self) -> SyncOutcome {
        self.begin();
        self.wait()
    }

    fn stop(self) {
        drop(self.start);
        let _ = self.thread.join();
    }
}

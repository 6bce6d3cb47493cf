//! The sled backend of [`EventStore`]: opening (tail check, index catch-up), reads, and the
//! handle that forwards appends to the group-commit [`Writer`].

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{oneshot, watch};

use super::chunk::{Cursor, Record};
use super::durability::Durability;
use super::envelope::*;
use super::error::StoreError;
use super::event_store::EventStore;
use super::indexer;
use super::layout;
use super::verify::{self, BreakKind, ChainBreak, VerifyReport};
use super::writer::{Msg, Writer};

/// Where `recorded_at` comes from; replaced in demos and tests by a fixed or simulated clock.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// How to open a store.
#[derive(Clone)]
pub struct StoreOptions {
    /// sled's page cache, in bytes.
    pub cache_capacity: u64,
    /// Most events written by one group commit.
    pub max_batch_events: usize,
    pub clock: Clock,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            cache_capacity: std::env::var("DUBAN_CACHE_MB")
                .ok()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(64)
                * 1024
                * 1024,
            max_batch_events: 1024,
            clock: Arc::new(Utc::now),
        }
    }
}

/// Counters of the group commit, for the metrics endpoint and the benchmark.
#[derive(Debug, Default)]
pub struct StoreStats {
    pub batches: AtomicU64,
    pub events: AtomicU64,
    pub largest_batch: AtomicU64,
    /// Time deciding appends and writing them into sled's memory.
    pub write_nanos: AtomicU64,
    /// Time in sled's `flush` (its `pwrite` and `sync_file_range`).
    pub flush_nanos: AtomicU64,
    /// Time in `fdatasync`.
    pub fsync_nanos: AtomicU64,
}

/// What the reader handles and the writer share.
pub struct Shared {
    pub db: sled::Db,
    /// Events and the chain head: the source of truth.
    pub log: sled::Tree,
    /// Stream index and idempotency records, derived from `log`.
    pub index: sled::Tree,
    /// Every event up to here is in `index`.
    pub indexed_through: AtomicU64,
    /// The durable appends past `indexed_through`, oldest first, with their command ids (for
    /// idempotent appends): what readers look up instead of scanning the log. Pruned under the
    /// write lock once indexed.
    pub recent: RwLock<Vec<(Option<String>, Appended)>>,
    pub durability: Mutex<Durability>,
    pub clock: Clock,
    pub stats: StoreStats,
    durable_seq: AtomicU64,
    durable: watch::Sender<u64>,
    durable_head: Mutex<Head>,
    poisoned: Mutex<Option<String>>,
}

impl Shared {
    /// Refuses all further writes, for the reason given.
    pub fn poison(&self, why: String) {
        self.poisoned.lock().unwrap().get_or_insert(why);
    }

    pub fn poisoned(&self) -> Option<String> {
        self.poisoned.lock().unwrap().clone()
    }

    /// Called by the writer after a batch is durable, before any caller hears of it.
    pub fn publish_durable(&self, head: Head) {
        *self.durable_head.lock().unwrap() = head;
        self.durable_seq.store(head.seq, Ordering::Release);
        self.durable.send_replace(head.seq);
    }

    /// Flushes sled and forces what it wrote to stable storage (see [`Durability`]); returns
    /// the time spent in the flush and in the fsyncs.
    pub fn make_durable(&self) -> Result<(Duration, Duration), StoreError> {
        self.durability.lock().unwrap().commit(&self.db)
    }

    /// The stream's current version from its index (0: no such stream).
    pub fn stream_version(&self, stream: &StreamId) -> Result<u64, StoreError> {
        match self
            .index
            .scan_prefix(layout::stream_prefix(stream))
            .next_back()
        {
            Some(item) => {
                let (key, value) = item?;
                Ok(layout::stream_chunk(&key, &value)?
                    .last()
                    .map_or(0, |(version, _)| *version))
            }
            None => Ok(0),
        }
    }

    fn read_event(&self, seq: u64) -> Result<RecordedEvent, StoreError> {
        let mut cursor = Cursor::new(&self.log, seq, seq)?;
        while let Some(record) = cursor.next_record()? {
            if record.position == seq {
                return decode_event(&record);
            }
        }
        Err(StoreError::Codec(format!(
            "event {seq} is indexed but not stored"
        )))
    }
}

/// The break a reader reports for a record that is not the event its place calls for: a
/// reader is never handed a log with a hole or a stranger in it.
fn out_of_sequence(expected: u64, found: u64) -> StoreError {
    StoreError::Corrupt(ChainBreak {
        seq: expected,
        kind: BreakKind::OutOfSequence,
        reason: format!("expected seq {expected}, found seq {found}"),
    })
}

/// Checks that a record names the seq its place in the log implies.
fn in_sequence(expected: u64, found: u64) -> Result<(), StoreError> {
    if found == expected {
        Ok(())
    } else {
        Err(out_of_sequence(expected, found))
    }
}

fn decode_event(record: &Record) -> Result<RecordedEvent, StoreError> {
    Ok(RecordedEvent {
        envelope: layout::decode_envelope(&record.body)?,
        hash: record.hash,
    })
}

struct Inner {
    shared: Arc<Shared>,
    path: PathBuf,
    sender: Mutex<Option<mpsc::Sender<Msg>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl Inner {
    /// Stops taking appends, lets the writer finish what it has, and waits for it; then
    /// wakes every subscription so that those caught up learn the store is closed.
    fn shutdown(&self) {
        self.sender.lock().unwrap().take();
        if let Some(handle) = self.writer.lock().unwrap().take() {
            let _ = handle.join();
        }
        self.shared.durable.send_modify(|_| {});
    }
}

/// A handle on the log in one data directory. Cheap to clone; the writer stops when the last
/// handle is dropped or [`SledStore::close`] is called.
#[derive(Clone)]
pub struct SledStore {
    inner: Arc<Inner>,
}

impl SledStore {
    /// Hands `visit` the stored records of up to `limit` events from `from_seq` on, up to the
    /// durable head, each with the seq it must name: `visit` checks that with [`in_sequence`]
    /// before using the record. Refuses a log with a hole or a stranger in it. Returns how
    /// many records were visited.
    fn scan_records<F>(
        &self,
        from_seq: u64,
        limit: usize,
        mut visit: F,
    ) -> Result<usize, StoreError>
    where
        F: FnMut(&Record, u64) -> Result<(), StoreError>,
    {
        let durable = self.durable_seq();
        if from_seq > durable || limit == 0 {
            return Ok(0);
        }
        let from_seq = from_seq.max(1);
        let mut visited = 0usize;
        let mut cursor = Cursor::new(&self.inner.shared.log, from_seq, durable)?;
        while let Some(record) = cursor.next_record()? {
            if record.position > durable || visited >= limit {
                break;
            }
            if record.position >= from_seq {
                let expected = from_seq + visited as u64;
                if record.position != expected {
                    return Err(out_of_sequence(expected, record.position));
                }
                visit(&record, expected)?;
                visited += 1;
            }
        }
        if visited < limit && from_seq + (visited as u64) <= durable {
            let missing = from_seq + visited as u64;
            let why = format!("seq {missing} is below the durable head {durable} but not stored");
            return Err(StoreError::Corrupt(ChainBreak {
                seq: missing,
                kind: BreakKind::Missing,
                reason: why,
            }));
        }
        Ok(visited)
    }

    /// Opens (or creates) the log in `dir` and checks its tail; refuses a broken log.
    pub fn open(dir: impl AsRef<Path>, options: StoreOptions) -> Result<Self, StoreError> {
        let dir = dir.as_ref();
        let (db, log, index) = open_trees(dir, &options)?;
        let head = verify::check_tail(&log)?;
        let mut durability = Durability::open(dir)?;
        // Whatever sled recovered after a crash may not have reached the disk yet: make it
        // durable before serving it.
        durability.commit(&db)?;
        let (durable, _) = watch::channel(head.seq);
        let shared = Arc::new(Shared {
            db,
            log,
            index,
            indexed_through: AtomicU64::new(0),
            recent: RwLock::new(Vec::new()),
            durability: Mutex::new(durability),
            clock: options.clock.clone(),
            stats: StoreStats::default(),
            durable_seq: AtomicU64::new(head.seq),
            durable,
            durable_head: Mutex::new(head),
            poisoned: Mutex::new(None),
        });
        let indexed = indexer::catch_up(&shared, head.seq)?;
        shared.indexed_through.store(indexed, Ordering::Release);
        if shared
            .db
            .tree_names()
            .iter()
            .any(|name| name == layout::OLD_INDEX_TREE.as_bytes())
        {
            // `index2` was just derived from the log: the index of the older layout goes.
            shared.db.drop_tree(layout::OLD_INDEX_TREE)?;
            shared.make_durable()?;
            tracing::info!("dropped the stream index of the older layout (a key per version)");
        }

        let (tx, rx) = mpsc::channel();
        let writer = Writer::new(shared.clone(), head, options.max_batch_events);
        let writer_thread = std::thread::Builder::new()
            .name("duban-log-writer".into())
            .spawn(move || writer.run(rx))?;
        tracing::info!(dir = %dir.display(), seq = head.seq, "event log open");
        Ok(Self {
            inner: Arc::new(Inner {
                shared,
                path: dir.to_path_buf(),
                sender: Mutex::new(Some(tx)),
                writer: Mutex::new(Some(writer_thread)),
            }),
        })
    }

    /// Verifies the log in `dir` without serving it — also a log that [`open`](Self::open)
    /// refuses. For `duban verify` and for inspecting a damaged store.
    pub fn verify_offline(
        dir: impl AsRef<Path>,
        from: Option<Checkpoint>,
    ) -> Result<VerifyReport, StoreError> {
        let (_db, log, _) = open_trees(dir.as_ref(), &StoreOptions::default())?;
        verify::verify_tree(&log, from, None)
    }

    /// Stops accepting appends, finishes and syncs those in flight, and waits for the writer.
    /// Appends after this fail with [`StoreError::Closed`].
    pub fn close(&self) {
        self.inner.shutdown();
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    pub fn stats(&self) -> &StoreStats {
        &self.inner.shared.stats
    }

    /// False once the store was closed or stopped taking writes after a storage failure.
    pub fn is_writable(&self) -> bool {
        self.inner.shared.poisoned().is_none() && self.inner.sender.lock().unwrap().is_some()
    }

    fn durable_seq(&self) -> u64 {
        self.inner.shared.durable_seq.load(Ordering::Acquire)
    }
}

fn open_trees(
    dir: &Path,
    options: &StoreOptions,
) -> Result<(sled::Db, sled::Tree, sled::Tree), StoreError> {
    std::fs::create_dir_all(dir)?;
    let db = sled::Config::new()
        .path(dir)
        .cache_capacity(options.cache_capacity)
        .mode(sled::Mode::HighThroughput)
        // No background flusher: every flush is ours, followed by an fdatasync.
        .flush_every_ms(None)
        .open()?;
    let log = db.open_tree(layout::LOG_TREE)?;
    let index = db.open_tree(layout::INDEX_TREE)?;
    Ok((db, log, index))
}

impl EventStore for SledStore {
    async fn append(&self, request: AppendRequest) -> Result<Appended, StoreError> {
        let (tx, rx) = oneshot::channel();
        {
            let sender = self.inner.sender.lock().unwrap();
            let sender = sender.as_ref().ok_or(StoreError::Closed)?;
            sender
                .send(Msg::Append(request, tx))
                .map_err(|_| StoreError::Closed)?;
        }
        rx.await.map_err(|_| StoreError::Closed)?
    }

    async fn read_stream(
        &self,
        stream: &StreamId,
        from_version: u64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let shared = &self.inner.shared;
        // Under the lock the writer prunes with, the watermark and the not-yet-indexed appends
        // agree: everything up to `indexed` is in the index, everything after in `recent`.
        let (indexed, durable, recent_seqs) = {
            let recent = shared.recent.read().unwrap();
            let indexed = shared.indexed_through.load(Ordering::Acquire);
            let durable = self.durable_seq();
            let seqs: Vec<(u64, u64)> = recent
                .iter()
                .filter(|(_, a)| {
                    &a.stream == stream && a.first_seq > indexed && a.last_seq <= durable
                })
                .flat_map(|(_, a)| (a.first_version..=a.last_version).zip(a.first_seq..=a.last_seq))
                .filter(|(version, _)| *version >= from_version)
                .collect();
            (indexed, durable, seqs)
        };
        let from_version = from_version.max(1);
        let (from, _) = layout::stream_slot(stream, from_version);
        let to = layout::stream_chunk_key(stream, u64::MAX);
        let mut events = Vec::new();
        'chunks: for item in shared.index.range(from..=to) {
            let (key, value) = item?;
            for (version, seq) in layout::stream_chunk(&key, &value)? {
                if version < from_version {
                    continue;
                }
                if seq > indexed.min(durable) {
                    break 'chunks;
                }
                events.push(shared.read_event(seq)?);
            }
        }
        for (_, seq) in recent_seqs {
            events.push(shared.read_event(seq)?);
        }
        Ok(events)
    }

    async fn read_all(
        &self,
        from_seq: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let mut events = Vec::with_capacity(limit.min(4096));
        self.scan_records(from_seq, limit, |record, expected| {
            let event = decode_event(record)?;
            in_sequence(expected, event.envelope.seq)?;
            events.push(event);
            Ok(())
        })?;
        Ok(events)
    }

    fn scan_all<F>(&self, from_seq: u64, limit: usize, mut visit: F) -> Result<usize, StoreError>
    where
        F: FnMut(EventView<'_>),
    {
        self.scan_records(from_seq, limit, |record, expected| {
            let view = layout::decode_view(&record.body)?;
            in_sequence(expected, view.seq)?;
            visit(view);
            Ok(())
        })
    }

    async fn find_command(&self, command_id: &str) -> Result<Option<Appended>, StoreError> {
        let shared = &self.inner.shared;
        let durable = self.durable_seq();
        // Not yet indexed first: once pruned from there, an answer is in the index.
        let recent = shared
            .recent
            .read()
            .unwrap()
            .iter()
            .find(|(id, a)| id.as_deref() == Some(command_id) && a.last_seq <= durable)
            .map(|(_, a)| a.clone());
        if recent.is_some() {
            return Ok(recent);
        }
        match shared.index.get(layout::command_key(command_id))? {
            Some(bytes) => Ok(Some(layout::decode_appended(&bytes)?)),
            None => Ok(None),
        }
    }

    fn head(&self) -> Head {
        *self.inner.shared.durable_head.lock().unwrap()
    }

    fn is_closed(&self) -> bool {
        self.inner.sender.lock().unwrap().is_none()
    }

    fn watch_head(&self) -> watch::Receiver<u64> {
        self.inner.shared.durable.subscribe()
    }

    async fn verify(&self, from: Option<Checkpoint>) -> Result<VerifyReport, StoreError> {
        let tree = self.inner.shared.log.clone();
        let durable = self.head();
        tokio::task::spawn_blocking(move || verify::verify_tree(&tree, from, Some(durable)))
            .await
            .map_err(|e| StoreError::Io(std::io::Error::other(e)))?
    }
}

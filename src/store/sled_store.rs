//! The sled backend of [`EventStore`]: opening (tail check, index catch-up, the background
//! verification of [`health`]), reads (in [`reads`], off the async workers), and the handle
//! that forwards appends to the group-commit [`Writer`] through a bounded queue.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{oneshot, watch};

use super::durability::Durability;
use super::envelope::*;
use super::error::StoreError;
use super::event_store::EventStore;
use super::health::{self, Readiness, Verification};
use super::indexer;
use super::layout;
use super::reads;
use super::verify::{self, VerifyReport};
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
    /// Most appends waiting for the writer; beyond it an append fails at once with
    /// [`StoreError::Overloaded`] instead of queueing without bound.
    pub queue_capacity: usize,
    pub clock: Clock,
}

/// Appends that may wait for the writer: four full group commits of single-event commands,
/// a few seconds of work at the measured rates, well beyond what a burst of clients needs.
pub const QUEUE_CAPACITY: usize = 4096;

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
            queue_capacity: QUEUE_CAPACITY,
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
    /// The verification of the whole chain that runs after open ([`health`]).
    pub verification: watch::Sender<Verification>,
    /// Set at close: the verification gives up.
    pub stop_verifying: AtomicBool,
}

impl Shared {
    /// Refuses all further writes, for the reason given.
    pub fn poison(&self, why: String) {
        self.poisoned.lock().unwrap().get_or_insert(why);
    }

    pub fn poisoned(&self) -> Option<String> {
        self.poisoned.lock().unwrap().clone()
    }

    /// The seq of the last durable event: readers stop there.
    pub fn durable_seq(&self) -> u64 {
        self.durable_seq.load(Ordering::Acquire)
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
}

struct Inner {
    shared: Arc<Shared>,
    path: PathBuf,
    sender: Mutex<Option<mpsc::SyncSender<Msg>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    verifier: Mutex<Option<JoinHandle<()>>>,
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
        self.shared.stop_verifying.store(true, Ordering::Release);
        if let Some(handle) = self.verifier.lock().unwrap().take() {
            let _ = handle.join();
        }
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
            verification: watch::channel(Verification::Running).0,
            stop_verifying: AtomicBool::new(false),
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

        let (tx, rx) = mpsc::sync_channel(options.queue_capacity.max(1));
        let writer = Writer::new(shared.clone(), head, options.max_batch_events);
        let writer_thread = std::thread::Builder::new()
            .name("duban-log-writer".into())
            .spawn(move || writer.run(rx))?;
        let verifier = health::spawn_verification(shared.clone(), head)?;
        tracing::info!(dir = %dir.display(), seq = head.seq, "event log open; verifying it");
        Ok(Self {
            inner: Arc::new(Inner {
                shared,
                path: dir.to_path_buf(),
                sender: Mutex::new(Some(tx)),
                writer: Mutex::new(Some(writer_thread)),
                verifier: Mutex::new(Some(verifier)),
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
        self.shared().poisoned().is_none() && self.inner.sender.lock().unwrap().is_some()
    }

    /// Whether the store takes writes, is still verifying the chain, or refuses them.
    pub fn readiness(&self) -> Readiness {
        health::readiness(&self.inner.shared, self.is_closed())
    }

    fn shared(&self) -> &Shared {
        &self.inner.shared
    }

    /// Runs a read of sled on tokio's blocking pool, off the async workers (a read may wait
    /// for the disk, or for the lock the writer prunes `recent` under); a storage failure it
    /// meets poisons the store.
    async fn off_worker<T, F>(&self, read: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&SledStore) -> Result<T, StoreError> + Send + 'static,
    {
        let store = self.clone();
        match tokio::task::spawn_blocking(move || read(&store)).await {
            Ok(outcome) => health::after_read(&self.inner.shared, outcome),
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => Err(StoreError::Io(std::io::Error::other(e))),
        }
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
        if self.is_closed() {
            return Err(StoreError::Closed);
        }
        health::writable(&self.inner.shared).await?;
        let (tx, rx) = oneshot::channel();
        {
            let sender = self.inner.sender.lock().unwrap();
            let sender = sender.as_ref().ok_or(StoreError::Closed)?;
            sender
                .try_send(Msg::Append(request, tx))
                .map_err(|e| match e {
                    mpsc::TrySendError::Full(_) => StoreError::Overloaded,
                    mpsc::TrySendError::Disconnected(_) => StoreError::Closed,
                })?;
        }
        rx.await.map_err(|_| StoreError::Closed)?
    }

    async fn read_stream(
        &self,
        stream: &StreamId,
        from_version: u64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let stream = stream.clone();
        self.off_worker(move |store| reads::read_stream(store.shared(), &stream, from_version))
            .await
    }

    async fn read_all(
        &self,
        from_seq: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        self.off_worker(move |store| reads::read_all(store.shared(), from_seq, limit))
            .await
    }

    /// Synchronous by design: its callers (a rebuild, the projector) fold on threads of
    /// their own.
    fn scan_all<F>(&self, from_seq: u64, limit: usize, visit: F) -> Result<usize, StoreError>
    where
        F: FnMut(EventView<'_>),
    {
        let outcome = reads::scan_all(self.shared(), from_seq, limit, visit);
        health::after_read(self.shared(), outcome)
    }

    async fn find_command(&self, command_id: &str) -> Result<Option<Appended>, StoreError> {
        let command_id = command_id.to_string();
        self.off_worker(move |store| reads::find_command(store.shared(), &command_id))
            .await
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
        let durable = self.head();
        let report = self
            .off_worker(move |store| verify::verify_tree(&store.shared().log, from, Some(durable)))
            .await?;
        // A break found from genesis is the log's; one after a checkpoint the caller brought
        // may be the checkpoint's, and must not let a caller stop the store.
        if let (None, Some(b)) = (from, &report.first_break) {
            tracing::error!(seq = b.seq, reason = %b.reason, "the event log fails verification");
            let why = format!("the log fails verification at seq {}: {}", b.seq, b.reason);
            self.shared().poison(why);
        }
        Ok(report)
    }
}

#[cfg(test)]
#[path = "sled_store_tests.rs"]
mod tests;

//! The projector: the one writer of the read models. It follows the log from the models' own
//! position, in seq order, and folds each run of durable events into them as one atomic batch
//! ([`super::models`]). It never learns of events any other way than by reading the log, so a
//! crash can neither lose an event for the models nor show them one the log does not keep.
//!
//! It runs on a thread of its own (sled's calls block), and also performs rebuilds: a fresh
//! generation of the models filled from seq 1, switched in once complete. The generation a
//! rebuild replaced is dropped here too, once no reader can still be in it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::{mpsc, oneshot};

use super::models::{
    Decoded, Folder, ProjectionError, ReadModels, RecordCache, decode, fold_batch,
};
use crate::store::{EventStore, StoreError};

/// Events read and folded at a time while following the log.
const CHUNK: usize = 4096;
/// Events read and folded at a time while rebuilding.
const REBUILD_CHUNK: usize = 2048;
/// A rebuild writes what it folded once it holds this many projects' records in memory, or
/// has folded [`REBUILD_WRITE_EVERY`] events since its last write, whichever comes first.
/// Each write costs a project's record once however many of its events it folds, so the
/// fewer writes the better; the projects bound what it holds in memory.
const REBUILD_HELD_PROJECTS: usize = 16_384;
/// See [`REBUILD_HELD_PROJECTS`]: bounds the notices held, which projects do not.
const REBUILD_WRITE_EVERY: usize = 4_194_304;

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct RebuildReport {
    /// Events folded into the new generation.
    pub events: u64,
    /// The seq the new generation reflects.
    pub position: u64,
    pub seconds: f64,
    pub events_per_second: f64,
}

type Reply = oneshot::Sender<Result<RebuildReport, String>>;

/// A handle on the running projector.
#[derive(Clone)]
pub struct Projector {
    requests: mpsc::Sender<Reply>,
    thread: Arc<std::sync::Mutex<Option<std::thread::JoinHandle<()>>>>,
}

impl Projector {
    /// Starts following the log from the models' position.
    pub fn spawn<S: EventStore>(store: S, models: Arc<ReadModels>) -> std::io::Result<Self> {
        let (requests, rx) = mpsc::channel(4);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let thread = std::thread::Builder::new()
            .name("projector".into())
            .spawn(move || runtime.block_on(follow(store, models, rx)))?;
        Ok(Self {
            requests,
            thread: Arc::new(std::sync::Mutex::new(Some(thread))),
        })
    }

    /// Waits for the projector to stop, which it does once the log is closed.
    pub fn join(&self) {
        let thread = self.thread.lock().expect("not poisoned").take();
        if let Some(t) = thread {
            let _ = t.join();
        }
    }

    /// Rebuilds every read model from seq 1 and switches to the result.
    pub async fn rebuild(&self) -> Result<RebuildReport, String> {
        let (tx, rx) = oneshot::channel();
        self.requests
            .send(tx)
            .await
            .map_err(|_| "the projector has stopped".to_string())?;
        rx.await
            .map_err(|_| "the projector stopped during the rebuild".to_string())?
    }
}

async fn follow<S: EventStore>(store: S, models: Arc<ReadModels>, mut rx: mpsc::Receiver<Reply>) {
    let mut head = store.watch_head();
    let mut cache = RecordCache::default();
    tracing::info!(position = models.position(), "projector following the log");
    loop {
        while let Ok(reply) = rx.try_recv() {
            answer(&store, &models, reply).await;
        }
        let next_drop = models.drop_retired();
        head.borrow_and_update();
        match catch_up_once(&store, &models, &mut cache).await {
            Ok(true) => continue,
            Ok(false) => {}
            Err(ProjectionError::Store(StoreError::Closed)) => break,
            Err(e) => {
                tracing::error!(error = %e, "projector: folding failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        }
        if store.is_closed() {
            break;
        }
        let drop_due = async {
            match next_drop {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            changed = head.changed() => if changed.is_err() { break },
            reply = rx.recv() => if let Some(reply) = reply {
                answer(&store, &models, reply).await;
            },
            () = drop_due => {},
        }
    }
    if let Err(e) = models.flush() {
        tracing::warn!(error = %e, "projector: final flush failed (the models will catch up)");
    }
    models.stop();
    tracing::info!(position = models.position(), "projector stopped");
}

/// Folds the next run of events, if any; says whether there was one.
async fn catch_up_once<S: EventStore>(
    store: &S,
    models: &ReadModels,
    cache: &mut RecordCache,
) -> Result<bool, ProjectionError> {
    let Some(written) = fold_batch(&models.tree(), store, CHUNK, cache)? else {
        return Ok(false);
    };
    // Before the position moves, so that a reader who waits for it is never served a status
    // rendered from an older record.
    models.rendered.changed(written.projects);
    models.published(written.position);
    Ok(true)
}

async fn answer<S: EventStore>(store: &S, models: &ReadModels, reply: Reply) {
    let result = rebuild(store, models).await.map_err(|e| e.to_string());
    if let Ok(report) = &result {
        tracing::info!(
            events = report.events,
            seconds = report.seconds,
            "read models rebuilt"
        );
    }
    let _ = reply.send(result);
}

/// Fills a fresh generation of the models from seq 1 up to the log's durable head, then
/// switches to it. Used by the running projector and by `duban rebuild` on a stopped service.
///
/// Reading and decoding the log costs more than folding it, so [`rebuild_threads`] threads
/// share that ([`read_decoded`]), each decoding only the fields the fold needs
/// ([`EventView`](crate::store::EventView)); the caller folds their runs in seq order. The
/// models are then written by several threads too ([`Folder::write_unread`]).
pub async fn rebuild<S: EventStore>(
    store: &S,
    models: &ReadModels,
) -> Result<RebuildReport, ProjectionError> {
    let started = Instant::now();
    let tree = models.new_generation()?;
    let mut folder = Folder::new(&tree)?;
    let threads = rebuild_threads();
    let mut runs = read_decoded(store, folder.position() + 1, threads)?;
    let mut events = 0u64;
    let mut written = Vec::new();
    while let Some(run) = runs.next().await? {
        events += run.len() as u64;
        folder.fold_decoded(&tree, &run)?;
        if folder.held() >= REBUILD_HELD_PROJECTS || folder.pending >= REBUILD_WRITE_EVERY {
            written.extend(folder.write_unread(&tree, threads)?.projects);
        }
    }
    drop(runs);
    let last = folder.write_unread(&tree, threads)?;
    written.extend(last.projects);
    // The rebuilt records carry the versions the log gives them; noted before the switch so
    // that nothing rendered from the old generation is served after it.
    models.rendered.changed(written);
    models.switch_to(tree)?;
    let position = last.position;
    let seconds = started.elapsed().as_secs_f64();
    Ok(RebuildReport {
        events,
        position,
        seconds,
        events_per_second: events as f64 / seconds.max(1e-9),
    })
}

/// Threads that read and decode the log for a rebuild, and then write the models: one per
/// core, at least two and at most eight. The fold, on the caller's thread, takes a fraction
/// of one core.
fn rebuild_threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 8))
}

/// Runs of [`REBUILD_CHUNK`] decoded events from a starting seq, read by several threads and
/// handed out in seq order. Run `k` starts at `from + k × REBUILD_CHUNK` and is read by
/// thread `k mod readers`. A run shorter than the rest is the last: it ends at the durable
/// head as it was when it was read, and nothing after it is handed out, so the runs have no
/// gap even while the log grows.
struct DecodedRuns {
    readers: Vec<mpsc::Receiver<Result<Vec<Decoded>, StoreError>>>,
    next: usize,
    /// A short run was handed out: it was the last.
    ended: bool,
}

impl DecodedRuns {
    fn new(readers: Vec<mpsc::Receiver<Result<Vec<Decoded>, StoreError>>>) -> Self {
        Self {
            readers,
            next: 0,
            ended: false,
        }
    }

    /// The next run in seq order; `None` after the last.
    async fn next(&mut self) -> Result<Option<Vec<Decoded>>, ProjectionError> {
        if self.ended {
            return Ok(None);
        }
        let reader = self.next % self.readers.len();
        self.next += 1;
        match self.readers[reader].recv().await {
            Some(run) => {
                let run = run?;
                self.ended = run.len() < REBUILD_CHUNK;
                Ok(Some(run))
            }
            None => Err(ProjectionError::Corrupt(
                "a reader of the rebuild stopped before the end of the log".into(),
            )),
        }
    }
}

fn read_decoded<S: EventStore>(
    store: &S,
    from: u64,
    readers: usize,
) -> Result<DecodedRuns, ProjectionError> {
    // The first run that ends the log (short, or failed): no reader reads past it.
    let last_run = Arc::new(AtomicU64::new(u64::MAX));
    let mut receivers = Vec::with_capacity(readers);
    for first in 0..readers {
        // Sixteen runs ahead of the fold among them, no more: memory stays bounded.
        let (tx, rx) = mpsc::channel((16 / readers).max(2));
        receivers.push(rx);
        let (store, last_run) = (store.clone(), last_run.clone());
        std::thread::Builder::new()
            .name("rebuild-reader".into())
            .spawn(move || {
                let mut k = first as u64;
                while k <= last_run.load(Ordering::Acquire) {
                    let start = from + k * REBUILD_CHUNK as u64;
                    let mut run = Vec::with_capacity(REBUILD_CHUNK);
                    let read = store.scan_all(start, REBUILD_CHUNK, |e| run.push(decode(e)));
                    if !matches!(read, Ok(REBUILD_CHUNK)) {
                        last_run.fetch_min(k, Ordering::AcqRel);
                    }
                    // A channel closed says the rebuild gave up.
                    if tx.blocking_send(read.map(|_| run)).is_err() {
                        break;
                    }
                    k += readers as u64;
                }
            })?;
    }
    Ok(DecodedRuns::new(receivers))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::projection::record::Position;

    /// Run `k` as a reader hands it over: `len` events from its first seq.
    fn run(k: u64, len: usize) -> Result<Vec<Decoded>, StoreError> {
        let first = 1 + k * REBUILD_CHUNK as u64;
        Ok((first..first + len as u64)
            .map(|seq| Decoded {
                at: Position {
                    seq,
                    version: 1,
                    recorded_at: chrono::Utc::now(),
                },
                event: None,
            })
            .collect())
    }

    fn seqs(runs: &[Vec<Decoded>]) -> Vec<u64> {
        runs.iter().flatten().map(|d| d.at.seq).collect()
    }

    #[tokio::test]
    async fn runs_are_handed_out_in_seq_order_up_to_the_first_short_one() {
        let ((tx0, rx0), (tx1, rx1)) = (mpsc::channel(8), mpsc::channel(8));
        // Reader 1 read run 3 after the log had grown past run 2, which reader 0 found short:
        // run 3 starts where run 2 would have ended, after events not read, and is not used.
        for (tx, k, len) in [
            (&tx0, 0, REBUILD_CHUNK),
            (&tx1, 1, REBUILD_CHUNK),
            (&tx0, 2, 5),
            (&tx1, 3, REBUILD_CHUNK),
        ] {
            tx.send(run(k, len)).await.unwrap();
        }
        // The readers stop there; a run asked for past the end would be an error.
        drop((tx0, tx1));
        let mut runs = DecodedRuns::new(vec![rx0, rx1]);
        let mut got = Vec::new();
        while let Some(run) = runs.next().await.unwrap() {
            got.push(run);
        }
        let end = 2 * REBUILD_CHUNK as u64 + 5;
        assert_eq!(seqs(&got), (1..=end).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn a_reader_gone_before_the_end_or_failing_is_an_error() {
        let (first, second) = (mpsc::channel(8), mpsc::channel(8));
        first.0.send(run(0, REBUILD_CHUNK)).await.unwrap();
        drop(second.0);
        let mut runs = DecodedRuns::new(vec![first.1, second.1]);
        assert!(runs.next().await.unwrap().is_some());
        assert!(runs.next().await.is_err(), "run 1 never came");

        let (only, rx) = mpsc::channel(8);
        only.send(Err(StoreError::Closed)).await.unwrap();
        assert!(DecodedRuns::new(vec![rx]).next().await.is_err());
    }
}

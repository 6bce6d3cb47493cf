//! The storage trait every backend implements (sled now; PostgreSQL can join behind the same
//! tests), and the subscription built on top of it.
//!
//! Readers only ever see durable events: reads stop at the durable head, which moves after the
//! fsync of a group commit. A projection fed from `subscribe` therefore never gets ahead of
//! what a crash would keep.

use std::collections::VecDeque;
use std::future::Future;

use tokio::sync::watch;

use super::envelope::*;
use super::error::StoreError;
use super::verify::VerifyReport;

pub trait EventStore: Clone + Send + Sync + 'static {
    /// Appends the events of one command to one stream, atomically and durably: when this
    /// returns `Ok` they survive a crash or power loss. See [`AppendRequest`] for idempotency.
    fn append(
        &self,
        request: AppendRequest,
    ) -> impl Future<Output = Result<Appended, StoreError>> + Send;

    /// The stream's events from `from_version` on (versions start at 1), in order.
    fn read_stream(
        &self,
        stream: &StreamId,
        from_version: u64,
    ) -> impl Future<Output = Result<Vec<RecordedEvent>, StoreError>> + Send;

    /// Up to `limit` events from global position `from_seq` on (seqs start at 1), in order.
    fn read_all(
        &self,
        from_seq: u64,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<RecordedEvent>, StoreError>> + Send;

    /// Up to `limit` events from global position `from_seq` on, in order, each handed to
    /// `visit` as an [`EventView`] borrowed from the stored bytes, with the same checks as
    /// [`read_all`](Self::read_all). For readers that fold many events and need a few fields
    /// of each (a rebuild, the projector): they skip decoding whole envelopes. Returns how
    /// many events were visited; fewer than `limit` means the durable head was reached.
    fn scan_all<F>(&self, from_seq: u64, limit: usize, visit: F) -> Result<usize, StoreError>
    where
        F: FnMut(EventView<'_>);

    /// The answer first given to `command_id` by an idempotent append, once durable: lets a
    /// caller recognise a retry before deciding it again.
    fn find_command(
        &self,
        command_id: &str,
    ) -> impl Future<Output = Result<Option<Appended>, StoreError>> + Send;

    /// The last durable event.
    fn head(&self) -> Head;

    /// True once the store takes no more appends.
    fn is_closed(&self) -> bool;

    /// Notified with the durable head's seq after every group commit.
    fn watch_head(&self) -> watch::Receiver<u64>;

    /// Recomputes the chain from seq 1, or from a trusted checkpoint.
    fn verify(
        &self,
        from: Option<Checkpoint>,
    ) -> impl Future<Output = Result<VerifyReport, StoreError>> + Send;

    /// Every event from `from_seq` on: first those already stored, then each new one as it
    /// becomes durable, in seq order, none missed.
    fn subscribe(&self, from_seq: u64) -> Subscription<Self> {
        Subscription {
            head: self.watch_head(),
            store: self.clone(),
            next_seq: from_seq.max(1),
            buffer: VecDeque::new(),
        }
    }
}

/// A cursor over the log that catches up and then follows live appends.
///
/// It never relies on being told *what* was appended, only *that* the head moved: it always
/// reads the log itself from its own position, so it cannot miss or reorder events.
pub struct Subscription<S> {
    store: S,
    head: watch::Receiver<u64>,
    next_seq: u64,
    buffer: VecDeque<RecordedEvent>,
}

/// How many events a subscription reads at a time while catching up.
const CATCH_UP_CHUNK: usize = 512;

impl<S: EventStore> Subscription<S> {
    /// The next event, waiting for it if the subscription has caught up.
    /// Fails with [`StoreError::Closed`] once the store is closed and everything was read.
    pub async fn next(&mut self) -> Result<RecordedEvent, StoreError> {
        loop {
            if let Some(event) = self.buffer.pop_front() {
                return Ok(event);
            }
            let head = *self.head.borrow_and_update();
            if self.next_seq <= head {
                let events = self.store.read_all(self.next_seq, CATCH_UP_CHUNK).await?;
                let Some(last) = events.last() else {
                    let why = format!("event {} is below the head but not readable", self.next_seq);
                    return Err(StoreError::Codec(why));
                };
                self.next_seq = last.envelope.seq + 1;
                self.buffer.extend(events);
                continue;
            }
            if self.store.is_closed() {
                return Err(StoreError::Closed);
            }
            self.head.changed().await.map_err(|_| StoreError::Closed)?;
        }
    }

    /// The seq of the next event this subscription will yield.
    pub fn position(&self) -> u64 {
        self.next_seq - self.buffer.len() as u64
    }
}

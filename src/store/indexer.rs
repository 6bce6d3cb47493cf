//! The derived indexes of the log — stream index and idempotency records — kept right behind
//! the durable head.
//!
//! Why not write them in the group commit itself: measured here, sled spends about as much
//! CPU on each random-key index insert as on an event, so writing three keys per event on the
//! commit path cut durable throughput by more than half. The indexes are derivable from the
//! events (every envelope carries its stream, version and command id), so they need neither
//! atomicity with the events nor an fsync of their own: the writer applies them once the
//! batch is durable, while the next batch's fsync runs, together with an `indexed_through`
//! watermark in the same atomic batch. After a crash, [`catch_up`] re-derives
//! whatever lies between the watermark and the head before the store serves anything.
//!
//! Readers and the writer never depend on the index being current: the writer remembers what
//! it decided since the watermark, and publishes the durable part of it (`Shared::recent`) for
//! `read_stream` and `find_command`, pruned as the watermark passes.
//!
//! Idempotency records are kept for the appends that may be sent again
//! ([`AppendRequest::idempotent`](super::AppendRequest::idempotent)). The envelope does not say
//! whether an append was one of them, so what [`catch_up`] derives gets a record either way:
//! one more key for a command that is never sent again, never an answer missing.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use super::chunk::Cursor;
use super::envelope::{Appended, StreamId};
use super::error::StoreError;
use super::layout;
use super::sled_store::Shared;

/// Keys written per sled batch when the index catches up at open.
const CATCH_UP_KEYS_PER_BATCH: usize = 4096;

/// Index entries for everything up to and including `through`.
pub struct IndexWork {
    /// Per stream-index chunk: the place of its first new seq, and the new seqs.
    streams: BTreeMap<Vec<u8>, (usize, Vec<u8>)>,
    commands: Vec<(Vec<u8>, Vec<u8>)>,
    pub through: u64,
}

impl IndexWork {
    pub fn new() -> Self {
        Self {
            streams: BTreeMap::new(),
            commands: Vec::new(),
            through: 0,
        }
    }

    /// The index entries of one append: its seqs in the stream index and, for a command that
    /// may be sent again, its idempotency record.
    pub fn add(&mut self, command_id: Option<&str>, appended: &Appended) {
        for (version, seq) in
            (appended.first_version..=appended.last_version).zip(appended.first_seq..)
        {
            let (key, slot) = layout::stream_slot(&appended.stream, version);
            let (first, seqs) = self.streams.entry(key).or_insert((slot, Vec::new()));
            // A stream's versions come in order, so a chunk's new seqs are contiguous.
            debug_assert_eq!(*first + seqs.len() / 8, slot);
            seqs.extend_from_slice(&seq.to_be_bytes());
        }
        if let Some(command_id) = command_id {
            let record = layout::encode_appended(appended);
            self.commands
                .push((layout::command_key(command_id), record));
        }
        self.through = self.through.max(appended.last_seq);
    }

    /// How many keys the work writes.
    pub fn keys(&self) -> usize {
        self.streams.len() + self.commands.len()
    }

    pub fn apply(self, shared: &Shared) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for (key, (first, seqs)) in self.streams {
            let value = if first == 0 {
                seqs
            } else {
                // The chunk already holds the stream's earlier versions: keep them, add these.
                let stored = shared.index.get(&key)?.unwrap_or_default();
                if stored.len() < first * 8 {
                    return Err(StoreError::Codec(format!(
                        "the stream index lacks versions before the {}th of a chunk",
                        first + 1
                    )));
                }
                let mut value = Vec::with_capacity(first * 8 + seqs.len());
                value.extend_from_slice(&stored[..first * 8]);
                value.extend_from_slice(&seqs);
                value
            };
            batch.insert(key, value);
        }
        for (k, v) in self.commands {
            batch.insert(k, v);
        }
        batch.insert(layout::INDEXED_KEY, &self.through.to_be_bytes()[..]);
        shared.index.apply_batch(batch)?;
        shared
            .indexed_through
            .fetch_max(self.through, Ordering::Release);
        Ok(())
    }
}

/// The watermark persisted with the index: every event up to it is indexed.
pub fn persisted_watermark(index: &sled::Tree) -> Result<u64, StoreError> {
    match index.get(layout::INDEXED_KEY)? {
        Some(v) => layout::u64_value(&v),
        None => Ok(0),
    }
}

/// Indexes the events between the persisted watermark and `head` (what a crash left
/// unindexed). Reads only those events, and keeps an idempotency record for each append.
pub fn catch_up(shared: &Shared, head: u64) -> Result<u64, StoreError> {
    let mut watermark = persisted_watermark(&shared.index)?;
    if watermark > head {
        // The index knows of events the log does not have (the log was restored from an
        // older copy): it cannot be trusted, so it is derived again from the start.
        tracing::warn!(
            watermark,
            head,
            "the index is ahead of the log; rebuilding it"
        );
        shared.index.clear()?;
        watermark = 0;
    }
    let from = watermark + 1;
    let mut work = IndexWork::new();
    let mut group: Option<(String, Appended)> = None;
    let mut cursor = Cursor::new(&shared.log, from, head.max(1))?;
    while let Some(record) = cursor.next_record()? {
        if record.position < from || record.position > head {
            continue;
        }
        let links = layout::decode_links(&record.body)?;
        let stream = StreamId::new(links.stream.as_ref())?;
        // The events of one append are contiguous and share their command id.
        match &mut group {
            Some((command, a)) if *command == links.command_id && a.stream == stream => {
                a.last_seq = links.seq;
                a.last_version = links.version;
            }
            _ => {
                if let Some((command, a)) = group.take() {
                    work.add(Some(&command), &a);
                }
                if work.keys() >= CATCH_UP_KEYS_PER_BATCH {
                    // A long way behind (a new index layout derives everything): written in
                    // parts, each with its watermark, as one sled batch holds on to every
                    // node it replaces until it ends.
                    std::mem::replace(&mut work, IndexWork::new()).apply(shared)?;
                }
                let a = Appended {
                    stream,
                    first_version: links.version,
                    last_version: links.version,
                    first_seq: links.seq,
                    last_seq: links.seq,
                    deduplicated: false,
                };
                group = Some((links.command_id.into_owned(), a));
            }
        }
    }
    if let Some((command, a)) = group {
        work.add(Some(&command), &a);
    }
    if work.through > 0 {
        work.apply(shared)?;
    }
    if from <= head {
        tracing::info!(
            from,
            through = head,
            "indexed the events a restart found unindexed"
        );
    }
    Ok(head)
}

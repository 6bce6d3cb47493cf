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

use std::sync::atomic::Ordering;

use super::chunk::Cursor;
use super::envelope::{Appended, StreamId};
use super::error::StoreError;
use super::layout;
use super::sled_store::Shared;

/// Index entries for everything up to and including `through`.
pub struct IndexWork {
    pub entries: Vec<(Vec<u8>, Vec<u8>)>,
    pub through: u64,
}

impl IndexWork {
    pub fn new() -> Self {
        Self {
            entries: Vec::new(),
            through: 0,
        }
    }

    /// The index entries of one append: a stream-index entry per event, one idempotency record.
    pub fn add(&mut self, command_id: &str, appended: &Appended) {
        for (i, seq) in (appended.first_seq..=appended.last_seq).enumerate() {
            let key = layout::stream_key(&appended.stream, appended.first_version + i as u64);
            self.entries.push((key, seq.to_be_bytes().to_vec()));
        }
        let record = layout::encode_appended(appended);
        self.entries.push((layout::command_key(command_id), record));
        self.through = self.through.max(appended.last_seq);
    }

    pub fn apply(self, shared: &Shared) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for (k, v) in self.entries {
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
/// unindexed). Reads only those events.
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
                    work.add(&command, &a);
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
        work.add(&command, &a);
    }
    let caught_up = work.through;
    if caught_up > 0 {
        tracing::info!(
            from,
            through = caught_up,
            "indexing the events a restart found unindexed"
        );
        work.apply(shared)?;
    }
    Ok(head)
}

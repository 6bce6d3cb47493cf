//! Reading the log: a stream through its index, the whole log in seq order, an idempotency
//! record. Blocking sled work: [`SledStore`](super::SledStore)'s async API runs these on
//! tokio's blocking pool, its synchronous `scan_all` on the caller's own thread.
//!
//! Readers only see durable events (up to [`Shared::durable_seq`]); appends not yet in the
//! index are found in [`Shared::recent`].

use std::sync::atomic::Ordering;

use super::chunk::{Cursor, Record};
use super::envelope::*;
use super::error::StoreError;
use super::hash::Hash;
use super::layout;
use super::sled_store::Shared;
use super::verify::{BreakKind, ChainBreak};

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

/// An event as a command or an audit reads it, its bytes checked against its stored hash: a
/// change that still decodes (a digit in a payload) is refused as corruption, not folded into
/// a decision. (The projector's scan reads views and leaves the hashes to verification.)
fn decode_event(record: &Record) -> Result<RecordedEvent, StoreError> {
    if Hash::of(&record.body) != record.hash {
        return Err(StoreError::Corrupt(ChainBreak {
            seq: record.position,
            kind: BreakKind::HashMismatch,
            reason: "the stored bytes do not hash to the stored hash".into(),
        }));
    }
    Ok(RecordedEvent {
        envelope: layout::decode_envelope(&record.body)?,
        hash: record.hash,
    })
}

fn read_event(shared: &Shared, seq: u64) -> Result<RecordedEvent, StoreError> {
    let mut cursor = Cursor::new(&shared.log, seq, seq)?;
    while let Some(record) = cursor.next_record()? {
        if record.position == seq {
            return decode_event(&record);
        }
    }
    Err(StoreError::Codec(format!(
        "event {seq} is indexed but not stored"
    )))
}

/// Hands `visit` the stored records of up to `limit` events from `from_seq` on, up to the
/// durable head, each with the seq it must name: `visit` checks that with [`in_sequence`]
/// before using the record. Refuses a log with a hole or a stranger in it. Returns how
/// many records were visited.
fn scan_records<F>(
    shared: &Shared,
    from_seq: u64,
    limit: usize,
    mut visit: F,
) -> Result<usize, StoreError>
where
    F: FnMut(&Record, u64) -> Result<(), StoreError>,
{
    let durable = shared.durable_seq();
    if from_seq > durable || limit == 0 {
        return Ok(0);
    }
    let from_seq = from_seq.max(1);
    let mut visited = 0usize;
    let mut cursor = Cursor::new(&shared.log, from_seq, durable)?;
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

/// The stream's durable events from `from_version` on.
pub fn read_stream(
    shared: &Shared,
    stream: &StreamId,
    from_version: u64,
) -> Result<Vec<RecordedEvent>, StoreError> {
    // Under the lock the writer prunes with, the watermark and the not-yet-indexed appends
    // agree: everything up to `indexed` is in the index, everything after in `recent`.
    let (indexed, durable, recent_seqs) = {
        let recent = shared.recent.read().unwrap();
        let indexed = shared.indexed_through.load(Ordering::Acquire);
        let durable = shared.durable_seq();
        let seqs: Vec<(u64, u64)> = recent
            .iter()
            .filter(|(_, a)| &a.stream == stream && a.first_seq > indexed && a.last_seq <= durable)
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
            events.push(read_event(shared, seq)?);
        }
    }
    for (_, seq) in recent_seqs {
        events.push(read_event(shared, seq)?);
    }
    Ok(events)
}

/// Up to `limit` durable events from `from_seq` on, decoded whole.
pub fn read_all(
    shared: &Shared,
    from_seq: u64,
    limit: usize,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let mut events = Vec::with_capacity(limit.min(4096));
    scan_records(shared, from_seq, limit, |record, expected| {
        let event = decode_event(record)?;
        in_sequence(expected, event.envelope.seq)?;
        events.push(event);
        Ok(())
    })?;
    Ok(events)
}

/// Up to `limit` durable events from `from_seq` on, each handed to `visit` as a view.
pub fn scan_all<F>(
    shared: &Shared,
    from_seq: u64,
    limit: usize,
    mut visit: F,
) -> Result<usize, StoreError>
where
    F: FnMut(EventView<'_>),
{
    scan_records(shared, from_seq, limit, |record, expected| {
        let view = layout::decode_view(&record.body)?;
        in_sequence(expected, view.seq)?;
        visit(view);
        Ok(())
    })
}

/// The first answer given to an idempotent append of `command_id`, once durable.
pub fn find_command(shared: &Shared, command_id: &str) -> Result<Option<Appended>, StoreError> {
    let durable = shared.durable_seq();
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

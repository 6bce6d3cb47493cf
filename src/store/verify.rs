//! Recomputing the hash chain: the check an inspector runs over the trail, and the cheap
//! version of it that guards every open.
//!
//! The chain breaks in a recognisable way for each kind of tampering: a changed payload or a
//! changed hash fails the recomputed digest at that seq; a missing event leaves a gap in the
//! keys; two swapped or a duplicated event carry a `seq` in their body that is not their
//! key's; a truncated tail ends before the chain head recorded beside the events (or before a
//! trusted checkpoint held elsewhere).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::envelope::{Checkpoint, Head};
use super::error::StoreError;
use super::hash::Hash;
use super::layout;

/// The first point where the chain does not hold, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainBreak {
    pub seq: u64,
    pub kind: BreakKind,
    pub reason: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakKind {
    /// The stored bytes do not hash to the stored hash.
    HashMismatch,
    /// The event does not point at the hash of the one before it.
    BrokenLink,
    /// No event is stored at a seq the chain needs.
    Missing,
    /// The event stored under this seq says it is another one.
    WrongSeq,
    /// A stream's versions are not 1, 2, 3, …
    WrongVersion,
    /// Bytes that are not a record.
    Malformed,
    /// Events beyond the recorded chain head.
    BeyondHead,
    /// The trusted checkpoint does not match the log.
    CheckpointMismatch,
}

/// What a verification run found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    /// Events whose links were recomputed.
    pub checked: u64,
    /// The last event that verified.
    pub verified_through: Head,
    /// The chain head recorded in the log.
    pub recorded_head: Head,
    /// `None` when the whole chain holds.
    pub first_break: Option<ChainBreak>,
}

impl VerifyReport {
    pub fn is_ok(&self) -> bool {
        self.first_break.is_none()
    }
}

fn broken(seq: u64, kind: BreakKind, reason: impl Into<String>) -> ChainBreak {
    ChainBreak {
        seq,
        kind,
        reason: reason.into(),
    }
}

/// Checks one stored record against the seq it is stored under and the hash before it.
/// Returns its hash, stream and version.
fn check_record(seq: u64, record: &[u8], prev: &Hash) -> Result<(Hash, String, u64), ChainBreak> {
    let malformed = |e: String| broken(seq, BreakKind::Malformed, e);
    let (stored, body) = layout::split_record(record).map_err(|e| malformed(e.to_string()))?;
    let actual = Hash::of(body);
    if actual != stored {
        return Err(broken(
            seq,
            BreakKind::HashMismatch,
            format!("stored bytes hash to {actual}, the record says {stored}"),
        ));
    }
    let links = layout::decode_links(body).map_err(|e| malformed(e.to_string()))?;
    if links.seq != seq {
        return Err(broken(
            seq,
            BreakKind::WrongSeq,
            format!("the event stored at seq {seq} says it is seq {}", links.seq),
        ));
    }
    if links.prev_hash != *prev {
        return Err(broken(
            seq,
            BreakKind::BrokenLink,
            format!(
                "prev_hash is {}, the event before hashes to {prev}",
                links.prev_hash
            ),
        ));
    }
    Ok((stored, links.stream.into_owned(), links.version))
}

/// Reads the recorded chain head, `Head::default()` for an empty log.
pub fn recorded_head(tree: &sled::Tree) -> Result<Head, StoreError> {
    match tree.get(layout::HEAD_KEY)? {
        Some(v) => layout::decode_head(&v),
        None => Ok(Head::default()),
    }
}

/// Recomputes the chain from seq 1, or from a trusted checkpoint.
///
/// `against`: the head the log must end at. `None` reads the head recorded in the tree and
/// also reports events stored beyond it (offline, nothing appends meanwhile); `Some(head)` —
/// the durable head of a running store — checks exactly up to it, so appends that land during
/// the run are not mistaken for tampering.
pub fn verify_tree(
    tree: &sled::Tree,
    from: Option<Checkpoint>,
    against: Option<Head>,
) -> Result<VerifyReport, StoreError> {
    let recorded = match against {
        Some(head) => head,
        None => recorded_head(tree)?,
    };
    let end = if against.is_some() {
        recorded.seq
    } else {
        u64::MAX
    };
    let mut report = VerifyReport {
        checked: 0,
        verified_through: Head::default(),
        recorded_head: recorded,
        first_break: None,
    };
    let start = match from {
        Some(cp) if cp.seq > 0 => match check_checkpoint(tree, cp)? {
            Ok(()) => cp,
            Err(b) => {
                report.first_break = Some(b);
                return Ok(report);
            }
        },
        _ => Head::default(),
    };
    report.verified_through = start;
    // Stream versions are only checked from genesis: a checkpoint says nothing about them.
    let mut versions: Option<HashMap<String, u64>> = from.is_none().then(HashMap::new);
    if start.seq >= end {
        report.first_break = check_end(start, recorded);
        return Ok(report);
    }
    for item in tree.range(layout::event_key(start.seq + 1)..=layout::event_key(end)) {
        let (key, record) = item?;
        let seq = layout::seq_of_event_key(&key)?;
        let at = report.verified_through;
        if seq != at.seq + 1 {
            let why = format!(
                "seq {} is missing (the next stored event is {seq})",
                at.seq + 1
            );
            report.first_break = Some(broken(at.seq + 1, BreakKind::Missing, why));
            return Ok(report);
        }
        if seq > recorded.seq {
            let why = format!(
                "event stored beyond the recorded chain head {}",
                recorded.seq
            );
            report.first_break = Some(broken(seq, BreakKind::BeyondHead, why));
            return Ok(report);
        }
        match check_record(seq, &record, &at.hash) {
            Ok((hash, stream, version)) => {
                if let Some(versions) = versions.as_mut() {
                    let expected = versions.get(&stream).copied().unwrap_or(0) + 1;
                    if version != expected {
                        let why =
                            format!("stream {stream} has version {version}, expected {expected}");
                        report.first_break = Some(broken(seq, BreakKind::WrongVersion, why));
                        return Ok(report);
                    }
                    versions.insert(stream, version);
                }
                report.verified_through = Head { seq, hash };
                report.checked += 1;
            }
            Err(b) => {
                report.first_break = Some(b);
                return Ok(report);
            }
        }
    }
    report.first_break = check_end(report.verified_through, recorded);
    Ok(report)
}

/// The log must end exactly at the recorded head, with the recorded hash.
fn check_end(last: Head, recorded: Head) -> Option<ChainBreak> {
    if last.seq < recorded.seq {
        let why = format!(
            "the log ends at seq {} but its head records seq {} (truncated tail)",
            last.seq, recorded.seq
        );
        return Some(broken(last.seq + 1, BreakKind::Missing, why));
    }
    if last.hash != recorded.hash {
        let why = format!(
            "the last event hashes to {}, the head records {}",
            last.hash, recorded.hash
        );
        return Some(broken(last.seq, BreakKind::HashMismatch, why));
    }
    None
}

fn check_checkpoint(
    tree: &sled::Tree,
    cp: Checkpoint,
) -> Result<Result<(), ChainBreak>, StoreError> {
    let Some(record) = tree.get(layout::event_key(cp.seq))? else {
        let why = format!(
            "the trusted checkpoint's event {} is not in the log (truncated?)",
            cp.seq
        );
        return Ok(Err(broken(cp.seq, BreakKind::Missing, why)));
    };
    let (stored, body) = layout::split_record(&record)?;
    if stored != cp.hash || Hash::of(body) != cp.hash {
        let why = format!(
            "the event at the checkpoint does not hash to the trusted {}",
            cp.hash
        );
        return Ok(Err(broken(cp.seq, BreakKind::CheckpointMismatch, why)));
    }
    Ok(Ok(()))
}

/// How many events at the end of the log are re-linked on every open.
pub const TAIL_CHECK: u64 = 64;

/// The cheap check run at open: the recorded head must name the last stored event, and the
/// last [`TAIL_CHECK`] events must hash and link. Reads O(1) events whatever the log's size.
pub fn check_tail(tree: &sled::Tree) -> Result<Head, StoreError> {
    let recorded = recorded_head(tree)?;
    let last = match tree.range(layout::events_from(1)).next_back() {
        Some(item) => layout::seq_of_event_key(&item?.0)?,
        None => 0,
    };
    if last > recorded.seq {
        let why = format!(
            "event stored beyond the recorded chain head {}",
            recorded.seq
        );
        return Err(StoreError::Corrupt(broken(
            recorded.seq + 1,
            BreakKind::BeyondHead,
            why,
        )));
    }
    let from = recorded.seq.saturating_sub(TAIL_CHECK).max(1);
    let mut records = Vec::new();
    for item in tree.range(layout::events_from(from.saturating_sub(1).max(1))) {
        let (key, record) = item?;
        records.push((layout::seq_of_event_key(&key)?, record));
    }
    // Link the tail: the first record read only provides the hash the next must point at.
    let mut at: Option<Head> = None;
    for (seq, record) in records {
        let prev = match at {
            None if seq > 1 => {
                let (hash, _) = layout::split_record(&record)?;
                at = Some(Head { seq, hash });
                continue;
            }
            None => Hash::ZERO,
            Some(h) if h.seq + 1 != seq => {
                let why = format!("seq {} is missing near the tail", h.seq + 1);
                return Err(StoreError::Corrupt(broken(
                    h.seq + 1,
                    BreakKind::Missing,
                    why,
                )));
            }
            Some(h) => h.hash,
        };
        let (hash, _, _) = check_record(seq, &record, &prev).map_err(StoreError::Corrupt)?;
        at = Some(Head { seq, hash });
    }
    match check_end(at.unwrap_or_default(), recorded) {
        Some(b) => Err(StoreError::Corrupt(b)),
        None => Ok(recorded),
    }
}

//! Recomputing the hash chain: the check an inspector runs over the trail, and the cheap
//! version of it that guards every open.
//!
//! The chain breaks in a recognisable way for each kind of tampering: a changed payload or a
//! changed hash fails the recomputed digest at that seq; where an event is missing, two are
//! swapped or one is duplicated, the event standing at seq N says (in its hashed body) that it
//! is another one; a truncated tail ends before the chain head recorded beside the events (or
//! before a trusted checkpoint held elsewhere).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::chunk::{Cursor, Record};
use super::envelope::{Checkpoint, Head};
use super::error::StoreError;
use super::hash::Hash;
use super::layout;

/// The first point where the chain does not hold, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChainBreak {
    pub seq: u64,
    pub kind: BreakKind,
    pub reason: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BreakKind {
    /// The stored bytes do not hash to the stored hash.
    HashMismatch,
    /// The event does not point at the hash of the one before it.
    BrokenLink,
    /// The log ends before the seq its head (or a trusted checkpoint) names.
    Missing,
    /// Where seq N belongs, another event stands: one missing, reordered or duplicated.
    OutOfSequence,
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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

/// Checks one stored record against the seq it must have and the hash before it.
/// Returns its hash, stream and version.
fn check_record(
    expected: u64,
    record: &Record,
    prev: &Hash,
) -> Result<(Hash, String, u64), ChainBreak> {
    let actual = Hash::of(&record.body);
    if actual != record.hash {
        let why = format!(
            "stored bytes hash to {actual}, the record says {}",
            record.hash
        );
        return Err(broken(expected, BreakKind::HashMismatch, why));
    }
    let links = layout::decode_links(&record.body)
        .map_err(|e| broken(expected, BreakKind::Malformed, e.to_string()))?;
    if links.seq != expected || record.position != expected {
        let why = format!(
            "expected seq {expected} here, found seq {} (an event missing, reordered or duplicated)",
            links.seq
        );
        return Err(broken(expected, BreakKind::OutOfSequence, why));
    }
    if links.prev_hash != *prev {
        let why = format!(
            "prev_hash is {}, the event before hashes to {prev}",
            links.prev_hash
        );
        return Err(broken(expected, BreakKind::BrokenLink, why));
    }
    Ok((actual, links.stream.into_owned(), links.version))
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
    verify_tree_until(tree, from, against, &|| false)
}

/// [`verify_tree`] that gives up with [`StoreError::Closed`] as soon as `stop` says so: the
/// check run in the background after open must not hold a closing store open.
pub fn verify_tree_until(
    tree: &sled::Tree,
    from: Option<Checkpoint>,
    against: Option<Head>,
    stop: &dyn Fn() -> bool,
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
    // From genesis the cursor starts at key 0, so that nothing stored before seq 1 escapes.
    let mut cursor = Cursor::new(tree, if start.seq == 0 { 0 } else { start.seq + 1 }, end)?;
    loop {
        if stop() {
            return Err(StoreError::Closed);
        }
        let record = match next_record(&mut cursor, report.verified_through.seq + 1) {
            Ok(Some(record)) => record,
            Ok(None) => break,
            Err(StoreError::Corrupt(b)) => {
                report.first_break = Some(b);
                return Ok(report);
            }
            Err(e) => return Err(e),
        };
        if start.seq > 0 && record.position <= start.seq {
            continue;
        }
        let at = report.verified_through;
        let seq = at.seq + 1;
        if seq > recorded.seq {
            // Online, these are appends made after the durable head this run was asked about.
            if against.is_some() {
                break;
            }
            let why = format!(
                "event stored beyond the recorded chain head {}",
                recorded.seq
            );
            report.first_break = Some(broken(seq, BreakKind::BeyondHead, why));
            return Ok(report);
        }
        let (hash, stream, version) = match check_record(seq, &record, &at.hash) {
            Ok(checked) => checked,
            Err(b) => {
                report.first_break = Some(b);
                return Ok(report);
            }
        };
        if let Some(versions) = versions.as_mut() {
            let expected = versions.get(&stream).copied().unwrap_or(0) + 1;
            if version != expected {
                let why = format!("stream {stream} has version {version}, expected {expected}");
                report.first_break = Some(broken(seq, BreakKind::WrongVersion, why));
                return Ok(report);
            }
            versions.insert(stream, version);
        }
        report.verified_through = Head { seq, hash };
        report.checked += 1;
    }
    report.first_break = check_end(report.verified_through, recorded);
    Ok(report)
}

/// The next record, turning an undecodable chunk into a reported break rather than an error.
fn next_record(cursor: &mut Cursor, seq: u64) -> Result<Option<Record>, StoreError> {
    match cursor.next_record() {
        Err(StoreError::Codec(why)) => {
            Err(StoreError::Corrupt(broken(seq, BreakKind::Malformed, why)))
        }
        other => other,
    }
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
    let mut cursor = Cursor::new(tree, cp.seq, cp.seq)?;
    while let Some(record) = cursor.next_record()? {
        if record.position == cp.seq {
            if record.hash == cp.hash && Hash::of(&record.body) == cp.hash {
                return Ok(Ok(()));
            }
            let why = format!(
                "the event at the checkpoint does not hash to the trusted {}",
                cp.hash
            );
            return Ok(Err(broken(cp.seq, BreakKind::CheckpointMismatch, why)));
        }
    }
    let why = format!(
        "the trusted checkpoint's event {} is not in the log (truncated?)",
        cp.seq
    );
    Ok(Err(broken(cp.seq, BreakKind::Missing, why)))
}

/// How many events at the end of the log are re-linked on every open.
pub const TAIL_CHECK: u64 = 64;

/// The cheap check run at open: the recorded head must name the last stored event, and the
/// last [`TAIL_CHECK`] or so events must hash and link. Reads O(1) chunks whatever the log's
/// size.
pub fn check_tail(tree: &sled::Tree) -> Result<Head, StoreError> {
    let recorded = recorded_head(tree)?;
    let from = recorded.seq.saturating_sub(TAIL_CHECK).max(1);
    let mut cursor = Cursor::new(tree, from, u64::MAX)?;
    let mut at: Option<Head> = None;
    while let Some(record) = next_record(&mut cursor, from)? {
        let prev = match at {
            // The first record read only provides the hash the next one must point at.
            None if record.position > 1 => {
                at = Some(Head {
                    seq: record.position,
                    hash: record.hash,
                });
                continue;
            }
            None => Hash::ZERO,
            Some(h) => h.hash,
        };
        let seq = at.map_or(1, |h| h.seq + 1);
        if seq > recorded.seq {
            let why = format!(
                "event stored beyond the recorded chain head {}",
                recorded.seq
            );
            return Err(StoreError::Corrupt(broken(seq, BreakKind::BeyondHead, why)));
        }
        let (hash, _, _) = check_record(seq, &record, &prev).map_err(StoreError::Corrupt)?;
        at = Some(Head { seq, hash });
    }
    match check_end(at.unwrap_or_default(), recorded) {
        Some(b) => Err(StoreError::Corrupt(b)),
        None => Ok(recorded),
    }
}

//! Errors of the log. Each names what went wrong; callers map them to answers (HTTP 409 for a
//! version conflict, 503 for a closed or broken store, …).

use super::envelope::{ExpectedVersion, StreamId};
use super::verify::ChainBreak;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("stream {stream} is at version {current}, not {expected:?}")]
    WrongExpectedVersion {
        stream: StreamId,
        expected: ExpectedVersion,
        /// The stream's version now (0: the stream does not exist).
        current: u64,
    },
    #[error(
        "command id {command_id:?} was already used for stream {original_stream}, not {stream}"
    )]
    CommandIdReused {
        command_id: String,
        original_stream: StreamId,
        stream: StreamId,
    },
    #[error("invalid stream id {0:?}: 1 to 128 bytes, no control characters")]
    InvalidStreamId(String),
    #[error("invalid append: {0}")]
    InvalidAppend(String),
    #[error(
        "the event log is broken at seq {}: {}; refusing to serve it (run `duban verify` for a full report)",
        .0.seq, .0.reason
    )]
    Corrupt(ChainBreak),
    #[error("the store stopped accepting writes after a storage failure: {0}")]
    Poisoned(String),
    #[error(
        "storage failed while this append was being made durable ({0}); it may or may not be in the log: retry with the same command id"
    )]
    InDoubt(String),
    #[error("the store is closed")]
    Closed,
    #[error("the log is still being verified after opening; writes wait for that check")]
    Verifying,
    #[error("too many appends are waiting for the writer; retry shortly")]
    Overloaded,
    #[error("storage error: {0}")]
    Sled(#[from] sled::Error),
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    #[error("undecodable record: {0}")]
    Codec(String),
}

impl StoreError {
    /// True for a failure of the storage itself — sled, the file system, bytes that do not
    /// decode, a broken chain — as opposed to a refused or conflicting append. A store that
    /// meets one while reading stops taking writes: it cannot vouch for what it would append
    /// on top.
    pub fn is_storage_failure(&self) -> bool {
        matches!(
            self,
            StoreError::Sled(_) | StoreError::Io(_) | StoreError::Codec(_) | StoreError::Corrupt(_)
        )
    }
}

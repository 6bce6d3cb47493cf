//! The event log: the single source of truth. It knows envelopes and bytes, and nothing of
//! projects. Appends are group-committed by one writer thread and acknowledged only once
//! durable; every event is hash-chained to the one before it.
//!
//! ```text
//! append ─▶ channel ─▶ writer: decide seq/version/hash ─▶ apply_batch (chunks + head)
//!            ─▶ sync thread: flush + fdatasync ─▶ durable head ─▶ ack, reads, subscribers
//!            (meanwhile the writer indexes the batch before: stream index, idempotency records)
//! ```

mod chunk;
mod durability;
mod envelope;
mod error;
mod event_store;
mod hash;
mod indexer;
mod layout;
mod sled_store;
mod verify;
mod writer;

pub use envelope::*;
pub use error::StoreError;
pub use event_store::{EventStore, Subscription};
pub use hash::Hash;
pub use sled_store::{Clock, SledStore, StoreOptions, StoreStats};
pub use verify::{BreakKind, ChainBreak, TAIL_CHECK, VerifyReport};

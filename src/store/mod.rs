//! The event log: the single source of truth. It knows envelopes and bytes, and nothing of
//! projects. Appends are group-committed by one writer thread and acknowledged only once
//! durable; every event is hash-chained to the one before it.
//!
//! ```text
//! append ─▶ verified? (health) ─▶ bounded channel ─▶ writer: decide seq/version/hash
//!            ─▶ apply_batch (chunks + head)
//!            ─▶ sync thread: flush + fdatasync ─▶ durable head ─▶ ack, reads, subscribers
//!            (meanwhile the writer indexes the batch before: stream index, idempotency records)
//! ```

mod chunk;
mod durability;
mod envelope;
mod error;
mod event_store;
mod hash;
mod health;
mod indexer;
mod layout;
mod reads;
mod sled_store;
mod verify;
mod writer;

pub use envelope::*;
pub use error::StoreError;
pub use event_store::{EventStore, Subscription};
pub use hash::Hash;
pub use health::{Readiness, VERIFY_WAIT};
pub use sled_store::{Clock, QUEUE_CAPACITY, SledStore, StoreOptions, StoreStats};
pub use verify::{BreakKind, ChainBreak, TAIL_CHECK, VerifyReport};

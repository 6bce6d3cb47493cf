//! The envelope: what the log stores around every event, and the values that go in and come
//! out of [`EventStore`](super::EventStore).
//!
//! The store knows envelopes and bytes only; the `payload` is opaque JSON that the domain
//! layer gives meaning to. Everything here is plain data — the rules that assign `seq`,
//! `version` and hashes live in the writer.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::error::StoreError;
use super::hash::Hash;

/// Longest stream id accepted, in bytes.
pub const MAX_STREAM_ID_LEN: usize = 128;
/// Longest command id (idempotency key) accepted, in bytes.
pub const MAX_COMMAND_ID_LEN: usize = 200;
/// Most events one append may carry.
pub const MAX_EVENTS_PER_APPEND: usize = 1_000;
/// Largest stored body of one event, in bytes (the HTTP body limit is 64 KiB too). Bodies
/// stay well below sled's inline-message threshold (a quarter of a 512 KiB segment).
pub const MAX_EVENT_BYTES: usize = 64 * 1024;

/// Identifies one stream of events — in duban, one key project.
///
/// Non-empty, at most [`MAX_STREAM_ID_LEN`] bytes, no control characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StreamId(String);

impl StreamId {
    pub fn new(id: impl Into<String>) -> Result<Self, StoreError> {
        let id = id.into();
        if id.is_empty() || id.len() > MAX_STREAM_ID_LEN || id.chars().any(char::is_control) {
            return Err(StoreError::InvalidStreamId(id));
        }
        Ok(Self(id))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for StreamId {
    type Error = StoreError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<StreamId> for String {
    fn from(value: StreamId) -> Self {
        value.0
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The optimistic-concurrency expectation of an append.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "version")]
pub enum ExpectedVersion {
    /// Append whatever the stream's version is.
    Any,
    /// The stream must not exist yet.
    NoStream,
    /// The stream's current version must be exactly this (0 means: no stream).
    Exact(u64),
}

impl ExpectedVersion {
    /// Whether a stream currently at `current` (0 = absent) satisfies this expectation.
    pub fn admits(self, current: u64) -> bool {
        match self {
            ExpectedVersion::Any => true,
            ExpectedVersion::NoStream => current == 0,
            ExpectedVersion::Exact(n) => current == n,
        }
    }
}

/// Who issued the command that produced an event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub sub: String,
    pub role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dept: Option<String>,
}

/// An event's payload: JSON text the store keeps byte for byte and never interprets.
///
/// Held as raw JSON rather than a parsed tree, so that writing and reading the log never
/// builds and tears down maps the store does not look at; readers parse it straight into
/// their own types with [`Payload::parse`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Payload(Box<serde_json::value::RawValue>);

impl Payload {
    /// Serialises any value as a payload.
    pub fn new<T: Serialize + ?Sized>(value: &T) -> Result<Self, StoreError> {
        serde_json::value::to_raw_value(value)
            .map(Payload)
            .map_err(|e| StoreError::Codec(e.to_string()))
    }

    /// Reads the payload as `T`.
    pub fn parse<'a, T: Deserialize<'a>>(&'a self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.0.get())
    }

    /// The payload as a JSON tree.
    pub fn to_value(&self) -> serde_json::Value {
        self.parse().expect("a payload is valid JSON")
    }

    /// The JSON text exactly as stored.
    pub fn as_str(&self) -> &str {
        self.0.get()
    }
}

impl From<serde_json::Value> for Payload {
    fn from(value: serde_json::Value) -> Self {
        Payload::new(&value).expect("a JSON value always serialises")
    }
}

impl PartialEq for Payload {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

/// One event as the caller hands it to the store.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewEvent {
    pub event_type: String,
    pub schema_version: u32,
    pub payload: Payload,
}

/// Everything one `append` call carries: the events of one command, all landing together.
#[derive(Clone, Debug)]
pub struct AppendRequest {
    pub stream: StreamId,
    pub expected: ExpectedVersion,
    pub events: Vec<NewEvent>,
    /// Names the command in the envelope; with `idempotent`, also its idempotency key.
    pub command_id: String,
    /// The caller may send this command again (after a timeout, a lost answer, a restart):
    /// the store keeps the first answer under `command_id`, and the same id again returns it
    /// and appends nothing. False for an id the caller generated afresh, unique, and never
    /// sends again (a command without an idempotency key): the writer neither looks it up nor
    /// records it, which spares the log an index record per command. (An index derived again
    /// from the log after a crash or an upgrade keeps a record for every append, as the
    /// envelope does not say which were idempotent; hence such an id must be unique.)
    pub idempotent: bool,
    pub correlation_id: Option<Uuid>,
    /// What the command asked, hashed, for an idempotent one: kept in the envelope so that a
    /// key sent again with another request can be told from a retry (see
    /// [`Envelope::request_hash`]).
    pub request_hash: Option<Hash>,
    pub actor: Actor,
}

/// The outcome of an append: where its events landed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appended {
    pub stream: StreamId,
    pub first_version: u64,
    /// The stream's version after this append.
    pub last_version: u64,
    pub first_seq: u64,
    /// The global position of the last event: read models that reached it show this write.
    pub last_seq: u64,
    /// True when this answer is the replay of an earlier append with the same command id.
    #[serde(default)]
    pub deduplicated: bool,
}

/// The envelope as stored: exactly these fields, in this order, serialised as JSON, are the
/// bytes the event's hash covers. `prev_hash` is inside, so the hash chains the log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub seq: u64,
    pub stream: StreamId,
    pub version: u64,
    pub event_id: Uuid,
    pub event_type: String,
    pub schema_version: u32,
    pub recorded_at: DateTime<Utc>,
    pub actor: Actor,
    pub command_id: String,
    pub correlation_id: Option<Uuid>,
    /// The hash of the request an idempotent command was appended for; absent on other
    /// commands and on events written before it was kept, so their stored bytes are as
    /// they were.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_hash: Option<Hash>,
    pub payload: Payload,
    pub prev_hash: Hash,
}

/// The fields of a stored envelope that a reader folding many events needs, borrowed from the
/// stored bytes: no allocation per event, and the fields it leaves out (ids, actor, hashes)
/// are skipped rather than decoded (and so not checked: [`Envelope`] is what checks them).
/// Handed out by [`EventStore::scan_all`](super::EventStore::scan_all).
#[derive(Debug, Deserialize)]
pub struct EventView<'a> {
    pub seq: u64,
    #[serde(borrow)]
    pub stream: std::borrow::Cow<'a, str>,
    pub version: u64,
    #[serde(borrow)]
    pub event_type: std::borrow::Cow<'a, str>,
    pub schema_version: u32,
    #[serde(deserialize_with = "crate::rfc3339::deserialize")]
    pub recorded_at: DateTime<Utc>,
    #[serde(borrow)]
    pub payload: &'a serde_json::value::RawValue,
}

/// An event read back from the log: its envelope and the hash of its stored bytes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordedEvent {
    pub envelope: Envelope,
    pub hash: Hash,
}

/// The end of the chain: the last durable event's position and hash.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Head {
    pub seq: u64,
    /// blake3, 64 hex digits.
    #[schema(value_type = String, pattern = "^[0-9a-f]{64}$")]
    pub hash: Hash,
}

/// A point of the chain the caller trusts (kept elsewhere, e.g. printed in a report), from
/// which verification may start instead of seq 1.
pub type Checkpoint = Head;

//! How the log is laid out in its one sled tree, and how a record's bytes look.
//!
//! Two trees. `log` is the source of truth: the events and the chain head, written by one
//! `apply_batch` per group commit — atomic in sled, also across a crash — so the head always
//! names the last event. `index` holds what can be derived from `log` again (see
//! [`indexer`](super::indexer)): the stream index, the idempotency records, and the watermark
//! up to which they are complete.
//!
//! | tree | key | value |
//! |---|---|---|
//! | log | `e` first seq (u64 BE) | a [chunk](super::chunk) of consecutive events, each stored as blake3(body) ‖ body, the body being the [`Envelope`] as JSON |
//! | log | `h` | chain head: seq (u64 BE) ‖ hash (32 bytes) |
//! | index | `s` len (u16 BE) stream version (u64 BE) | seq (u64 BE); a stream's last entry is its head |
//! | index | `c` command id | the [`Appended`] answer, as JSON |
//! | index | `i` | indexed-through watermark (u64 BE) |

use super::envelope::{Appended, Envelope, Head, StreamId};
use super::error::StoreError;
use super::hash::Hash;

pub const LOG_TREE: &str = "log";
pub const INDEX_TREE: &str = "index";
pub const HEAD_KEY: &[u8] = b"h";
pub const INDEXED_KEY: &[u8] = b"i";
const EVENT: u8 = b'e';
const STREAM: u8 = b's';
const COMMAND: u8 = b'c';

pub fn event_key(seq: u64) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[0] = EVENT;
    k[1..].copy_from_slice(&seq.to_be_bytes());
    k
}

/// Reads the seq back out of an event key.
pub fn seq_of_event_key(key: &[u8]) -> Result<u64, StoreError> {
    match key {
        [EVENT, rest @ ..] if rest.len() == 8 => Ok(u64::from_be_bytes(rest.try_into().unwrap())),
        _ => Err(StoreError::Codec(format!("not an event key: {key:?}"))),
    }
}

/// The prefix shared by every index entry of one stream.
pub fn stream_prefix(stream: &StreamId) -> Vec<u8> {
    let s = stream.as_str().as_bytes();
    let mut k = Vec::with_capacity(3 + s.len() + 8);
    k.push(STREAM);
    // Stream ids are at most 128 bytes, so the length always fits.
    k.extend_from_slice(&(s.len() as u16).to_be_bytes());
    k.extend_from_slice(s);
    k
}

pub fn stream_key(stream: &StreamId, version: u64) -> Vec<u8> {
    let mut k = stream_prefix(stream);
    k.extend_from_slice(&version.to_be_bytes());
    k
}

/// Reads the version back out of a stream-index key.
pub fn version_of_stream_key(key: &[u8]) -> Result<u64, StoreError> {
    let tail = key
        .len()
        .checked_sub(8)
        .map(|at| &key[at..])
        .ok_or_else(|| StoreError::Codec("short stream-index key".into()))?;
    Ok(u64::from_be_bytes(tail.try_into().unwrap()))
}

pub fn command_key(command_id: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + command_id.len());
    k.push(COMMAND);
    k.extend_from_slice(command_id.as_bytes());
    k
}

pub fn u64_value(bytes: &[u8]) -> Result<u64, StoreError> {
    bytes
        .try_into()
        .map(u64::from_be_bytes)
        .map_err(|_| StoreError::Codec("not an 8-byte integer".into()))
}

pub fn encode_head(head: &Head) -> [u8; 40] {
    let mut v = [0u8; 40];
    v[..8].copy_from_slice(&head.seq.to_be_bytes());
    v[8..].copy_from_slice(&head.hash.0);
    v
}

pub fn decode_head(bytes: &[u8]) -> Result<Head, StoreError> {
    if bytes.len() != 40 {
        return Err(StoreError::Codec("chain head is not 40 bytes".into()));
    }
    Ok(Head {
        seq: u64_value(&bytes[..8])?,
        hash: Hash(bytes[8..].try_into().unwrap()),
    })
}

/// Serialises an envelope into the body that is stored and hashed; returns it with its hash
/// (over the bytes exactly as stored, `prev_hash` included).
pub fn encode_body(envelope: &Envelope) -> Result<(Vec<u8>, Hash), StoreError> {
    let body = serde_json::to_vec(envelope).map_err(|e| StoreError::Codec(e.to_string()))?;
    let hash = Hash::of(&body);
    Ok((body, hash))
}

/// The fields that link an event into the chain and its stream, read from a body without
/// materialising the payload.
#[derive(serde::Deserialize)]
pub struct Links<'a> {
    pub seq: u64,
    #[serde(borrow)]
    pub stream: std::borrow::Cow<'a, str>,
    pub version: u64,
    #[serde(borrow)]
    pub command_id: std::borrow::Cow<'a, str>,
    pub prev_hash: Hash,
}

pub fn decode_links(body: &[u8]) -> Result<Links<'_>, StoreError> {
    serde_json::from_slice(body).map_err(|e| StoreError::Codec(e.to_string()))
}

pub fn decode_envelope(body: &[u8]) -> Result<Envelope, StoreError> {
    serde_json::from_slice(body).map_err(|e| StoreError::Codec(e.to_string()))
}

/// The fields of an envelope a folding reader needs, borrowed from its body.
pub fn decode_view(body: &[u8]) -> Result<super::envelope::EventView<'_>, StoreError> {
    serde_json::from_slice(body).map_err(|e| StoreError::Codec(e.to_string()))
}

pub fn encode_appended(appended: &Appended) -> Vec<u8> {
    serde_json::to_vec(appended).expect("Appended always serialises")
}

pub fn decode_appended(bytes: &[u8]) -> Result<Appended, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Codec(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_by_seq_and_version() {
        assert!(event_key(2) < event_key(10));
        assert!(event_key(255) < event_key(256));
        let s = StreamId::new("p-1").unwrap();
        assert!(stream_key(&s, 9) < stream_key(&s, 10));
        assert_eq!(version_of_stream_key(&stream_key(&s, 77)).unwrap(), 77);
        assert_eq!(seq_of_event_key(&event_key(42)).unwrap(), 42);
        // A stream id that is a prefix of another does not share its index range.
        let longer = StreamId::new("p-10").unwrap();
        assert!(!stream_key(&longer, 1).starts_with(&stream_prefix(&s)));
    }

    #[test]
    fn a_view_reads_the_same_fields_as_the_envelope() {
        let at = |s: &str| s.parse::<chrono::DateTime<chrono::Utc>>().unwrap();
        // Nanoseconds, a leap second, and a year the RFC 3339 parser refuses.
        for t in [
            "2026-11-26T16:42:38.123456789Z",
            "2016-12-31T23:59:60.5Z",
            "+10000-01-01T00:00:00Z",
        ] {
            let envelope = Envelope {
                seq: 7,
                stream: super::super::envelope::StreamId::new("p-1").unwrap(),
                version: 3,
                event_id: uuid::Uuid::nil(),
                event_type: "ProgressReported".into(),
                schema_version: 2,
                recorded_at: at(t),
                actor: super::super::envelope::Actor {
                    sub: "wang".into(),
                    role: "office".into(),
                    dept: None,
                },
                command_id: "c-1".into(),
                correlation_id: None,
                payload: serde_json::json!({ "percent": 40, "narrative": "主体\"完工\"" }).into(),
                prev_hash: Hash::of(b"x"),
            };
            let (body, _) = encode_body(&envelope).unwrap();
            let view = decode_view(&body).unwrap();
            assert_eq!(view.seq, 7);
            assert_eq!(view.stream, "p-1");
            assert_eq!(view.version, 3);
            assert_eq!(view.event_type, "ProgressReported");
            assert_eq!(view.schema_version, 2);
            assert_eq!(view.recorded_at, envelope.recorded_at, "{t}");
            assert_eq!(view.payload.get(), envelope.payload.as_str());
        }
    }

    #[test]
    fn head_round_trips() {
        let h = Head {
            seq: 9,
            hash: Hash::of(b"x"),
        };
        assert_eq!(decode_head(&encode_head(&h)).unwrap(), h);
    }
}

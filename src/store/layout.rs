//! How the log is laid out in its two sled trees, and how a record's bytes look.
//!
//! Two trees. `log` is the source of truth: the events and the chain head, written by one
//! `apply_batch` per group commit — atomic in sled, also across a crash — so the head always
//! names the last event. `index2` holds what can be derived from `log` again (see
//! [`indexer`](super::indexer)): the stream index, the idempotency records, and the watermark
//! up to which they are complete.
//!
//! | tree | key | value |
//! |---|---|---|
//! | log | `e` first seq (u64 BE) | a [chunk](super::chunk) of consecutive events, each stored as blake3(body) ‖ body, the body being the [`Envelope`] as JSON |
//! | log | `h` | chain head: seq (u64 BE) ‖ hash (32 bytes) |
//! | index2 | `s` len (u16 BE) stream chunk (u64 BE) | the seqs (u64 BE each) of the stream's versions `chunk × 64 + 1` onward, at most [`STREAM_CHUNK`]; the last chunk's last seq is the stream's head |
//! | index2 | `c` command id | the [`Appended`] answer, as JSON |
//! | index2 | `i` | indexed-through watermark (u64 BE) |
//!
//! The stream index keeps 64 versions per key, not one key per event: sled holds a page-table
//! entry for every node in memory from the moment it opens, and with a key per event the index
//! of a million events cost about 34 MiB of resident memory before anything was read (measured
//! here; the log's own chunks cost 7 MiB). A store whose index has the older layout (tree
//! `index`, a key per version) derives `index2` from the log when it opens and drops the old
//! tree.

use super::envelope::{Appended, Envelope, Head, StreamId};
use super::error::StoreError;
use super::hash::Hash;

pub const LOG_TREE: &str = "log";
pub const INDEX_TREE: &str = "index2";
/// The index of an older layout, a key per stream version: dropped once `index2` is derived.
pub const OLD_INDEX_TREE: &str = "index";
/// Stream versions per stream-index key.
pub const STREAM_CHUNK: u64 = 64;
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

/// Where a stream version's seq is kept: the chunk's key and the place in it.
pub fn stream_slot(stream: &StreamId, version: u64) -> (Vec<u8>, usize) {
    debug_assert!(version >= 1, "stream versions start at 1");
    let v = version.saturating_sub(1);
    (
        stream_chunk_key(stream, v / STREAM_CHUNK),
        (v % STREAM_CHUNK) as usize,
    )
}

pub fn stream_chunk_key(stream: &StreamId, chunk: u64) -> Vec<u8> {
    let mut k = stream_prefix(stream);
    k.extend_from_slice(&chunk.to_be_bytes());
    k
}

/// The versions and seqs of one stream-index chunk, from its key and value.
pub fn stream_chunk(key: &[u8], value: &[u8]) -> Result<Vec<(u64, u64)>, StoreError> {
    let chunk = key
        .len()
        .checked_sub(8)
        .map(|at| u64::from_be_bytes(key[at..].try_into().unwrap()))
        .ok_or_else(|| StoreError::Codec("short stream-index key".into()))?;
    if value.is_empty() || !value.len().is_multiple_of(8) || value.len() as u64 > 8 * STREAM_CHUNK {
        return Err(StoreError::Codec(format!(
            "a stream-index chunk of {} bytes",
            value.len()
        )));
    }
    let first = chunk * STREAM_CHUNK + 1;
    Ok((first..)
        .zip(value.chunks_exact(8))
        .map(|(version, seq)| (version, u64::from_be_bytes(seq.try_into().unwrap())))
        .collect())
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
    // Checked as UTF-8 at once, by SIMD, rather than string by string as it is parsed.
    let text = simdutf8::basic::from_utf8(body)
        .map_err(|_| StoreError::Codec("a stored event is not UTF-8".into()))?;
    serde_json::from_str(text).map_err(|e| StoreError::Codec(e.to_string()))
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
        assert_eq!(seq_of_event_key(&event_key(42)).unwrap(), 42);
        // Versions 1–64 share the first chunk, 65 opens the second; chunks sort by number.
        assert_eq!(stream_slot(&s, 1), (stream_chunk_key(&s, 0), 0));
        assert_eq!(stream_slot(&s, 64), (stream_chunk_key(&s, 0), 63));
        assert_eq!(stream_slot(&s, 65), (stream_chunk_key(&s, 1), 0));
        assert!(stream_chunk_key(&s, 255) < stream_chunk_key(&s, 256));
        let value: Vec<u8> = [100u64, 107].iter().flat_map(|q| q.to_be_bytes()).collect();
        let read = stream_chunk(&stream_chunk_key(&s, 2), &value).unwrap();
        assert_eq!(read, vec![(129, 100), (130, 107)]);
        assert!(stream_chunk(&stream_chunk_key(&s, 0), &value[..7]).is_err());
        assert!(stream_chunk(&stream_chunk_key(&s, 0), &[]).is_err());
        // A stream id that is a prefix of another does not share its index range.
        let longer = StreamId::new("p-10").unwrap();
        assert!(!stream_chunk_key(&longer, 0).starts_with(&stream_prefix(&s)));
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
                request_hash: None,
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

//! Chunks: several consecutive events stored under one sled key.
//!
//! sled 0.34 pays a fixed cost per key — it clones the leaf node on every insert, rewrites it
//! whole every tenth, splits it every sixteenth — that is several times what the bytes cost.
//! Packing up to [`CHUNK_MAX_EVENTS`] consecutive events of a group commit under one key
//! (measured here: 4× faster to write and to scan than a key per event) keeps that cost off
//! the commit path and the readers. Every event keeps its own hash and `seq`, so the chain
//! and its verification are the same as with one key per event.
//!
//! A chunk's key is `e` + the seq of its first event; its value is a sequence of records,
//! each `body length (u32 LE) ‖ blake3(body) (32 bytes) ‖ body`.

use super::error::StoreError;
use super::hash::Hash;
use super::layout;

/// Most events in one chunk.
pub const CHUNK_MAX_EVENTS: usize = 8;
/// A chunk is closed once it holds this many bytes. With at most 16 items per sled leaf,
/// leaves stay below the size at which sled moves a node image into a blob file.
pub const CHUNK_CLOSE_BYTES: usize = 4 * 1024;

/// Gathers consecutive records into chunks, emitting `(key, value)` pairs.
#[derive(Default)]
pub struct ChunkBuilder {
    first_seq: u64,
    count: usize,
    buf: Vec<u8>,
    done: Vec<([u8; 9], Vec<u8>)>,
}

impl ChunkBuilder {
    /// Adds the record of event `seq` (which follows the previous one).
    pub fn push(&mut self, seq: u64, hash: &Hash, body: &[u8]) {
        if self.count == 0 {
            self.first_seq = seq;
        }
        self.buf
            .extend_from_slice(&(body.len() as u32).to_le_bytes());
        self.buf.extend_from_slice(&hash.0);
        self.buf.extend_from_slice(body);
        self.count += 1;
        if self.count >= CHUNK_MAX_EVENTS || self.buf.len() >= CHUNK_CLOSE_BYTES {
            self.close();
        }
    }

    fn close(&mut self) {
        if self.count > 0 {
            let value = std::mem::take(&mut self.buf);
            self.done.push((layout::event_key(self.first_seq), value));
            self.count = 0;
        }
    }

    /// Every chunk built, the last one closed.
    pub fn finish(mut self) -> Vec<([u8; 9], Vec<u8>)> {
        self.close();
        self.done
    }
}

/// One stored event: its position in the chunk order, stored hash and body bytes.
pub struct Record {
    /// The seq this record's place implies: its chunk's key plus its index in the chunk.
    pub position: u64,
    pub hash: Hash,
    pub body: sled::IVec,
}

/// Splits a chunk value into its records.
pub fn records(key_seq: u64, chunk: &sled::IVec) -> Result<Vec<Record>, StoreError> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at < chunk.len() {
        let malformed = || StoreError::Codec(format!("chunk at seq {key_seq} is cut short"));
        let header = chunk.get(at..at + 36).ok_or_else(malformed)?;
        let len = u32::from_le_bytes(header[..4].try_into().unwrap()) as usize;
        let hash = Hash(header[4..36].try_into().unwrap());
        let end = (at + 36)
            .checked_add(len)
            .filter(|e| *e <= chunk.len())
            .ok_or_else(malformed)?;
        out.push(Record {
            position: key_seq.saturating_add(out.len() as u64),
            hash,
            body: chunk.subslice(at + 36, len),
        });
        at = end;
    }
    Ok(out)
}

/// Walks the stored records in order from the chunk holding `from_seq` (records before it
/// included: the caller skips what it does not want).
pub struct Cursor {
    chunks: sled::Iter,
    buffered: std::vec::IntoIter<Record>,
}

impl Cursor {
    /// Starts at the chunk holding `from_seq`, up to `to_seq` (by chunk key).
    pub fn new(log: &sled::Tree, from_seq: u64, to_seq: u64) -> Result<Self, StoreError> {
        let start = match log
            .range(layout::event_key(0)..=layout::event_key(from_seq))
            .next_back()
        {
            Some(item) => layout::seq_of_event_key(&item?.0)?,
            None => from_seq,
        };
        Ok(Self {
            chunks: log.range(layout::event_key(start)..=layout::event_key(to_seq)),
            buffered: Vec::new().into_iter(),
        })
    }

    /// The next record, or `None` at the end of the range.
    pub fn next_record(&mut self) -> Result<Option<Record>, StoreError> {
        loop {
            if let Some(r) = self.buffered.next() {
                return Ok(Some(r));
            }
            let Some(item) = self.chunks.next() else {
                return Ok(None);
            };
            let (key, value) = item?;
            self.buffered = records(layout::seq_of_event_key(&key)?, &value)?.into_iter();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_close_by_count_and_split_back_into_records() {
        let mut b = ChunkBuilder::default();
        for seq in 1..=10u64 {
            let body = format!("body-{seq}");
            b.push(seq, &Hash::of(body.as_bytes()), body.as_bytes());
        }
        let chunks = b.finish();
        assert_eq!(chunks.len(), 2);
        assert_eq!(layout::seq_of_event_key(&chunks[1].0).unwrap(), 9);
        let recs = records(9, &sled::IVec::from(chunks[1].1.clone())).unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[1].position, 10);
        assert_eq!(&recs[1].body[..], b"body-10");
        assert_eq!(recs[1].hash, Hash::of(b"body-10"));
    }

    #[test]
    fn a_cut_chunk_is_an_error_not_a_panic() {
        let mut b = ChunkBuilder::default();
        b.push(1, &Hash::ZERO, b"0123456789");
        let mut value = b.finish().remove(0).1;
        value.truncate(value.len() - 3);
        assert!(records(1, &sled::IVec::from(value)).is_err());
    }
}

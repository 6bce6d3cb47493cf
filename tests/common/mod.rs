//! Helpers shared by the integration tests: building append requests and opening stores.
#![allow(dead_code)]

use duban::store::*;
use serde_json::json;

pub fn actor() -> Actor {
    Actor {
        sub: "tester".into(),
        role: "office".into(),
        dept: None,
    }
}

pub fn stream(name: &str) -> StreamId {
    StreamId::new(name).unwrap()
}

/// An event of about 300 bytes once enveloped.
pub fn event(i: u64) -> NewEvent {
    NewEvent {
        event_type: "ProgressReported".into(),
        schema_version: 1,
        payload: json!({ "n": i, "narrative": "完成投资进度，设备安装调试中" }).into(),
    }
}

pub fn request(
    stream_name: &str,
    expected: ExpectedVersion,
    command_id: &str,
    n: usize,
) -> AppendRequest {
    AppendRequest {
        stream: stream(stream_name),
        expected,
        events: (0..n as u64).map(event).collect(),
        command_id: command_id.into(),
        idempotent: true,
        correlation_id: None,
        request_hash: None,
        actor: actor(),
    }
}

pub fn open(dir: &std::path::Path) -> SledStore {
    open_when_free(dir).expect("store opens")
}

/// Opens the store once whoever opened the log last (a test tampering with it through sled)
/// has let go of sled's file lock. Any other outcome is returned as it is.
pub fn open_when_free(dir: &std::path::Path) -> Result<SledStore, duban::store::StoreError> {
    when_free(|| SledStore::open(dir, StoreOptions::default()))
}

/// Runs `open` (anything that opens the log) again while sled's file lock is still held by
/// whoever opened it last, which on a loaded machine can take a moment: a few seconds at most.
pub fn when_free<T, E: std::fmt::Display>(mut open: impl FnMut() -> Result<T, E>) -> Result<T, E> {
    let mut tries = 0;
    loop {
        match open() {
            Err(e) if tries < 100 && e.to_string().contains("could not acquire lock") => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            other => return other,
        }
    }
}

/// Removes the log's derived index (stream index, idempotency records, watermark), as if
/// none of it had reached the disk: the next open derives it from the log.
pub fn forget_index(dir: &std::path::Path) {
    let db = when_free(|| sled::open(dir)).unwrap();
    db.drop_tree("index2").unwrap();
    db.flush().unwrap();
}

/// The one sled tree holding the log, opened directly: for tampering with it in tests.
pub fn raw_tree(dir: &std::path::Path) -> (sled::Db, sled::Tree) {
    // The store just dropped lets go of sled's file lock once sled's own flusher thread has
    // stopped.
    let db = when_free(|| sled::open(dir))
        .unwrap_or_else(|e| panic!("cannot open the log directly: {e}"));
    let tree = db.open_tree("log").unwrap();
    (db, tree)
}

pub fn event_key(seq: u64) -> Vec<u8> {
    let mut k = vec![b'e'];
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// One stored record, as laid out in a chunk: its stored hash and its body.
#[derive(Clone, Debug)]
pub struct RawRecord {
    pub hash: Vec<u8>,
    pub body: Vec<u8>,
}

/// A chunk of the log read straight from sled, decoded by the documented layout
/// (`len u32 LE ‖ hash 32 ‖ body` per record), independently of the store's own code.
pub struct RawChunk {
    pub key_seq: u64,
    pub records: Vec<RawRecord>,
}

impl RawChunk {
    /// The chunk whose range holds `seq`.
    pub fn holding(tree: &sled::Tree, seq: u64) -> RawChunk {
        let (key, value) = tree
            .range(event_key(0)..=event_key(seq))
            .next_back()
            .unwrap()
            .unwrap();
        let key_seq = u64::from_be_bytes(key[1..9].try_into().unwrap());
        let mut records = Vec::new();
        let mut at = 0;
        while at < value.len() {
            let len = u32::from_le_bytes(value[at..at + 4].try_into().unwrap()) as usize;
            records.push(RawRecord {
                hash: value[at + 4..at + 36].to_vec(),
                body: value[at + 36..at + 36 + len].to_vec(),
            });
            at += 36 + len;
        }
        RawChunk { key_seq, records }
    }

    /// The index in `records` of event `seq`.
    pub fn index_of(&self, seq: u64) -> usize {
        (seq - self.key_seq) as usize
    }

    /// Writes the chunk back under its key (removes the key if no record is left).
    pub fn store(&self, tree: &sled::Tree) {
        if self.records.is_empty() {
            tree.remove(event_key(self.key_seq)).unwrap();
            return;
        }
        let mut value = Vec::new();
        for r in &self.records {
            value.extend_from_slice(&(r.body.len() as u32).to_le_bytes());
            value.extend_from_slice(&r.hash);
            value.extend_from_slice(&r.body);
        }
        tree.insert(event_key(self.key_seq), value).unwrap();
    }
}

/// Reads event `seq`'s stored record.
pub fn raw_record(tree: &sled::Tree, seq: u64) -> RawRecord {
    let chunk = RawChunk::holding(tree, seq);
    chunk.records[chunk.index_of(seq)].clone()
}

/// Replaces event `seq`'s stored record.
pub fn put_raw_record(tree: &sled::Tree, seq: u64, record: RawRecord) {
    let mut chunk = RawChunk::holding(tree, seq);
    let i = chunk.index_of(seq);
    chunk.records[i] = record;
    chunk.store(tree);
}

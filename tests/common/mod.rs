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
        correlation_id: None,
        actor: actor(),
    }
}

pub fn open(dir: &std::path::Path) -> SledStore {
    SledStore::open(dir, StoreOptions::default()).expect("store opens")
}

/// The one sled tree holding the log, opened directly: for tampering with it in tests.
pub fn raw_tree(dir: &std::path::Path) -> (sled::Db, sled::Tree) {
    let db = sled::open(dir).unwrap();
    let tree = db.open_tree("log").unwrap();
    (db, tree)
}

pub fn event_key(seq: u64) -> Vec<u8> {
    let mut k = vec![b'e'];
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

//! The tamper corpus: each kind of tampering, made directly in the sled tree, is reported by
//! `verify` with the seq where the chain first breaks, and a broken tail is refused at open.

mod common;

use std::path::Path;

use common::*;
use duban::store::*;

const EVENTS: u64 = 120;

/// A closed log of `EVENTS` events over three streams.
async fn written_log(dir: &Path) {
    let store = open(dir);
    for i in 0..EVENTS {
        let stream = format!("p-{}", i % 3);
        store
            .append(request(&stream, ExpectedVersion::Any, &format!("c{i}"), 1))
            .await
            .unwrap();
    }
}

fn first_break(dir: &Path, from: Option<Checkpoint>) -> ChainBreak {
    let report = SledStore::verify_offline(dir, from).unwrap();
    report.first_break.expect("the tampering is detected")
}

fn record(tree: &sled::Tree, seq: u64) -> Vec<u8> {
    tree.get(event_key(seq)).unwrap().unwrap().to_vec()
}

/// Changes the log through sled itself, then closes it.
fn tamper(dir: &Path, change: impl FnOnce(&sled::Tree)) {
    let (db, tree) = raw_tree(dir);
    change(&tree);
    db.flush().unwrap();
}

#[tokio::test]
async fn an_intact_log_verifies_from_genesis_and_from_a_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    written_log(dir.path()).await;
    let report = SledStore::verify_offline(dir.path(), None).unwrap();
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.checked, EVENTS);
    let store = open(dir.path());
    let cp = store.read_all(50, 1).await.unwrap()[0].clone();
    let online = store
        .verify(Some(Head {
            seq: 50,
            hash: cp.hash,
        }))
        .await
        .unwrap();
    assert!(online.is_ok());
    assert_eq!(online.checked, EVENTS - 50);
}

#[tokio::test]
async fn a_changed_payload_is_reported_at_its_seq() {
    let dir = tempfile::tempdir().unwrap();
    written_log(dir.path()).await;
    tamper(dir.path(), |t| {
        let mut bytes = record(t, 40);
        let body = String::from_utf8(bytes[32..].to_vec()).unwrap();
        // The payload's `"n":0` becomes `"n":1`: still valid JSON, a different fact.
        let at = 32 + body.find("\"n\":0").unwrap() + 4;
        bytes[at] ^= 1;
        t.insert(event_key(40), bytes).unwrap();
    });
    let b = first_break(dir.path(), None);
    assert_eq!((b.seq, b.kind), (40, BreakKind::HashMismatch));
}

#[tokio::test]
async fn a_payload_changed_with_a_recomputed_hash_breaks_the_next_link() {
    let dir = tempfile::tempdir().unwrap();
    written_log(dir.path()).await;
    tamper(dir.path(), |t| {
        let bytes = record(t, 40);
        let body = String::from_utf8(bytes[32..].to_vec())
            .unwrap()
            .replace("\"n\":0", "\"n\":9");
        let mut forged = blake3::hash(body.as_bytes()).as_bytes().to_vec();
        forged.extend_from_slice(body.as_bytes());
        t.insert(event_key(40), forged).unwrap();
    });
    let b = first_break(dir.path(), None);
    assert_eq!((b.seq, b.kind), (41, BreakKind::BrokenLink));
}

#[tokio::test]
async fn a_changed_hash_is_reported_at_its_seq() {
    let dir = tempfile::tempdir().unwrap();
    written_log(dir.path()).await;
    tamper(dir.path(), |t| {
        let mut bytes = record(t, 77);
        bytes[3] ^= 0xff;
        t.insert(event_key(77), bytes).unwrap();
    });
    let b = first_break(dir.path(), None);
    assert_eq!((b.seq, b.kind), (77, BreakKind::HashMismatch));
}

#[tokio::test]
async fn a_missing_event_is_reported_at_its_seq() {
    let dir = tempfile::tempdir().unwrap();
    written_log(dir.path()).await;
    tamper(dir.path(), |t| {
        t.remove(event_key(60)).unwrap();
    });
    let b = first_break(dir.path(), None);
    assert_eq!((b.seq, b.kind), (60, BreakKind::Missing));
}

#[tokio::test]
async fn two_swapped_events_are_reported_at_the_first() {
    let dir = tempfile::tempdir().unwrap();
    written_log(dir.path()).await;
    tamper(dir.path(), |t| {
        let (a, b) = (record(t, 30), record(t, 31));
        t.insert(event_key(30), b).unwrap();
        t.insert(event_key(31), a).unwrap();
    });
    let b = first_break(dir.path(), None);
    assert_eq!((b.seq, b.kind), (30, BreakKind::WrongSeq));
}

#[tokio::test]
async fn a_duplicated_event_is_reported_where_it_stands() {
    let dir = tempfile::tempdir().unwrap();
    written_log(dir.path()).await;
    tamper(dir.path(), |t| {
        let copy = record(t, 90);
        t.insert(event_key(91), copy).unwrap();
    });
    let b = first_break(dir.path(), None);
    assert_eq!((b.seq, b.kind), (91, BreakKind::WrongSeq));
}

#[tokio::test]
async fn an_event_duplicated_past_the_head_is_reported_and_refused_at_open() {
    let dir = tempfile::tempdir().unwrap();
    written_log(dir.path()).await;
    tamper(dir.path(), |t| {
        let copy = record(t, EVENTS);
        t.insert(event_key(EVENTS + 1), copy).unwrap();
    });
    let b = first_break(dir.path(), None);
    assert_eq!((b.seq, b.kind), (EVENTS + 1, BreakKind::BeyondHead));
    let refused = SledStore::open(dir.path(), StoreOptions::default())
        .err()
        .expect("refused");
    assert!(matches!(refused, StoreError::Corrupt(ChainBreak { seq, .. }) if seq == EVENTS + 1));
}

#[tokio::test]
async fn a_truncated_tail_is_reported_at_the_first_missing_seq_and_refused_at_open() {
    let dir = tempfile::tempdir().unwrap();
    written_log(dir.path()).await;
    tamper(dir.path(), |t| {
        for seq in 111..=EVENTS {
            t.remove(event_key(seq)).unwrap();
        }
    });
    let b = first_break(dir.path(), None);
    assert_eq!((b.seq, b.kind), (111, BreakKind::Missing));
    let refused = SledStore::open(dir.path(), StoreOptions::default())
        .err()
        .expect("refused");
    let message = refused.to_string();
    assert!(
        message.contains("seq 111") && message.contains("refusing"),
        "{message}"
    );
}

#[tokio::test]
async fn a_tail_truncated_together_with_its_head_is_caught_by_a_trusted_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    written_log(dir.path()).await;
    let trusted = SledStore::verify_offline(dir.path(), None)
        .unwrap()
        .verified_through;
    tamper(dir.path(), |t| {
        let new_head = record(t, 100);
        for seq in 101..=EVENTS {
            t.remove(event_key(seq)).unwrap();
        }
        let mut head = 100u64.to_be_bytes().to_vec();
        head.extend_from_slice(&new_head[..32]);
        t.insert(b"h", head).unwrap();
    });
    // Consistent with itself, so only the checkpoint kept elsewhere can tell.
    assert!(SledStore::verify_offline(dir.path(), None).unwrap().is_ok());
    let b = first_break(dir.path(), Some(trusted));
    assert_eq!((b.seq, b.kind), (EVENTS, BreakKind::Missing));
}

#[tokio::test]
async fn a_tampered_tail_event_is_refused_at_open_with_its_seq() {
    let dir = tempfile::tempdir().unwrap();
    written_log(dir.path()).await;
    tamper(dir.path(), |t| {
        let mut bytes = record(t, EVENTS - 3);
        let last = bytes.len() - 3;
        bytes[last] ^= 1;
        t.insert(event_key(EVENTS - 3), bytes).unwrap();
    });
    match SledStore::open(dir.path(), StoreOptions::default()) {
        Err(StoreError::Corrupt(b)) => assert_eq!(b.seq, EVENTS - 3),
        Err(other) => panic!("wrong error {other}"),
        Ok(_) => panic!("a broken tail must be refused"),
    }
}

#[tokio::test]
async fn verify_names_the_first_break_when_there_are_several() {
    let dir = tempfile::tempdir().unwrap();
    written_log(dir.path()).await;
    tamper(dir.path(), |t| {
        t.remove(event_key(70)).unwrap();
        let mut bytes = record(t, 20);
        bytes[0] ^= 1;
        t.insert(event_key(20), bytes).unwrap();
    });
    assert_eq!(first_break(dir.path(), None).seq, 20);
}

//! The tamper corpus: each kind of tampering, made directly in the sled tree, is reported by
//! `verify` with the seq where the chain first breaks, and a broken tail is refused at open.

mod common;

use std::path::Path;

use common::*;
use duban::store::*;

const EVENTS: u64 = 120;

/// A closed log of `EVENTS` events over three streams, three events per append, so chunks
/// hold several events and some tampering crosses chunk boundaries.
async fn written_log(dir: &Path) {
    let store = open(dir);
    for i in 0..EVENTS / 3 {
        let stream = format!("p-{}", i % 3);
        let mut req = request(&stream, ExpectedVersion::Any, &format!("c{i}"), 3);
        for (k, e) in req.events.iter_mut().enumerate() {
            e.payload = serde_json::json!({ "n": i * 3 + k as u64 + 1 }).into();
        }
        store.append(req).await.unwrap();
    }
}

/// Takes one event out of the chunk holding it: the events after it move up a place.
fn remove_event(dir: &Path, seq: u64) {
    tamper(dir, |t| {
        let mut chunk = RawChunk::holding(t, seq);
        let i = chunk.index_of(seq);
        chunk.records.remove(i);
        chunk.store(t);
    });
}

fn first_break(dir: &Path, from: Option<Checkpoint>) -> ChainBreak {
    let report = when_free(|| SledStore::verify_offline(dir, from)).unwrap();
    report.first_break.expect("the tampering is detected")
}

/// Changes the log through sled itself, then closes it.
fn tamper(dir: &Path, change: impl FnOnce(&sled::Tree)) {
    let (db, tree) = raw_tree(dir);
    change(&tree);
    db.flush().unwrap();
}

fn refused_at(dir: &Path) -> ChainBreak {
    match open_when_free(dir) {
        Err(StoreError::Corrupt(b)) => b,
        Err(other) => panic!("refused for another reason: {other}"),
        Ok(_) => panic!("a broken tail must be refused"),
    }
}

#[tokio::test]
async fn an_intact_log_verifies_from_genesis_and_from_a_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    written_log(dir.path()).await;
    let report = when_free(|| SledStore::verify_offline(dir.path(), None)).unwrap();
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
    assert!(online.is_ok(), "{online:?}");
    assert_eq!(online.checked, EVENTS - 50);
}

#[tokio::test]
async fn a_changed_payload_is_reported_at_its_seq() {
    let dir = tempfile::tempdir().unwrap();
    written_log(dir.path()).await;
    tamper(dir.path(), |t| {
        let mut r = raw_record(t, 41);
        let body = String::from_utf8(r.body.clone()).unwrap();
        // `"n":41` becomes `"n":40`: still valid JSON, a different fact.
        let at = body.find("\"n\":41").unwrap() + 5;
        r.body[at] ^= 1;
        put_raw_record(t, 41, r);
    });
    let b = first_break(dir.path(), None);
    assert_eq!((b.seq, b.kind), (41, BreakKind::HashMismatch));
}

#[tokio::test]
async fn a_payload_changed_with_a_recomputed_hash_breaks_the_next_link() {
    let dir = tempfile::tempdir().unwrap();
    written_log(dir.path()).await;
    tamper(dir.path(), |t| {
        let r = raw_record(t, 40);
        let body = String::from_utf8(r.body)
            .unwrap()
            .replace("\"n\":40", "\"n\":99");
        let hash = blake3::hash(body.as_bytes()).as_bytes().to_vec();
        put_raw_record(
            t,
            40,
            RawRecord {
                hash,
                body: body.into_bytes(),
            },
        );
    });
    let b = first_break(dir.path(), None);
    assert_eq!((b.seq, b.kind), (41, BreakKind::BrokenLink));
}

#[tokio::test]
async fn a_changed_hash_is_reported_at_its_seq() {
    let dir = tempfile::tempdir().unwrap();
    written_log(dir.path()).await;
    tamper(dir.path(), |t| {
        let mut r = raw_record(t, 77);
        r.hash[3] ^= 0xff;
        put_raw_record(t, 77, r);
    });
    let b = first_break(dir.path(), None);
    assert_eq!((b.seq, b.kind), (77, BreakKind::HashMismatch));
}

#[tokio::test]
async fn a_missing_event_is_reported_at_its_seq() {
    let dir = tempfile::tempdir().unwrap();
    written_log(dir.path()).await;
    remove_event(dir.path(), 62);
    let b = first_break(dir.path(), None);
    assert_eq!((b.seq, b.kind), (62, BreakKind::OutOfSequence));
}

#[tokio::test]
async fn readers_stop_at_an_event_out_of_place_and_never_hand_it_over() {
    let dir = tempfile::tempdir().unwrap();
    written_log(dir.path()).await;
    remove_event(dir.path(), 30);
    // Far enough from the tail for the store to open; seq 31 now sits where 30 belongs.
    let store = open(dir.path());
    let err = store.read_all(1, 1000).await.unwrap_err();
    let out_of_place = |e: &StoreError| {
        matches!(
            e,
            StoreError::Corrupt(ChainBreak {
                seq: 30,
                kind: BreakKind::OutOfSequence,
                ..
            })
        )
    };
    assert!(out_of_place(&err), "{err:?}");
    let mut seen = Vec::new();
    let err = store.scan_all(1, 1000, |v| seen.push(v.seq)).unwrap_err();
    assert!(out_of_place(&err), "{err:?}");
    assert_eq!(seen, (1..=29).collect::<Vec<u64>>());
}

#[tokio::test]
async fn a_missing_chunk_is_reported_at_its_first_seq() {
    let dir = tempfile::tempdir().unwrap();
    written_log(dir.path()).await;
    tamper(dir.path(), |t| {
        let mut chunk = RawChunk::holding(t, 60);
        chunk.records.clear();
        chunk.store(t);
    });
    // The chunk held 58–60 (appends of three events each).
    let b = first_break(dir.path(), None);
    assert_eq!((b.seq, b.kind), (58, BreakKind::OutOfSequence));
}

#[tokio::test]
async fn two_swapped_events_are_reported_at_the_first() {
    let dir = tempfile::tempdir().unwrap();
    written_log(dir.path()).await;
    tamper(dir.path(), |t| {
        // 30 and 31 lie in different chunks (appends of three: 28–30, 31–33).
        let (a, b) = (raw_record(t, 30), raw_record(t, 31));
        put_raw_record(t, 30, b);
        put_raw_record(t, 31, a);
    });
    let b = first_break(dir.path(), None);
    assert_eq!((b.seq, b.kind), (30, BreakKind::OutOfSequence));
}

#[tokio::test]
async fn a_duplicated_event_is_reported_where_it_stands() {
    let dir = tempfile::tempdir().unwrap();
    written_log(dir.path()).await;
    tamper(dir.path(), |t| {
        let mut chunk = RawChunk::holding(t, 89);
        let i = chunk.index_of(89);
        let copy = chunk.records[i].clone();
        chunk.records.insert(i + 1, copy);
        chunk.store(t);
    });
    let b = first_break(dir.path(), None);
    assert_eq!((b.seq, b.kind), (90, BreakKind::OutOfSequence));
}

#[tokio::test]
async fn an_event_duplicated_past_the_head_is_reported_and_refused_at_open() {
    let dir = tempfile::tempdir().unwrap();
    written_log(dir.path()).await;
    tamper(dir.path(), |t| {
        let mut chunk = RawChunk::holding(t, EVENTS);
        let copy = chunk.records.last().unwrap().clone();
        chunk.records.push(copy);
        chunk.store(t);
    });
    let b = first_break(dir.path(), None);
    assert_eq!((b.seq, b.kind), (EVENTS + 1, BreakKind::BeyondHead));
    assert_eq!(refused_at(dir.path()).seq, EVENTS + 1);
}

#[tokio::test]
async fn a_truncated_tail_is_reported_at_the_first_missing_seq_and_refused_at_open() {
    let dir = tempfile::tempdir().unwrap();
    written_log(dir.path()).await;
    tamper(dir.path(), |t| truncate_after(t, 110));
    let b = first_break(dir.path(), None);
    assert_eq!((b.seq, b.kind), (111, BreakKind::Missing));
    let refused = open_when_free(dir.path()).err().expect("refused");
    let message = refused.to_string();
    assert!(
        message.contains("seq 111") && message.contains("refusing"),
        "{message}"
    );
}

/// Removes every event after `last`.
fn truncate_after(t: &sled::Tree, last: u64) {
    let mut chunk = RawChunk::holding(t, last);
    chunk.records.truncate(chunk.index_of(last) + 1);
    chunk.store(t);
    for key in t.range(event_key(last + 1)..=event_key(u64::MAX)).keys() {
        t.remove(key.unwrap()).unwrap();
    }
}

#[tokio::test]
async fn a_tail_truncated_together_with_its_head_is_caught_by_a_trusted_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    written_log(dir.path()).await;
    let trusted = when_free(|| SledStore::verify_offline(dir.path(), None))
        .unwrap()
        .verified_through;
    tamper(dir.path(), |t| {
        let new_head = raw_record(t, 100);
        truncate_after(t, 100);
        let mut head = 100u64.to_be_bytes().to_vec();
        head.extend_from_slice(&new_head.hash);
        t.insert(b"h", head).unwrap();
    });
    // Consistent with itself, so only the checkpoint kept elsewhere can tell.
    assert!(
        when_free(|| SledStore::verify_offline(dir.path(), None))
            .unwrap()
            .is_ok()
    );
    let b = first_break(dir.path(), Some(trusted));
    assert_eq!((b.seq, b.kind), (EVENTS, BreakKind::Missing));
}

#[tokio::test]
async fn a_tampered_tail_event_is_refused_at_open_with_its_seq() {
    let dir = tempfile::tempdir().unwrap();
    written_log(dir.path()).await;
    tamper(dir.path(), |t| {
        let mut r = raw_record(t, EVENTS - 3);
        let last = r.body.len() - 3;
        r.body[last] ^= 1;
        put_raw_record(t, EVENTS - 3, r);
    });
    assert_eq!(refused_at(dir.path()).seq, EVENTS - 3);
}

#[tokio::test]
async fn verify_names_the_first_break_when_there_are_several() {
    let dir = tempfile::tempdir().unwrap();
    written_log(dir.path()).await;
    tamper(dir.path(), |t| {
        let mut chunk = RawChunk::holding(t, 70);
        chunk.records.clear();
        chunk.store(t);
        let mut r = raw_record(t, 20);
        r.hash[0] ^= 1;
        put_raw_record(t, 20, r);
    });
    assert_eq!(first_break(dir.path(), None).seq, 20);
}

#[tokio::test]
async fn readers_refuse_a_hole_in_the_middle_of_the_log_instead_of_skipping_it() {
    let dir = tempfile::tempdir().unwrap();
    written_log(dir.path()).await;
    tamper(dir.path(), |t| {
        let mut chunk = RawChunk::holding(t, 30);
        chunk.records.clear();
        chunk.store(t);
    });
    // The tail still checks out, so the store opens; a reader crossing the hole is stopped.
    let store = open(dir.path());
    let err = store.read_all(1, 1000).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Corrupt(ChainBreak { seq: 28, .. })),
        "{err:?}"
    );
    let mut seen = 0;
    let err = store.scan_all(1, 1000, |_| seen += 1).unwrap_err();
    assert!(
        matches!(err, StoreError::Corrupt(ChainBreak { seq: 28, .. })),
        "{err:?}"
    );
    assert_eq!(seen, 27, "the scan stops at the hole");
}

#[tokio::test]
async fn a_chunk_cut_short_is_reported_as_a_break_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    written_log(dir.path()).await;
    tamper(dir.path(), |t| {
        let (key, value) = t
            .range(event_key(40)..=event_key(40))
            .next()
            .unwrap()
            .unwrap();
        t.insert(key, &value[..value.len() - 5]).unwrap();
    });
    let b = first_break(dir.path(), None);
    assert_eq!((b.seq, b.kind), (40, BreakKind::Malformed));
}

#[tokio::test]
async fn an_index_ahead_of_the_log_is_rebuilt_at_open() {
    let dir = tempfile::tempdir().unwrap();
    written_log(dir.path()).await;
    tamper(dir.path(), |t| {
        // As if the log had been restored from an older copy: the last ten events gone,
        // the head moved back with them, the index left as it was.
        let new_head = raw_record(t, EVENTS - 10);
        truncate_after(t, EVENTS - 10);
        let mut head = (EVENTS - 10).to_be_bytes().to_vec();
        head.extend_from_slice(&new_head.hash);
        t.insert(b"h", head).unwrap();
    });
    let store = open(dir.path());
    // c39 was the last command (events 118–120): forgotten with them, so not a duplicate.
    let again = store
        .append(request("p-0", ExpectedVersion::Any, "c39", 1))
        .await
        .unwrap();
    assert!(!again.deduplicated);
    assert_eq!(again.first_seq, EVENTS - 9);
    let p0 = store.read_stream(&stream("p-0"), 1).await.unwrap();
    let versions: Vec<u64> = p0.iter().map(|e| e.envelope.version).collect();
    assert_eq!(
        versions,
        (1..=versions.len() as u64).collect::<Vec<_>>(),
        "no version skipped"
    );
}

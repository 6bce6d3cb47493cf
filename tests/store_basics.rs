//! The event log's contract, one behaviour per test: envelopes, expected versions,
//! idempotency (also across a restart), reads, subscriptions, rejection of bad input.

mod common;

use std::time::Duration;

use common::*;
use duban::store::*;

#[tokio::test]
async fn an_append_assigns_seq_version_and_chains_hashes() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let a = store
        .append(request("p-1", ExpectedVersion::NoStream, "c1", 2))
        .await
        .unwrap();
    assert_eq!(
        (a.first_seq, a.last_seq, a.first_version, a.last_version),
        (1, 2, 1, 2)
    );
    let b = store
        .append(request("p-2", ExpectedVersion::Any, "c2", 1))
        .await
        .unwrap();
    assert_eq!((b.first_seq, b.last_seq, b.first_version), (3, 3, 1));

    let all = store.read_all(1, 100).await.unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[0].envelope.prev_hash, Hash::ZERO);
    for pair in all.windows(2) {
        assert_eq!(pair[1].envelope.prev_hash, pair[0].hash);
    }
    let e = &all[0].envelope;
    assert_eq!(e.stream.as_str(), "p-1");
    assert_eq!(e.event_type, "ProgressReported");
    assert_eq!(e.schema_version, 1);
    assert_eq!(e.command_id, "c1");
    assert_eq!(e.actor, actor());
    assert_eq!(e.event_id.get_version_num(), 7);
    assert_eq!(
        store.head(),
        Head {
            seq: 3,
            hash: all[2].hash
        }
    );
}

#[tokio::test]
async fn a_stale_expected_version_is_a_conflict_carrying_the_current_version() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store
        .append(request("p", ExpectedVersion::NoStream, "c1", 3))
        .await
        .unwrap();
    for expected in [
        ExpectedVersion::NoStream,
        ExpectedVersion::Exact(2),
        ExpectedVersion::Exact(0),
    ] {
        match store
            .append(request("p", expected, &format!("{expected:?}"), 1))
            .await
        {
            Err(StoreError::WrongExpectedVersion { current, .. }) => assert_eq!(current, 3),
            other => panic!("expected a conflict, got {other:?}"),
        }
    }
    let ok = store
        .append(request("p", ExpectedVersion::Exact(3), "c2", 1))
        .await
        .unwrap();
    assert_eq!(ok.last_version, 4);
    match store
        .append(request("q", ExpectedVersion::Exact(1), "c3", 1))
        .await
    {
        Err(StoreError::WrongExpectedVersion { current: 0, .. }) => {}
        other => panic!("expected a conflict on a missing stream, got {other:?}"),
    }
    assert_eq!(store.head().seq, 4, "conflicts append nothing");
}

#[tokio::test]
async fn the_same_command_id_returns_the_first_result_and_appends_nothing_also_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let first = {
        let store = open(dir.path());
        let first = store
            .append(request("p", ExpectedVersion::NoStream, "cmd-1", 2))
            .await
            .unwrap();
        // A retry with a now-stale expectation still gets the first answer, not a conflict.
        let again = store
            .append(request("p", ExpectedVersion::NoStream, "cmd-1", 2))
            .await
            .unwrap();
        assert!(again.deduplicated);
        assert_eq!(
            Appended {
                deduplicated: false,
                ..again
            },
            first
        );
        store.close();
        first
    };
    let store = open(dir.path());
    let again = store
        .append(request("p", ExpectedVersion::NoStream, "cmd-1", 2))
        .await
        .unwrap();
    assert_eq!(
        Appended {
            deduplicated: false,
            ..again
        },
        first
    );
    assert_eq!(store.head().seq, 2);
    assert_eq!(store.read_all(1, 10).await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_command_id_reused_on_another_stream_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store
        .append(request("p", ExpectedVersion::Any, "cmd", 1))
        .await
        .unwrap();
    let err = store
        .append(request("q", ExpectedVersion::Any, "cmd", 1))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::CommandIdReused { .. }), "{err:?}");
    assert_eq!(store.head().seq, 1);
}

#[tokio::test]
async fn duplicates_within_one_batch_are_deduplicated_too() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let calls = (0..20).map(|_| store.append(request("p", ExpectedVersion::Any, "same", 1)));
    let results: Vec<_> = futures::future::join_all(calls).await;
    let originals = results
        .iter()
        .filter(|r| !r.as_ref().unwrap().deduplicated)
        .count();
    assert_eq!(originals, 1);
    assert_eq!(store.head().seq, 1);
}

#[tokio::test]
async fn bad_appends_are_refused_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    assert!(StreamId::new("").is_err());
    assert!(StreamId::new("a\nb").is_err());
    assert!(StreamId::new("x".repeat(129)).is_err());
    let empty = request("p", ExpectedVersion::Any, "c", 0);
    assert!(matches!(
        store.append(empty).await,
        Err(StoreError::InvalidAppend(_))
    ));
    let no_id = request("p", ExpectedVersion::Any, "", 1);
    assert!(matches!(
        store.append(no_id).await,
        Err(StoreError::InvalidAppend(_))
    ));
    let mut huge = request("p", ExpectedVersion::Any, "big", 2);
    huge.events[1].payload = serde_json::json!({ "blob": "x".repeat(200_000) }).into();
    assert!(matches!(
        store.append(huge).await,
        Err(StoreError::InvalidAppend(_))
    ));
    assert_eq!(store.head().seq, 0);
    // The refused command id was not consumed.
    let ok = store
        .append(request("p", ExpectedVersion::Any, "big", 1))
        .await
        .unwrap();
    assert!(!ok.deduplicated);
}

#[tokio::test]
async fn read_stream_returns_one_streams_events_from_a_version() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    for i in 0..5 {
        store
            .append(request("p", ExpectedVersion::Any, &format!("p{i}"), 1))
            .await
            .unwrap();
        store
            .append(request(
                "p-longer",
                ExpectedVersion::Any,
                &format!("q{i}"),
                1,
            ))
            .await
            .unwrap();
    }
    let events = store.read_stream(&stream("p"), 3).await.unwrap();
    let versions: Vec<u64> = events.iter().map(|e| e.envelope.version).collect();
    assert_eq!(versions, vec![3, 4, 5]);
    assert!(events.iter().all(|e| e.envelope.stream.as_str() == "p"));
    assert!(
        store
            .read_stream(&stream("nope"), 1)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .read_all(4, 3)
            .await
            .unwrap()
            .iter()
            .map(|e| e.envelope.seq)
            .collect::<Vec<_>>(),
        vec![4, 5, 6]
    );
    assert!(store.read_all(11, 10).await.unwrap().is_empty());
    // The borrowed views a folding reader scans give the same events, fields and limits.
    let mut seen = Vec::new();
    let visited = store
        .scan_all(4, 3, |v| {
            seen.push((
                v.seq,
                v.stream.to_string(),
                v.version,
                v.event_type.to_string(),
                v.schema_version,
                v.recorded_at,
                v.payload.get().to_string(),
            ))
        })
        .unwrap();
    assert_eq!(visited, 3);
    let full: Vec<_> = store
        .read_all(4, 3)
        .await
        .unwrap()
        .into_iter()
        .map(|e| {
            let e = e.envelope;
            let payload = e.payload.as_str().to_string();
            let t = (e.seq, e.stream.to_string(), e.version, e.event_type);
            (t.0, t.1, t.2, t.3, e.schema_version, e.recorded_at, payload)
        })
        .collect();
    assert_eq!(seen, full);
    assert_eq!(
        store
            .scan_all(11, 10, |_| panic!("nothing to see"))
            .unwrap(),
        0
    );
    assert_eq!(store.scan_all(9, 10, |_| {}).unwrap(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_catches_up_then_follows_live_appends_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    for i in 0..700 {
        store
            .append(request("p", ExpectedVersion::Any, &format!("a{i}"), 1))
            .await
            .unwrap();
    }
    let mut sub = store.subscribe(1);
    let writer = {
        let store = store.clone();
        tokio::spawn(async move {
            for i in 0..300 {
                store
                    .append(request("q", ExpectedVersion::Any, &format!("b{i}"), 1))
                    .await
                    .unwrap();
            }
        })
    };
    for expected in 1..=1000u64 {
        let e = tokio::time::timeout(Duration::from_secs(30), sub.next())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(e.envelope.seq, expected);
    }
    writer.await.unwrap();
    let mut late = store.subscribe(998);
    assert_eq!(late.next().await.unwrap().envelope.seq, 998);
}

#[tokio::test]
async fn appends_after_close_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store
        .append(request("p", ExpectedVersion::Any, "c1", 1))
        .await
        .unwrap();
    store.close();
    assert!(matches!(
        store
            .append(request("p", ExpectedVersion::Any, "c2", 1))
            .await,
        Err(StoreError::Closed)
    ));
    drop(store);
    let reopened = open(dir.path());
    assert_eq!(reopened.head().seq, 1);
}

#[tokio::test]
async fn recorded_at_comes_from_the_injected_clock() {
    let dir = tempfile::tempdir().unwrap();
    let fixed: chrono::DateTime<chrono::Utc> = "2018-06-15T02:00:00Z".parse().unwrap();
    let options = StoreOptions {
        clock: std::sync::Arc::new(move || fixed),
        ..Default::default()
    };
    let store = SledStore::open(dir.path(), options).unwrap();
    store
        .append(request("p", ExpectedVersion::Any, "c", 1))
        .await
        .unwrap();
    assert_eq!(
        store.read_all(1, 1).await.unwrap()[0].envelope.recorded_at,
        fixed
    );
}

/// The versions `read_stream` gives for stream `name`, from its first.
async fn versions_of(store: &SledStore, name: &str) -> Vec<u64> {
    store
        .read_stream(&stream(name), 1)
        .await
        .unwrap()
        .iter()
        .map(|e| e.envelope.version)
        .collect()
}

/// Appends "p" (2 events, command c1), "q" (c2) and "p" again (c3) to a new store in `dir`;
/// returns the first answer.
async fn three_appends(dir: &std::path::Path) -> Appended {
    let store = open(dir);
    let first = store
        .append(request("p", ExpectedVersion::Any, "c1", 2))
        .await
        .unwrap();
    store
        .append(request("q", ExpectedVersion::Any, "c2", 1))
        .await
        .unwrap();
    store
        .append(request("p", ExpectedVersion::Any, "c3", 1))
        .await
        .unwrap();
    first
}

#[tokio::test]
async fn lost_indexes_are_rebuilt_from_the_log_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let first = three_appends(dir.path()).await;
    // As if a crash had come before any index entry reached the disk.
    forget_index(dir.path());
    let store = open(dir.path());
    let versions = versions_of(&store, "p").await;
    assert_eq!(versions, vec![1, 2, 3]);
    let again = store
        .append(request("p", ExpectedVersion::Any, "c1", 2))
        .await
        .unwrap();
    assert_eq!(
        Appended {
            deduplicated: false,
            ..again
        },
        first
    );
    let next = store
        .append(request("p", ExpectedVersion::Exact(3), "c4", 1))
        .await
        .unwrap();
    assert_eq!(next.first_version, 4);
}

/// Reads `stream` from each version that matters to the index's chunks of 64 versions, and
/// checks every version and seq against `seqs` (the seq of version v at `seqs[v - 1]`).
async fn reads_back(store: &SledStore, name: &str, seqs: &[u64]) {
    let last = seqs.len() as u64;
    for from in [
        1,
        2,
        63,
        64,
        65,
        66,
        127,
        128,
        129,
        130,
        last - 1,
        last,
        last + 1,
        last + 70,
    ] {
        let got: Vec<(u64, u64)> = store
            .read_stream(&stream(name), from)
            .await
            .unwrap()
            .iter()
            .map(|e| (e.envelope.version, e.envelope.seq))
            .collect();
        let want: Vec<(u64, u64)> = (from..=last).map(|v| (v, seqs[v as usize - 1])).collect();
        assert_eq!(got, want, "{name} from version {from}");
    }
}

#[tokio::test]
async fn a_command_that_is_never_sent_again_keeps_no_idempotency_record() {
    let dir = tempfile::tempdir().unwrap();
    let once = |id: &str| AppendRequest {
        idempotent: false,
        ..request("p", ExpectedVersion::Any, id, 1)
    };
    {
        let store = open(dir.path());
        store.append(once("fresh-1")).await.unwrap();
        assert_eq!(store.find_command("fresh-1").await.unwrap(), None);
        store.append(once("fresh-2")).await.unwrap();
        let keyed = store
            .append(request("p", ExpectedVersion::Any, "keyed", 1))
            .await
            .unwrap();
        assert_eq!(store.find_command("keyed").await.unwrap(), Some(keyed));
        assert_eq!(store.find_command("fresh-1").await.unwrap(), None);
    }
    {
        let db = when_free(|| sled::open(dir.path())).unwrap();
        let index = db.open_tree("index2").unwrap();
        let records: Vec<Vec<u8>> = index
            .scan_prefix(b"c")
            .keys()
            .map(|k| k.unwrap().to_vec())
            .collect();
        assert_eq!(records, vec![b"ckeyed".to_vec()]);
    }
    let store = open(dir.path());
    let versions = versions_of(&store, "p").await;
    assert_eq!(versions, vec![1, 2, 3]);
    assert_eq!(store.find_command("fresh-1").await.unwrap(), None);
    assert!(
        store
            .append(request("p", ExpectedVersion::Any, "keyed", 1))
            .await
            .unwrap()
            .deduplicated
    );
}

#[tokio::test]
async fn a_long_stream_reads_back_from_any_version_across_index_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let mut seqs = Vec::new();
    {
        let store = open(dir.path());
        let mut version = 0;
        let mut n = 0;
        // Appends of 1 to 7 events, so that some straddle the boundary between two chunks,
        // each followed by one of another stream's.
        while version < 200 {
            let a = store
                .append(request(
                    "long",
                    ExpectedVersion::Exact(version),
                    &format!("l{n}"),
                    1 + n % 7,
                ))
                .await
                .unwrap();
            seqs.extend(a.first_seq..=a.last_seq);
            version = a.last_version;
            store
                .append(request("other", ExpectedVersion::Any, &format!("o{n}"), 1))
                .await
                .unwrap();
            n += 1;
        }
        reads_back(&store, "long", &seqs).await;
    }
    // From the index as written, then from an index derived again from the log.
    for derive in [false, true] {
        if derive {
            forget_index(dir.path());
        }
        let store = open(dir.path());
        reads_back(&store, "long", &seqs).await;
        let last = seqs.len() as u64;
        // The stream's head comes from its last chunk: a stale expectation is refused.
        match store
            .append(request(
                "long",
                ExpectedVersion::Exact(last - 1),
                "stale",
                1,
            ))
            .await
        {
            Err(StoreError::WrongExpectedVersion { current, .. }) => assert_eq!(current, last),
            other => panic!("a stale expected version was not refused: {other:?}"),
        }
        let next = store
            .append(request(
                "long",
                ExpectedVersion::Exact(last),
                &format!("next-{derive}"),
                1,
            ))
            .await
            .unwrap();
        assert_eq!(next.first_version, last + 1);
        seqs.push(next.first_seq);
        reads_back(&store, "long", &seqs).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_index_far_behind_the_log_is_derived_in_parts_and_misses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // More than the 4,096 keys the catch-up writes per batch: 5,120 commands on 16 streams.
    let mut tasks = Vec::new();
    {
        let store = open(dir.path());
        for t in 0..32 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let mut answers = Vec::new();
                for i in 0..160 {
                    let id = format!("t{t}-{i}");
                    let name = format!("s{}", (t + i) % 16);
                    let a = store
                        .append(request(&name, ExpectedVersion::Any, &id, 1))
                        .await
                        .unwrap();
                    answers.push((id, a));
                }
                answers
            }));
        }
    }
    let mut answers = Vec::new();
    for t in tasks {
        answers.extend(t.await.unwrap());
    }
    forget_index(dir.path());
    let store = open(dir.path());
    for s in 0..16 {
        let name = format!("s{s}");
        let mut seqs: Vec<(u64, u64)> = answers
            .iter()
            .filter(|(_, a)| a.stream.as_str() == name)
            .map(|(_, a)| (a.first_version, a.first_seq))
            .collect();
        seqs.sort();
        assert_eq!(seqs.len(), 320);
        let got: Vec<(u64, u64)> = store
            .read_stream(&stream(&name), 1)
            .await
            .unwrap()
            .iter()
            .map(|e| (e.envelope.version, e.envelope.seq))
            .collect();
        assert_eq!(got, seqs, "{name}");
    }
    for (id, first) in &answers {
        let name = first.stream.as_str();
        let again = store
            .append(request(name, ExpectedVersion::Any, id, 1))
            .await
            .unwrap();
        assert_eq!(
            again,
            Appended {
                deduplicated: true,
                ..first.clone()
            },
            "{id}"
        );
    }
    assert_eq!(store.head().seq, 5120);
}

#[tokio::test]
async fn an_index_of_the_older_layout_is_derived_again_and_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let first = three_appends(dir.path()).await;
    {
        // What an older release left: tree `index`, a key per stream version, a watermark.
        let db = when_free(|| sled::open(dir.path())).unwrap();
        db.drop_tree("index2").unwrap();
        let old = db.open_tree("index").unwrap();
        for (version, seq) in [(1u64, 1u64), (2, 2), (3, 4)] {
            let mut key = vec![b's', 0, 1, b'p'];
            key.extend_from_slice(&version.to_be_bytes());
            old.insert(key, &seq.to_be_bytes()[..]).unwrap();
        }
        old.insert(b"i", &4u64.to_be_bytes()[..]).unwrap();
        db.flush().unwrap();
    }
    {
        let store = open(dir.path());
        let versions: Vec<(u64, u64)> = store
            .read_stream(&stream("p"), 1)
            .await
            .unwrap()
            .iter()
            .map(|e| (e.envelope.version, e.envelope.seq))
            .collect();
        assert_eq!(versions, vec![(1, 1), (2, 2), (3, 4)]);
        let again = store
            .append(request("p", ExpectedVersion::Any, "c1", 2))
            .await
            .unwrap();
        assert!(again.deduplicated);
        assert_eq!(again.last_seq, first.last_seq);
        let next = store
            .append(request("p", ExpectedVersion::Exact(3), "c4", 1))
            .await
            .unwrap();
        assert_eq!((next.first_version, next.first_seq), (4, 5));
    }
    let db = when_free(|| sled::open(dir.path())).unwrap();
    let names: Vec<String> = db
        .tree_names()
        .iter()
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .collect();
    assert!(!names.contains(&"index".to_string()), "{names:?}");
    assert!(names.contains(&"index2".to_string()), "{names:?}");
    // An older release opened the store again and made its own index beside `index2`.
    let old = db.open_tree("index").unwrap();
    old.insert(b"i", &5u64.to_be_bytes()[..]).unwrap();
    db.flush().unwrap();
    drop((old, db));
    {
        let store = open(dir.path());
        let seqs: Vec<u64> = store
            .read_stream(&stream("p"), 1)
            .await
            .unwrap()
            .iter()
            .map(|e| e.envelope.seq)
            .collect();
        assert_eq!(seqs, vec![1, 2, 4, 5]);
    }
    let db = when_free(|| sled::open(dir.path())).unwrap();
    assert!(!db.tree_names().iter().any(|n| n == b"index"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_stream_sees_every_acknowledged_append_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let mut tasks = Vec::new();
    for t in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let s = format!("s{t}");
            for i in 0..60u64 {
                let a = store
                    .append(request(
                        &s,
                        ExpectedVersion::Exact(i),
                        &format!("{s}-{i}"),
                        1,
                    ))
                    .await
                    .unwrap();
                let events = store.read_stream(&stream(&s), 1).await.unwrap();
                let versions: Vec<u64> = events.iter().map(|e| e.envelope.version).collect();
                assert_eq!(versions, (1..=a.last_version).collect::<Vec<_>>());
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_is_found_by_its_id_as_soon_as_it_is_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    for i in 0..200 {
        let id = format!("cmd-{i}");
        let a = store
            .append(request("p", ExpectedVersion::Any, &id, 1 + i % 3))
            .await
            .unwrap();
        assert_eq!(store.find_command(&id).await.unwrap(), Some(a));
    }
    assert_eq!(store.find_command("never").await.unwrap(), None);
    drop(store);
    let store = open(dir.path());
    let found = store.find_command("cmd-7").await.unwrap().unwrap();
    assert_eq!(
        found.last_version - found.first_version,
        1,
        "cmd-7 appended 1 + 7 % 3 events"
    );
    assert_eq!(found.stream.as_str(), "p");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caught_up_subscription_ends_with_closed_when_the_store_closes() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store
        .append(request("p", ExpectedVersion::Any, "c1", 1))
        .await
        .unwrap();
    let mut sub = store.subscribe(1);
    assert_eq!(sub.next().await.unwrap().envelope.seq, 1);
    let closer = store.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        closer.close();
    });
    let end = tokio::time::timeout(Duration::from_secs(10), sub.next())
        .await
        .expect("does not hang");
    assert!(matches!(end, Err(StoreError::Closed)), "{end:?}");
}

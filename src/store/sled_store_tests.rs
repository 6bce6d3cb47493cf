//! The store's guards that need its insides to be shown deterministically: the bounded
//! append queue (the writer held at its sync), and reads that leave the async thread free
//! (the lock the writer prunes `recent` under, held).

use std::sync::mpsc as std_mpsc;
use std::time::Duration;

use super::*;

fn request(n: u64) -> AppendRequest {
    AppendRequest {
        stream: StreamId::new("p").unwrap(),
        expected: ExpectedVersion::Any,
        events: vec![NewEvent {
            event_type: "ProgressReported".into(),
            schema_version: 1,
            payload: serde_json::json!({ "n": n }).into(),
        }],
        command_id: format!("c{n}"),
        idempotent: true,
        correlation_id: None,
        request_hash: None,
        actor: Actor {
            sub: "tester".into(),
            role: "office".into(),
            dept: None,
        },
    }
}

fn open_with(dir: &Path, queue_capacity: usize) -> SledStore {
    let options = StoreOptions {
        queue_capacity,
        ..StoreOptions::default()
    };
    SledStore::open(dir, options).unwrap()
}

// The writer is held on purpose across the awaits; the test's runtime has one thread.
#[allow(clippy::await_holding_lock)]
#[tokio::test]
async fn a_full_queue_refuses_an_append_at_once_and_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_with(dir.path(), 1);
    health::writable(store.shared()).await.unwrap();
    // The writer takes what is queued, then waits here to make it durable.
    let held = store.shared().durability.lock().unwrap();
    let mut waiting = Vec::new();
    let mut refused = None;
    for n in 0..50 {
        let s = store.clone();
        let append = tokio::spawn(async move { s.append(request(n)).await });
        tokio::time::sleep(Duration::from_millis(20)).await;
        if append.is_finished() {
            refused = Some(append.await.unwrap());
            break;
        }
        waiting.push(append);
    }
    let refused = refused.expect("an append meets a full queue while the writer is held");
    assert!(
        matches!(refused, Err(StoreError::Overloaded)),
        "{refused:?}"
    );
    // The writer's batch in hand plus one queued: the queue is bounded.
    assert!(waiting.len() <= 3, "{} appends were waiting", waiting.len());
    drop(held);
    let mut acknowledged = Vec::new();
    for append in waiting {
        acknowledged.push(append.await.unwrap().expect("a queued append succeeds"));
    }
    let log = store.read_all(1, 100).await.unwrap();
    assert_eq!(log.len(), acknowledged.len());
    for a in &acknowledged {
        assert!(log.iter().any(|e| e.envelope.seq == a.first_seq));
    }
}

#[test]
fn reads_leave_a_current_thread_runtime_free_while_they_wait() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_with(dir.path(), QUEUE_CAPACITY);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(store.append(request(1))).unwrap();
    // Readers of a stream and of a command id take this lock, as the writer's pruning does.
    let held = store.shared().recent.write().unwrap();
    let (alive, heard) = std_mpsc::channel();
    let reader = store.clone();
    let thread = std::thread::spawn(move || {
        runtime.block_on(async move {
            let s = reader.clone();
            let stream =
                tokio::spawn(async move { s.read_stream(&StreamId::new("p").unwrap(), 1).await });
            let s = reader.clone();
            let command = tokio::spawn(async move { s.find_command("c1").await });
            // Runs only if the reads above did not block the runtime's one thread.
            tokio::time::sleep(Duration::from_millis(20)).await;
            alive.send(()).unwrap();
            (stream.await.unwrap(), command.await.unwrap())
        })
    });
    let free = heard.recv_timeout(Duration::from_secs(10));
    drop(held);
    let (stream, command) = thread.join().unwrap();
    assert!(free.is_ok(), "a read blocked the async thread");
    assert_eq!(stream.unwrap().len(), 1);
    assert_eq!(command.unwrap().unwrap().first_seq, 1);
}

#[tokio::test]
async fn a_read_that_meets_corruption_after_the_verification_poisons_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_with(dir.path(), QUEUE_CAPACITY);
    store.append(request(1)).await.unwrap();
    assert_eq!(store.readiness(), Readiness::Ready);
    // Event 1's chunk, changed under the running store: its body no longer decodes.
    let key = layout::event_key(1);
    let mut chunk = store.shared().log.get(key).unwrap().unwrap().to_vec();
    chunk[36] ^= 0x20;
    store.shared().log.insert(key, chunk).unwrap();
    // Its hash no longer matches: refused before it is decoded.
    let read = store.read_stream(&StreamId::new("p").unwrap(), 1).await;
    assert!(matches!(read, Err(StoreError::Corrupt(_))), "{read:?}");
    assert_eq!(store.readiness(), Readiness::Refusing);
    let append = store.append(request(2)).await;
    assert!(matches!(append, Err(StoreError::Poisoned(_))), "{append:?}");
    assert_eq!(store.head().seq, 1, "nothing appended on top");
}

#[tokio::test]
async fn a_read_of_an_event_changed_so_that_it_still_decodes_poisons_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_with(dir.path(), QUEUE_CAPACITY);
    let appended = store.append(request(1)).await.unwrap();
    assert_eq!(store.readiness(), Readiness::Ready);
    // One digit of event 1's payload (`{"n":1}`), changed under the running store: still
    // JSON, still the same seq and stream, only its hash tells.
    let key = layout::event_key(1);
    let mut chunk = store.shared().log.get(key).unwrap().unwrap().to_vec();
    let at = chunk
        .windows(5)
        .position(|w| w == b"\"n\":1")
        .expect("the body holds the payload")
        + 4;
    chunk[at] = b'7';
    store.shared().log.insert(key, chunk).unwrap();
    let read = store.read_stream(&StreamId::new("p").unwrap(), 1).await;
    assert!(matches!(read, Err(StoreError::Corrupt(_))), "{read:?}");
    assert_eq!(store.readiness(), Readiness::Refusing);
    assert_eq!(
        store.head().seq,
        appended.last_seq,
        "nothing appended on top"
    );
}

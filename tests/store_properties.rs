//! Property tests of the log: random sequences against a model, and random interleavings of
//! many concurrent appenders, checked for gapless seqs, contiguous stream versions and
//! conflicts exactly when an expectation is stale.

mod common;

use std::collections::HashMap;

use common::*;
use duban::store::*;
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Expect {
    Any,
    NoStream,
    /// The stream's true current version.
    Current,
    /// The current version minus this much (stale, or simply wrong).
    Behind(u64),
}

#[derive(Clone, Debug)]
struct Op {
    stream: usize,
    expect: Expect,
    events: usize,
    /// Reuse the command id of an earlier op (an idempotent retry), if there was one.
    retry_of: Option<usize>,
    /// Sent as a command that may come again; otherwise its id is neither looked up nor kept.
    idempotent: bool,
}

fn op() -> impl Strategy<Value = Op> {
    let expect = prop_oneof![
        Just(Expect::Any),
        Just(Expect::NoStream),
        Just(Expect::Current),
        (1u64..3).prop_map(Expect::Behind),
    ];
    (
        0usize..4,
        expect,
        1usize..8,
        proptest::option::weighted(0.15, 0usize..64),
        proptest::bool::weighted(0.8),
    )
        .prop_map(|(stream, expect, events, retry_of, idempotent)| Op {
            stream,
            expect,
            events,
            retry_of,
            idempotent,
        })
}

/// What the log should do, computed without it.
#[derive(Default)]
struct Model {
    versions: HashMap<usize, u64>,
    seq: u64,
    commands: HashMap<String, (usize, Appended)>,
    /// Each stream's seqs, in version order.
    seqs: HashMap<usize, Vec<u64>>,
}

impl Model {
    fn expected_version(&self, op: &Op) -> ExpectedVersion {
        let current = self.versions.get(&op.stream).copied().unwrap_or(0);
        match op.expect {
            Expect::Any => ExpectedVersion::Any,
            Expect::NoStream => ExpectedVersion::NoStream,
            Expect::Current => ExpectedVersion::Exact(current),
            Expect::Behind(n) => ExpectedVersion::Exact(current.wrapping_sub(n).min(current + 5)),
        }
    }

    /// `Ok(appended)` or `Err(current version)` for a conflict.
    fn apply(
        &mut self,
        op: &Op,
        command_id: &str,
        expected: ExpectedVersion,
    ) -> Result<Appended, u64> {
        if let Some((_, original)) = self.commands.get(command_id).filter(|_| op.idempotent) {
            return Ok(Appended {
                deduplicated: true,
                ..original.clone()
            });
        }
        let current = self.versions.get(&op.stream).copied().unwrap_or(0);
        let admitted = match expected {
            ExpectedVersion::Any => true,
            ExpectedVersion::NoStream => current == 0,
            ExpectedVersion::Exact(v) => v == current,
        };
        if !admitted {
            return Err(current);
        }
        let n = op.events as u64;
        let appended = Appended {
            stream: stream(&format!("s{}", op.stream)),
            first_version: current + 1,
            last_version: current + n,
            first_seq: self.seq + 1,
            last_seq: self.seq + n,
            deduplicated: false,
        };
        self.seqs
            .entry(op.stream)
            .or_default()
            .extend(appended.first_seq..=appended.last_seq);
        self.seq += n;
        self.versions.insert(op.stream, current + n);
        if op.idempotent {
            self.commands
                .insert(command_id.into(), (op.stream, appended.clone()));
        }
        Ok(appended)
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn a_sequence_of_appends_behaves_exactly_like_the_model(ops in proptest::collection::vec(op(), 1..60)) {
        let dir = tempfile::tempdir().unwrap();
        runtime().block_on(async {
            let store = open(dir.path());
            let mut model = Model::default();
            let mut ids: Vec<(String, usize)> = Vec::new();
            for (i, op) in ops.iter().enumerate() {
                // A retry reuses an earlier command id on that command's own stream; an append
                // that is never sent again has an id of its own.
                let retried = op.retry_of.filter(|_| op.idempotent);
                let (command_id, op) = match retried.and_then(|r| ids.get(r % ids.len().max(1))) {
                    Some((id, s)) => (id.clone(), Op { stream: *s, ..op.clone() }),
                    None if op.idempotent => (format!("cmd-{i}"), op.clone()),
                    None => (format!("once-{i}"), op.clone()),
                };
                if op.idempotent {
                    ids.push((command_id.clone(), op.stream));
                }
                let expected = model.expected_version(&op);
                let want = model.apply(&op, &command_id, expected);
                let got = store
                    .append(AppendRequest {
                        idempotent: op.idempotent,
                        ..request(&format!("s{}", op.stream), expected, &command_id, op.events)
                    })
                    .await;
                match (want, got) {
                    (Ok(w), Ok(g)) => prop_assert_eq!(w, g),
                    (Err(current), Err(StoreError::WrongExpectedVersion { current: c, .. })) => {
                        prop_assert_eq!(current, c)
                    }
                    (w, g) => prop_assert!(false, "model {:?}, store {:?}", w, g),
                }
            }
            prop_assert_eq!(store.head().seq, model.seq);
            prop_assert!(store.verify(None).await.unwrap().is_ok());
            // The stream index (64 versions per key) gives every stream back, from any version:
            // as written, then derived again from the log.
            let mut store = store;
            for derive in [false, true] {
                for (s, seqs) in &model.seqs {
                    for from in [1, 2, 32, 64, 65, 66, 100] {
                        let got: Vec<u64> = store
                            .read_stream(&stream(&format!("s{s}")), from)
                            .await
                            .unwrap()
                            .iter()
                            .map(|e| e.envelope.seq)
                            .collect();
                        let want: Vec<u64> = seqs.iter().skip(from as usize - 1).copied().collect();
                        prop_assert_eq!(got, want, "stream s{} from {} (derived: {})", s, from, derive);
                    }
                }
                store.close();
                drop(store);
                if !derive {
                    forget_index(dir.path());
                }
                store = open(dir.path());
            }
            prop_assert_eq!(store.head().seq, model.seq);
            Ok(())
        })?;
    }

    #[test]
    fn concurrent_appenders_leave_gapless_seqs_contiguous_versions_and_honest_conflicts(
        tasks in proptest::collection::vec(proptest::collection::vec((0usize..3, any::<bool>(), 1usize..4), 1..25), 2..8)
    ) {
        let dir = tempfile::tempdir().unwrap();
        runtime().block_on(async {
            let store = open(dir.path());
            let mut joins = Vec::new();
            for (t, ops) in tasks.into_iter().enumerate() {
                let store = store.clone();
                joins.push(tokio::spawn(async move {
                    // Each task's own, possibly outdated, idea of every stream's version.
                    let mut known: HashMap<usize, u64> = HashMap::new();
                    let mut outcomes = Vec::new();
                    for (i, (s, exact, n)) in ops.into_iter().enumerate() {
                        let expected = if exact {
                            ExpectedVersion::Exact(known.get(&s).copied().unwrap_or(0))
                        } else {
                            ExpectedVersion::Any
                        };
                        let r = store.append(request(&format!("s{s}"), expected, &format!("t{t}-{i}"), n)).await;
                        match &r {
                            Ok(a) => { known.insert(s, a.last_version); }
                            Err(StoreError::WrongExpectedVersion { current, .. }) => { known.insert(s, *current); }
                            Err(e) => panic!("unexpected error {e}"),
                        }
                        outcomes.push((s, expected, n, r));
                    }
                    outcomes
                }));
            }
            let mut outcomes = Vec::new();
            for j in joins {
                outcomes.extend(j.await.unwrap());
            }
            let all = store.read_all(1, usize::MAX).await.unwrap();
            // Seqs are exactly 1..=N and every acknowledged event is there.
            for (i, e) in all.iter().enumerate() {
                prop_assert_eq!(e.envelope.seq, i as u64 + 1);
            }
            let acknowledged: usize = outcomes.iter().filter(|o| o.3.is_ok()).map(|o| o.2).sum();
            prop_assert_eq!(all.len(), acknowledged);
            // Each stream's versions are 1, 2, 3, … in seq order.
            let mut versions: HashMap<String, u64> = HashMap::new();
            for e in &all {
                let v = versions.entry(e.envelope.stream.to_string()).or_insert(0);
                *v += 1;
                prop_assert_eq!(e.envelope.version, *v);
            }
            for (s, expected, n, r) in &outcomes {
                match (expected, r) {
                    (ExpectedVersion::Exact(k), Ok(a)) => prop_assert_eq!(a.first_version, k + 1),
                    (ExpectedVersion::Exact(k), Err(StoreError::WrongExpectedVersion { current, .. })) => {
                        prop_assert_ne!(current, k);
                        let last = versions[&format!("s{}", s)];
                        prop_assert!(*current <= last);
                    }
                    (ExpectedVersion::Any, Ok(_)) => {}
                    (e, r) => prop_assert!(false, "{:?} gave {:?}", e, r),
                }
                if let Ok(a) = r {
                    prop_assert_eq!(a.last_seq - a.first_seq + 1, *n as u64);
                    for (i, seq) in (a.first_seq..=a.last_seq).enumerate() {
                        let e = &all[seq as usize - 1].envelope;
                        prop_assert_eq!(e.stream.as_str(), format!("s{}", s));
                        prop_assert_eq!(e.version, a.first_version + i as u64);
                    }
                }
            }
            prop_assert!(store.verify(None).await.unwrap().is_ok());
            Ok(())
        })?;
    }
}

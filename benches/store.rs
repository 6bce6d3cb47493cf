//! Benchmark of the event log (not a test): durable appends with 1 and with 64 concurrent
//! appenders, `read_all`, `verify` and open time over a large log. Prints medians of three
//! runs; compare ratios within one run, the machine is noisy.
//!
//! `cargo bench --bench store` (add `-- --events 200000` for a quicker, smaller run).

use std::time::{Duration, Instant};

use duban::store::*;
use serde_json::json;

const RUNS: usize = 3;

fn actor() -> Actor {
    Actor {
        sub: "bench".into(),
        role: "department".into(),
        dept: Some("SXDRC".into()),
    }
}

/// A progress report of roughly 300 bytes of payload.
fn event(i: u64) -> NewEvent {
    NewEvent {
        event_type: "ProgressReported".into(),
        schema_version: 1,
        payload: json!({
            "milestone_id": "0192d0c4-7a51-7c3e-9f2b-5d1e8a6b4c21",
            "percent": i % 101,
            "narrative": "主体工程完工，设备安装调试中，预计按期投产",
            "actuals": [{ "indicator": "年销售收入", "unit": "亿元", "value": 123.4 }],
            "evidence": ["doc-2018-0612"],
        })
        .into(),
    }
}

fn append_request(stream: &str, command_id: String, events: Vec<NewEvent>) -> AppendRequest {
    AppendRequest {
        stream: StreamId::new(stream).unwrap(),
        expected: ExpectedVersion::Any,
        events,
        command_id,
        idempotent: true,
        correlation_id: None,
        request_hash: None,
        actor: actor(),
    }
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.partial_cmp(b).unwrap());
    xs[xs.len() / 2]
}

fn spread(xs: &[f64]) -> String {
    let min = xs.iter().cloned().fold(f64::MAX, f64::min);
    let max = xs.iter().cloned().fold(f64::MIN, f64::max);
    format!("range {min:.0} – {max:.0}")
}

/// Durable events/s with `appenders` concurrent tasks, each appending one event per call.
async fn appenders(appenders: usize, per_appender: u64) -> (f64, f64) {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path(), StoreOptions::default()).unwrap();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for a in 0..appenders {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..per_appender {
                let req = append_request(&format!("p-{a}"), format!("{a}-{i}"), vec![event(i)]);
                store.append(req).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let stats = store.stats();
    let get =
        |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::Relaxed) as f64;
    let batches = get(&stats.batches);
    if std::env::var("BENCH_VERBOSE").is_ok() {
        println!(
            "  per batch: write {:.2} ms, flush {:.2} ms, fsync {:.2} ms; wall {:.2} ms",
            get(&stats.write_nanos) / batches / 1e6,
            get(&stats.flush_nanos) / batches / 1e6,
            get(&stats.fsync_nanos) / batches / 1e6,
            elapsed * 1e3 / batches
        );
    }
    (
        (appenders as u64 * per_appender) as f64 / elapsed,
        get(&stats.events) / batches,
    )
}

/// Writes `n` events quickly (64 appenders, 16 events per call) and closes the store.
async fn fill(dir: &std::path::Path, n: u64) -> u64 {
    let store = SledStore::open(dir, StoreOptions::default()).unwrap();
    let per_task = n / 64 / 16;
    let mut tasks = Vec::new();
    for a in 0..64u64 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..per_task {
                let events = (0..16).map(|k| event(i * 16 + k)).collect();
                let req = append_request(
                    &format!("p-{}", (a * 131 + i) % 10_000),
                    format!("f{a}-{i}"),
                    events,
                );
                store.append(req).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    store.head().seq
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let events: u64 = args
        .iter()
        .position(|a| a == "--events")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);

    if args.iter().any(|a| a == "--appenders-only") {
        let (rate, batch) = appenders(64, 4_000).await;
        println!("64 appenders: {rate:.0} events/s, mean batch {batch:.0}");
        return;
    }
    let sample = append_request("p-1", "x".into(), vec![event(1)]);
    println!(
        "event payload {} bytes; stored body about {} bytes",
        sample.events[0].payload.as_str().len(),
        payload_body_len()
    );

    let mut one = Vec::new();
    for _ in 0..RUNS {
        one.push(appenders(1, 3_000).await.0);
    }
    println!(
        "durable appends, 1 appender:   median {:>8.0} events/s ({})",
        median(one.clone()),
        spread(&one)
    );

    let mut many = Vec::new();
    let mut sizes = Vec::new();
    for _ in 0..RUNS {
        let (rate, batch) = appenders(64, 2_000).await;
        many.push(rate);
        sizes.push(batch);
    }
    println!(
        "durable appends, 64 appenders: median {:>8.0} events/s ({}); mean batch {:.0} events",
        median(many.clone()),
        spread(&many),
        median(sizes)
    );

    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let written = fill(dir.path(), events).await;
    println!(
        "filled {written} events in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let mut opens = Vec::new();
    let mut reads = Vec::new();
    let mut verifies = Vec::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        let store = SledStore::open(dir.path(), StoreOptions::default()).unwrap();
        opens.push(started.elapsed().as_secs_f64() * 1000.0);
        reads.push(read_rate(&store).await);
        let started = Instant::now();
        let report = store.verify(None).await.unwrap();
        assert!(report.is_ok() && report.checked == written);
        verifies.push(written as f64 / started.elapsed().as_secs_f64());
        drop(store);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!(
        "open with {written} events:  median {:>8.1} ms ({})",
        median(opens.clone()),
        spread_ms(&opens)
    );
    println!(
        "read_all:                     median {:>8.0} events/s ({})",
        median(reads.clone()),
        spread(&reads)
    );
    println!(
        "verify:                       median {:>8.0} events/s ({})",
        median(verifies.clone()),
        spread(&verifies)
    );
}

fn spread_ms(xs: &[f64]) -> String {
    let min = xs.iter().cloned().fold(f64::MAX, f64::min);
    let max = xs.iter().cloned().fold(f64::MIN, f64::max);
    format!("range {min:.1} – {max:.1}")
}

async fn read_rate(store: &SledStore) -> f64 {
    let started = Instant::now();
    let mut from = 1;
    let mut n = 0u64;
    loop {
        let batch = store.read_all(from, 4096).await.unwrap();
        let Some(last) = batch.last() else { break };
        from = last.envelope.seq + 1;
        n += batch.len() as u64;
    }
    n as f64 / started.elapsed().as_secs_f64()
}

fn payload_body_len() -> usize {
    let envelope = Envelope {
        seq: 1,
        stream: StreamId::new("p-1").unwrap(),
        version: 1,
        event_id: uuid::Uuid::now_v7(),
        event_type: "ProgressReported".into(),
        schema_version: 1,
        recorded_at: chrono::Utc::now(),
        actor: actor(),
        command_id: "0-1".into(),
        correlation_id: None,
        request_hash: None,
        payload: event(1).payload,
        prev_hash: Hash::ZERO,
    };
    serde_json::to_vec(&envelope).unwrap().len()
}

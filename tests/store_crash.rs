//! Crash test: a child process appends from many tasks and prints every acknowledged append;
//! the parent kills it with SIGKILL at a random moment, reopens the log and checks that every
//! acknowledged event is there unchanged, that seq has no gap, that the chain verifies and
//! that the stream index gives every stream back.
//! Repeated over many cycles on the same data directory.
//!
//! The child is this same test binary, re-run on the `crash_child` test with an environment
//! variable telling it where to write.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use common::*;
use duban::store::*;
use serde_json::json;

const CYCLES: u64 = 24;
const CHILD_TASKS: usize = 16;

/// One acknowledged append as the child printed it.
#[derive(Debug)]
struct Ack {
    stream: String,
    command_id: String,
    first_version: u64,
    first_seq: u64,
    last_seq: u64,
}

fn parse_ack(line: &str) -> Option<Ack> {
    let mut f = line.strip_prefix("ack ")?.split(' ');
    Some(Ack {
        stream: f.next()?.into(),
        command_id: f.next()?.into(),
        first_version: f.next()?.parse().ok()?,
        first_seq: f.next()?.parse().ok()?,
        last_seq: f.next()?.parse().ok()?,
    })
}

fn payload(command_id: &str, i: usize) -> serde_json::Value {
    json!({ "command": command_id, "i": i, "narrative": "项目建设进度反馈" })
}

/// The child: appends until killed. Does nothing when run as an ordinary test.
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var("DUBAN_CRASH_CHILD") else {
        return;
    };
    let cycle = std::env::var("DUBAN_CRASH_CYCLE").unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let store = open(std::path::Path::new(&dir));
        let mut tasks = Vec::new();
        for t in 0..CHILD_TASKS {
            let store = store.clone();
            let cycle = cycle.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0.. {
                    let command_id = format!("c{cycle}-t{t}-{i}");
                    let n = 1 + i % 3;
                    let mut req =
                        request(&format!("w{}", t % 5), ExpectedVersion::Any, &command_id, n);
                    for (k, e) in req.events.iter_mut().enumerate() {
                        e.payload = payload(&command_id, k).into();
                    }
                    let a = store.append(req).await.unwrap();
                    // One write per line, so a kill never leaves a line that looks complete.
                    let line = format!(
                        "ack {} {} {} {} {}\n",
                        a.stream, command_id, a.first_version, a.first_seq, a.last_seq
                    );
                    std::io::Write::write_all(&mut std::io::stdout().lock(), line.as_bytes())
                        .unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    });
}

/// xorshift64*: enough randomness for kill timing, reproducible from the printed seed.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

/// Runs the child until it has acknowledged something, lets it run a random while longer,
/// kills it, and returns every complete line it printed.
fn run_and_kill(dir: &std::path::Path, cycle: u64, rng: &mut Rng) -> Vec<Ack> {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
        .env("DUBAN_CRASH_CHILD", dir)
        .env("DUBAN_CRASH_CYCLE", cycle.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let acks = Arc::new(Mutex::new(Vec::new()));
    let reader = {
        let acks = acks.clone();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 {
                // A line cut by the kill has no newline: it was not fully reported.
                if line.ends_with('\n')
                    && let Some(ack) = parse_ack(line.trim_end())
                {
                    acks.lock().unwrap().push(ack);
                }
                line.clear();
            }
        })
    };
    let started = Instant::now();
    while acks.lock().unwrap().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the child acknowledged nothing"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the child exited by itself"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    std::thread::sleep(Duration::from_millis(rng.below(200)));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    reader.join().unwrap();
    Arc::try_unwrap(acks).unwrap().into_inner().unwrap()
}

#[tokio::test]
async fn every_acknowledged_append_survives_sigkill_and_the_chain_verifies() {
    if std::env::var("DUBAN_CRASH_CHILD").is_ok() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let seed = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    println!("kill-timing seed {seed}");
    let mut rng = Rng(seed);
    let mut total_acks = 0;
    for cycle in 0..CYCLES {
        let acks = run_and_kill(dir.path(), cycle, &mut rng);
        total_acks += acks.len();
        let store = open(dir.path());
        let head = store.head();
        let all = store.read_all(1, usize::MAX).await.unwrap();
        assert_eq!(all.len() as u64, head.seq, "cycle {cycle}: seq has a gap");
        for (i, e) in all.iter().enumerate() {
            assert_eq!(e.envelope.seq, i as u64 + 1, "cycle {cycle}: seq has a gap");
        }
        for ack in &acks {
            assert!(
                ack.last_seq <= head.seq,
                "cycle {cycle}: acknowledged {ack:?} was lost"
            );
            for (k, seq) in (ack.first_seq..=ack.last_seq).enumerate() {
                let e = &all[seq as usize - 1].envelope;
                assert_eq!(
                    e.stream.as_str(),
                    ack.stream,
                    "cycle {cycle}: {ack:?} changed"
                );
                assert_eq!(
                    e.command_id, ack.command_id,
                    "cycle {cycle}: {ack:?} changed"
                );
                assert_eq!(
                    e.version,
                    ack.first_version + k as u64,
                    "cycle {cycle}: {ack:?}"
                );
                assert_eq!(
                    e.payload.to_value(),
                    payload(&ack.command_id, k),
                    "cycle {cycle}: {ack:?} changed"
                );
            }
        }
        let report = store.verify(None).await.unwrap();
        assert!(report.is_ok(), "cycle {cycle}: {report:?}");
        // The stream index (64 versions per key, partly written when the kill came, caught up
        // at open) gives each stream exactly its events in the log, from any version.
        for w in 0..5 {
            let name = format!("w{w}");
            let in_log: Vec<u64> = all
                .iter()
                .filter(|e| e.envelope.stream.as_str() == name)
                .map(|e| e.envelope.seq)
                .collect();
            for from in [1, 65, in_log.len() as u64] {
                let read: Vec<(u64, u64)> = store
                    .read_stream(&stream(&name), from)
                    .await
                    .unwrap()
                    .iter()
                    .map(|e| (e.envelope.version, e.envelope.seq))
                    .collect();
                let want: Vec<(u64, u64)> = (1u64..)
                    .zip(in_log.iter().copied())
                    .skip(from.max(1) as usize - 1)
                    .collect();
                assert_eq!(
                    read, want,
                    "cycle {cycle}: stream {name} from version {from}"
                );
            }
        }
        // An acknowledged command retried after the crash is answered, not appended again.
        let last = acks.last().unwrap();
        let retry = request(&last.stream, ExpectedVersion::Any, &last.command_id, 1);
        let again = store.append(retry).await.unwrap();
        assert!(
            again.deduplicated && again.first_seq == last.first_seq,
            "cycle {cycle}"
        );
        assert_eq!(store.head().seq, head.seq);
    }
    println!("{CYCLES} kills, {total_acks} acknowledged appends checked");
}

//! Load generator against a running duban (not a test): durable commands per second
//! (progress reports spread over 1,000 projects) at 64 connections and at one, and project
//! status reads per second at 64 connections, each with p50 and p99. The server runs in this
//! process on its own worker threads; the generator shares the same two cores. The generator
//! is a minimal keep-alive HTTP/1.1 client writing prepared requests, as wrk does, so that
//! the figures are the server's rather than the client library's.
//!
//! `cargo bench --bench http` (`-- --seconds 5 --projects 1000` to change the defaults).

use std::sync::Arc;
use std::time::{Duration, Instant};

use duban::config::Settings;
use duban::startup::Application;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

/// The allocator the `duban` binary uses, since the server runs in this process.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SECRET: &str = "bench-secret-bench-secret-bench-secret-01";

fn token(sub: &str, role: &str, dept: Option<&str>) -> String {
    let now = chrono::Utc::now().timestamp();
    let mut claims = json!({ "sub": sub, "role": role, "iat": now, "exp": now + 36000, "iss": "duban", "aud": "duban" });
    if let Some(d) = dept {
        claims["dept"] = json!(d);
    }
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Run {
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

/// One keep-alive HTTP/1.1 connection that writes prepared request bytes and reads the
/// response far enough to know its status and where it ends — what wrk does, so that the
/// generator spends as little of the shared cores as it can.
struct Conn {
    stream: tokio::net::TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    async fn open(addr: std::net::SocketAddr) -> Self {
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        Self {
            stream,
            buf: Vec::with_capacity(16 * 1024),
        }
    }

    /// Sends `request` and returns the response's status once its whole body has arrived.
    async fn send(&mut self, request: &[u8]) -> u16 {
        use tokio::io::AsyncWriteExt;
        self.stream.write_all(request).await.unwrap();
        self.buf.clear();
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut res = httparse::Response::new(&mut headers);
            if let httparse::Status::Complete(head) = res.parse(&self.buf).unwrap() {
                let status = res.code.unwrap();
                let length: usize = res
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                    .map(|h| std::str::from_utf8(h.value).unwrap().parse().unwrap())
                    .expect("the server answers with a content-length");
                while self.buf.len() < head + length {
                    self.read_more().await;
                }
                return status;
            }
            self.read_more().await;
        }
    }

    async fn read_more(&mut self) {
        use tokio::io::AsyncReadExt;
        let n = self.stream.read_buf(&mut self.buf).await.unwrap();
        assert!(n > 0, "the server closed the connection");
    }
}

/// `connections` connections issue the requests made by `make(i)` for `seconds`.
async fn load<F>(addr: std::net::SocketAddr, connections: usize, seconds: u64, make: Arc<F>) -> Run
where
    F: Fn(u64) -> Vec<u8> + Send + Sync + 'static,
{
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..connections {
        let make = make.clone();
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::open(addr).await;
            let mut latencies = Vec::new();
            let mut i = c as u64;
            while Instant::now() < deadline {
                let request = make(i);
                let t = Instant::now();
                let status = conn.send(&request).await;
                assert!(status < 300, "request failed with {status}");
                latencies.push(t.elapsed());
                i += connections as u64;
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort();
    Run {
        per_second: all.len() as f64 / elapsed,
        p50: all[all.len() / 2],
        p99: all[all.len() * 99 / 100],
    }
}

/// The log's counters from `/metrics`: events, group commits, seconds writing, in flush and
/// in fsync.
async fn log_counters(client: &reqwest::Client, port: u16) -> [f64; 5] {
    let text = client
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let value = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    [
        value("duban_log_events_total"),
        value("duban_log_batches_total"),
        value("duban_log_write_seconds_total"),
        value("duban_log_flush_seconds_total"),
        value("duban_log_fsync_seconds_total"),
    ]
}

/// What the group commit did between two readings of the counters.
fn print_commits(before: [f64; 5], after: [f64; 5], seconds: f64) {
    let [events, batches, write, flush, fsync] = std::array::from_fn(|i| after[i] - before[i]);
    if batches > 0.0 {
        println!(
            "{:<44} {:>8.1} events/commit, {:.0} commits/s; per commit: write {:.2} ms, \
             flush {:.2} ms, fdatasync {:.2} ms",
            "  group commits",
            events / batches,
            batches / seconds,
            write / batches * 1e3,
            flush / batches * 1e3,
            fsync / batches * 1e3
        );
    }
}

fn print(what: &str, r: &Run) {
    println!(
        "{what:<44} {:>8.0}/s  p50 {:>6.2} ms  p99 {:>6.2} ms",
        r.per_second,
        r.p50.as_secs_f64() * 1e3,
        r.p99.as_secs_f64() * 1e3
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let seconds = arg("--seconds", 5);
    let projects = arg("--projects", 1000);
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_path_buf(),
        policies_dir: std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies"),
        // The command and read paths alone: with the real clock the generated milestones
        // (due on the last day the calendar covers) fall due some day, and the notifier would
        // record and mail notices during the runs.
        notifier: false,
        // `DUBAN_HUGE_PAGES=true cargo bench --bench http` measures with them.
        huge_pages: std::env::var("DUBAN_HUGE_PAGES").is_ok_and(|v| v == "true"),
        ..Settings::default()
    };
    settings.jwt.secret = Some(SECRET.into());
    // As `duban serve` does.
    duban::startup::apply_process_settings(&settings);
    let app = Application::build(&settings).await.unwrap();
    let port = app.port();
    let base = format!("http://127.0.0.1:{port}/api/v1");
    tokio::spawn(app.run_until_stopped());

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(128)
        .build()
        .unwrap();
    let office = token("wang", "office", None);
    let dept = token("clerk", "department", Some("SXEIC"));
    let started = Instant::now();
    let mut ids = Vec::new();
    for p in 0..projects {
        let id = uuid::Uuid::now_v7();
        let mid = uuid::Uuid::now_v7();
        let body = json!({ "project_id": id, "name": format!("项目{p}"), "industry": "新材料", "city": "太原",
            "lead_department": "SXEIC", "source_section": "四、(三)" });
        client
            .post(format!("{base}/projects"))
            .bearer_auth(&office)
            .json(&body)
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap();
        let m = json!({ "milestone_id": mid, "title": "投产", "due_date": "2027-12-31", "responsible_departments": ["SXEIC"] });
        client
            .post(format!("{base}/projects/{id}/milestones"))
            .bearer_auth(&office)
            .json(&m)
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap();
        client
            .post(format!("{base}/projects/{id}/assignment/sign"))
            .bearer_auth(&dept)
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap();
        ids.push((id, mid));
    }
    println!(
        "set up {projects} projects in {:.1} s; {seconds} s per run",
        started.elapsed().as_secs_f64()
    );
    let ids = Arc::new(ids);

    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let report = {
        let (dept, ids) = (dept.clone(), ids.clone());
        Arc::new(move |i: u64| {
            let (id, mid) = ids[(i as usize * 7919) % ids.len()];
            let body = json!({ "percent": i % 100, "narrative": "主体工程完工，设备安装调试中" })
                .to_string();
            format!(
                "POST /api/v1/projects/{id}/milestones/{mid}/progress HTTP/1.1\r\nHost: 127.0.0.1\r\n\
                 Authorization: Bearer {dept}\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .into_bytes()
        })
    };
    for _ in 0..3 {
        let before = log_counters(&client, port).await;
        print(
            "durable commands, 64 connections",
            &load(addr, 64, seconds, report.clone()).await,
        );
        print_commits(before, log_counters(&client, port).await, seconds as f64);
    }
    let before = log_counters(&client, port).await;
    print(
        "durable commands, 1 connection",
        &load(addr, 1, seconds, report.clone()).await,
    );
    print_commits(before, log_counters(&client, port).await, seconds as f64);

    let read = {
        let (office, ids) = (office.clone(), ids.clone());
        Arc::new(move |i: u64| {
            let (id, _) = ids[(i as usize * 7919) % ids.len()];
            format!(
                "GET /api/v1/projects/{id} HTTP/1.1\r\nHost: 127.0.0.1\r\n\
                 Authorization: Bearer {office}\r\n\r\n"
            )
            .into_bytes()
        })
    };
    for _ in 0..3 {
        print(
            "status reads, 64 connections",
            &load(addr, 64, seconds, read.clone()).await,
        );
    }
}

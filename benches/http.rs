//! Load generator against a running duban (not a test): durable commands per second
//! (progress reports spread over 1,000 projects) at 64 connections and at one, and project
//! status reads per second at 64 connections, each with p50 and p99. The server runs in this
//! process on its own worker threads; the generator shares the same two cores.
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

/// `connections` tasks issue requests made by `make(i)` for `seconds`.
async fn load<F, Fut>(connections: usize, seconds: u64, make: Arc<F>) -> Run
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = u16> + Send,
{
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..connections {
        let make = make.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut i = c as u64;
            while Instant::now() < deadline {
                let t = Instant::now();
                let status = make(i).await;
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
        // fall due, and the notifier would record and mail notices during the runs.
        notifier: false,
        ..Settings::default()
    };
    settings.jwt.secret = Some(SECRET.into());
    let app = Application::build(&settings).await.unwrap();
    let base = format!("http://127.0.0.1:{}/api/v1", app.port());
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
            .unwrap();
        let m = json!({ "milestone_id": mid, "title": "投产", "due_date": "2030-06-30", "responsible_departments": ["SXEIC"] });
        client
            .post(format!("{base}/projects/{id}/milestones"))
            .bearer_auth(&office)
            .json(&m)
            .send()
            .await
            .unwrap();
        client
            .post(format!("{base}/projects/{id}/assignment/sign"))
            .bearer_auth(&dept)
            .send()
            .await
            .unwrap();
        ids.push((id, mid));
    }
    println!(
        "set up {projects} projects in {:.1} s; {seconds} s per run",
        started.elapsed().as_secs_f64()
    );
    let ids = Arc::new(ids);

    let report = {
        let (client, base, dept, ids) = (client.clone(), base.clone(), dept.clone(), ids.clone());
        Arc::new(move |i: u64| {
            let (client, base, dept, ids) =
                (client.clone(), base.clone(), dept.clone(), ids.clone());
            async move {
                let (id, mid) = ids[(i as usize * 7919) % ids.len()];
                let body =
                    json!({ "percent": i % 100, "narrative": "主体工程完工，设备安装调试中" });
                let res = client
                    .post(format!("{base}/projects/{id}/milestones/{mid}/progress"))
                    .bearer_auth(&dept)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                res.status().as_u16()
            }
        })
    };
    for _ in 0..3 {
        print(
            "durable commands, 64 connections",
            &load(64, seconds, report.clone()).await,
        );
    }
    print(
        "durable commands, 1 connection",
        &load(1, seconds, report.clone()).await,
    );

    let read = {
        let (client, base, office, ids) =
            (client.clone(), base.clone(), office.clone(), ids.clone());
        Arc::new(move |i: u64| {
            let (client, base, office, ids) =
                (client.clone(), base.clone(), office.clone(), ids.clone());
            async move {
                let (id, _) = ids[(i as usize * 7919) % ids.len()];
                let res = client
                    .get(format!("{base}/projects/{id}"))
                    .bearer_auth(&office)
                    .send()
                    .await
                    .unwrap();
                let status = res.status().as_u16();
                let _ = res.bytes().await;
                status
            }
        })
    };
    for _ in 0..3 {
        print(
            "status reads, 64 connections",
            &load(64, seconds, read.clone()).await,
        );
    }
}

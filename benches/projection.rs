//! Benchmark of the read side (not a test). Fills a log with 10,000 projects (100,000
//! milestones) and 1,000,000 events, then measures:
//!
//! - rebuild: every read model from seq 1, events/s (median of 3);
//! - the overdue list (due-date index) on a day with 5 % and with 50 % of milestones overdue;
//! - a project's status read from the models and computed for today, p50 / p99;
//! - the real service (`duban serve`) on that data dir: start-up time until it answers, status
//!   reads over HTTP p50 / p99, the overdue list over HTTP, and its resident memory.
//!
//! `cargo bench --bench projection` (`-- --projects 2000 --events 200000` for a quick run;
//! `-- --data-dir PATH` to keep the filled log and reuse it, leaving out the notifier's run,
//! which would add to it; `-- --served-only` for the service's figures alone, `-- --rebuild-only`
//! for the rebuild's). The service inherits the environment, so `DUBAN_CACHE_MB=16 cargo
//! bench …` measures other settings.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use std::sync::Arc;

use chrono::{NaiveDate, TimeZone, Utc};
use duban::command::{stream_of, to_new_event};
use duban::domain::*;
use duban::policy::Policies;
use duban::projection::queries::{overdue, overdue_page};
use duban::projection::{Day, ReadModels, rebuild, status};
use duban::store::*;
use uuid::Uuid;

/// The allocator the `duban` binary uses.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const RUNS: usize = 3;
const MILESTONES: u64 = 10;

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map_or(default, |v| v.parse().expect("a number"))
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.partial_cmp(b).unwrap());
    xs[xs.len() / 2]
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1e3
}

fn project(i: u64) -> ProjectId {
    ProjectId(Uuid::from_u64_pair(0xB0, i))
}

fn milestone(i: u64, k: u64) -> MilestoneId {
    MilestoneId(Uuid::from_u64_pair(i, k + 1))
}

/// Due dates spread evenly over the plan's five years.
fn due(i: u64, k: u64) -> NaiveDate {
    let start = NaiveDate::from_ymd_opt(2016, 3, 1).unwrap();
    start + chrono::Duration::days(((i * MILESTONES + k) * 1766 / 100_000 % 1766) as i64)
}

/// One project's events: registration, its milestones, then `reports` progress reports.
fn project_events(i: u64, reports: u64) -> Vec<NewEvent> {
    let lead = DepartmentCode::new("SXEIC").unwrap();
    let mut events = vec![Event::ProjectRegistered(ProjectRegistered {
        project_id: project(i),
        name: format!("重点项目{i}"),
        industry: Industry::NewMaterials,
        city: City::Taiyuan,
        lead_department: lead.clone(),
        supporting_departments: vec![DepartmentCode::new("SXDRC").unwrap()],
        description: "年产能与销售收入目标".into(),
        source_section: "四、(三) 新材料产业".into(),
    })];
    for k in 0..MILESTONES {
        events.push(Event::MilestoneScheduled(MilestoneScheduled {
            milestone_id: milestone(i, k),
            title: format!("节点{k}"),
            due_date: due(i, k),
            responsible_departments: vec![lead.clone()],
        }));
    }
    for r in 0..reports {
        events.push(Event::ProgressReported(ProgressReported {
            milestone_id: milestone(i, r % MILESTONES),
            department: lead.clone(),
            reported_at: Utc::now(),
            percent: (r % 100) as u8,
            narrative: "主体工程完工，设备安装调试中".into(),
            actuals: vec![],
            evidence: vec!["doc-2018-0612".into()],
        }));
    }
    events.iter().map(to_new_event).collect()
}

async fn fill(store: &SledStore, projects: u64, events: u64) {
    let reports = (events / projects).saturating_sub(1 + MILESTONES);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..32 {
        let store = store.clone();
        tasks.spawn(async move {
            for i in (worker..projects).step_by(32) {
                let all = project_events(i, reports);
                for (n, chunk) in all.chunks(128).enumerate() {
                    let request = AppendRequest {
                        stream: stream_of(project(i)),
                        expected: ExpectedVersion::Any,
                        events: chunk.to_vec(),
                        command_id: format!("fill-{i}-{n}"),
                        idempotent: true,
                        correlation_id: None,
                        request_hash: None,
                        actor: duban::store::Actor {
                            sub: "bench".into(),
                            role: "office".into(),
                            dept: None,
                        },
                    };
                    store.append(request).await.unwrap();
                }
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    let head = store.head().seq;
    let secs = started.elapsed().as_secs_f64();
    println!("filled {head} events over {projects} projects in {secs:.1} s");
}

fn policies() -> Policies {
    Policies::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies")).unwrap()
}

/// A day on which about `share` of all milestones are past due.
fn day_with_overdue_share(projects: u64, share: f64) -> NaiveDate {
    let mut dues: Vec<NaiveDate> = (0..projects)
        .flat_map(|i| (0..MILESTONES).map(move |k| due(i, k)))
        .collect();
    dues.sort();
    dues[((dues.len() as f64 * share) as usize).min(dues.len() - 1)]
        .succ_opt()
        .unwrap()
}

/// The rebuild, then (unless `rebuild_only`) the queries, in this process.
async fn in_process(dir: &std::path::Path, projects: u64, rebuild_only: bool) {
    let store = SledStore::open(dir, StoreOptions::default()).unwrap();
    let models = ReadModels::open(&dir.join("projections")).unwrap();
    let mut rates = Vec::new();
    for run in 0..RUNS {
        let r = rebuild(&store, &models).await.unwrap();
        println!("  rebuild {run}: {} events in {:.2} s", r.events, r.seconds);
        // What the service's projector does 30 s after an online rebuild.
        let t = Instant::now();
        models.drop_replaced();
        println!(
            "    dropping the replaced generation: {:.2} s",
            t.elapsed().as_secs_f64()
        );
        rates.push(r.events_per_second);
    }
    println!(
        "rebuild: median {:.0} events/s (target ≥ 250,000)",
        median(rates.clone())
    );
    if rebuild_only {
        store.close();
        return;
    }

    let p = policies();
    for share in [0.05, 0.5, 1.0] {
        let date = day_with_overdue_share(projects, share);
        let day = Day {
            date,
            calendar: &p.calendar,
            lights: p.lights.in_force(date),
        };
        let mut times = Vec::new();
        let mut total = 0;
        for _ in 0..5 {
            let t = Instant::now();
            total = overdue_page(&models, day, None, 1, 100).unwrap().total;
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
        println!(
            "overdue list on {date}, first page of 100 (as served): {total} of {} milestones overdue, median {:.1} ms (target ≤ 50 ms)",
            projects * MILESTONES,
            median(times)
        );
        if share < 1.0 {
            let mut times = Vec::new();
            let mut found = 0;
            for _ in 0..5 {
                let t = Instant::now();
                found = overdue(&models, day, None).unwrap().len();
                times.push(t.elapsed().as_secs_f64() * 1e3);
            }
            println!(
                "  every overdue milestone in one list (all pages of the overdue list): {found} items, median {:.1} ms",
                median(times)
            );
        }
    }

    let date = day_with_overdue_share(projects, 0.5);
    let day = Day {
        date,
        calendar: &p.calendar,
        lights: p.lights.in_force(date),
    };
    let mut times = Vec::new();
    for n in 0..20_000u64 {
        let id = project(n * 7919 % projects);
        let t = Instant::now();
        let record = models.project(id).unwrap().unwrap();
        let s = status(&record, day).unwrap();
        std::hint::black_box(serde_json::to_vec(&s).unwrap());
        times.push(t.elapsed());
    }
    times.sort();
    println!(
        "status (read + compute + JSON), in process: p50 {:.3} ms, p99 {:.3} ms",
        percentile(&times, 0.5),
        percentile(&times, 0.99)
    );
    models.flush().unwrap();
    store.close();
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

async fn served(dir: &std::path::Path, projects: u64) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let secret = "bench-secret-bench-secret-bench-secret-00";
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_duban"))
        .arg("serve")
        .env("DUBAN_DATA_DIR", dir)
        .env("DUBAN_LISTEN", format!("127.0.0.1:{port}"))
        .env("DUBAN_JWT__SECRET", secret)
        .env(
            "DUBAN_POLICIES_DIR",
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies"),
        )
        .env("RUST_LOG", "warn")
        // Reads only: with the real clock every milestone of the filled plan is overdue, and
        // the notifier would spend the run deciding 100,000 notices.
        .env("DUBAN_NOTIFIER", "false")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    loop {
        if let Ok(r) = client.get(format!("{base}/readyz")).send().await
            && r.status().is_success()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    println!(
        "start-up of `duban serve` until /readyz answers: {:.0} ms (target ≤ 1 s)",
        started.elapsed().as_secs_f64() * 1e3
    );
    println!(
        "resident memory of the service right after start-up: {} MiB",
        rss_kib(child.id()) / 1024
    );
    let token = Command::new(env!("CARGO_BIN_EXE_duban"))
        .args(["token", "--role", "office", "--sub", "bench"])
        .env("DUBAN_JWT__SECRET", secret)
        .output()
        .unwrap();
    let token = String::from_utf8(token.stdout).unwrap().trim().to_string();
    let mut times = Vec::new();
    for n in 0..5_000u64 {
        let id = project(n * 7919 % projects);
        let t = Instant::now();
        let r = client
            .get(format!("{base}/api/v1/projects/{}", id.0))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
        r.bytes().await.unwrap();
        times.push(t.elapsed());
    }
    times.sort();
    println!(
        "status over HTTP, 1 connection: p50 {:.2} ms, p99 {:.2} ms",
        percentile(&times, 0.5),
        percentile(&times, 0.99)
    );
    println!(
        "resident memory of the service after the status reads: {} MiB",
        rss_kib(child.id()) / 1024
    );
    let t = Instant::now();
    let r = client
        .get(format!("{base}/api/v1/overdue"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let body = r.bytes().await.unwrap();
    println!(
        "overdue list over HTTP (today): {} bytes in {:.1} ms",
        body.len(),
        t.elapsed().as_secs_f64() * 1e3
    );
    println!(
        "resident memory of the service: {} MiB (target ≤ 100 MB)",
        rss_kib(child.id()) / 1024
    );
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let _ = child.wait();
}

#[path = "../tests/smtp_sink/mod.rs"]
mod smtp_sink;

/// Detection over every milestone, a whole notifier run, and mails per second.
async fn notifier(dir: &std::path::Path, projects: u64) {
    use duban::notify::*;
    let store = SledStore::open(dir, StoreOptions::default()).unwrap();
    let models = ReadModels::open(&dir.join("projections")).unwrap();
    let policies = Arc::new(policies());
    let date = day_with_overdue_share(projects, 0.05);
    let mut times = Vec::new();
    let mut found = 0;
    for _ in 0..5 {
        let t = Instant::now();
        found = detect::detect(&models, &policies, date).unwrap().len();
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    println!(
        "detection on {date}: {found} notices due among {} milestones, median {:.1} ms",
        projects * MILESTONES,
        median(times)
    );

    let (port, inbox) = smtp_sink::start();
    let mailer = Mailer::smtp(&format!("smtp://127.0.0.1:{port}"), SMTP_TIMEOUT).unwrap();
    let at = PLAN_TZ
        .from_local_datetime(&date.and_hms_opt(10, 0, 0).unwrap())
        .unwrap()
        .with_timezone(&Utc);
    let projector = duban::projection::Projector::spawn(store.clone(), models.clone()).unwrap();
    let n = Notifier::new(
        duban::command::Dispatcher::new(store.clone(), policies.clone()),
        models.clone(),
        policies.clone(),
        mailer.clone(),
        "督办 <duban@example.org>".into(),
        "http://127.0.0.1:8080".into(),
        Arc::new(move || at),
    );
    let t = Instant::now();
    let report = n.run_once().await.unwrap();
    println!(
        "a whole notifier run on {date}: {} notices decided and recorded, {} mails, in {:.2} s",
        report.decided,
        report.delivery.mails_sent,
        t.elapsed().as_secs_f64()
    );
    let digests: Vec<lettre::Message> = (0..200u64)
        .map(|i| {
            let items = (0..10u64)
                .map(|k| DigestItem {
                    dedup_key: format!("bench/{i}/{k}"),
                    project_id: project(i),
                    project_name: format!("重点项目{i}"),
                    milestone_id: milestone(i, k),
                    milestone_title: format!("节点{k}"),
                    due_date: due(i, k),
                    kind: NoticeKind::Overdue,
                    working_days_overdue: 3,
                    working_days_left: None,
                    level: 1,
                    repeat: 0,
                })
                .collect::<Vec<_>>();
            let digest = Digest {
                department_code: DepartmentCode::new("SXEIC").unwrap(),
                department_name: "山西省经济和信息化委员会".into(),
                to: vec!["eic@example.org".into()],
                cc: vec![],
                level: 1,
                run_key: run_key(items.iter().map(|x| &x.dedup_key)),
                items,
            };
            let ctx = MailContext {
                from: "督办 <duban@example.org>".into(),
                public_url: "http://127.0.0.1:8080".into(),
                now: at,
            };
            render(&digest, &ctx).unwrap()
        })
        .collect();
    let before = inbox.lock().unwrap().len();
    let t = Instant::now();
    for m in &digests {
        mailer.send(m).await.unwrap();
    }
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(inbox.lock().unwrap().len() - before, digests.len());
    println!(
        "mail to a local SMTP server (mailin-embedded, in process), one connection per mail: {:.0} mails/s",
        digests.len() as f64 / secs
    );
    drop(projector);
    store.close();
    models.flush().unwrap();
}

fn main() {
    let projects = arg("--projects", 10_000);
    let events = arg("--events", 1_000_000);
    // `--data-dir PATH` keeps the filled log there and reuses it on the next run.
    let args: Vec<String> = std::env::args().collect();
    let kept = args
        .iter()
        .position(|a| a == "--data-dir")
        .and_then(|i| args.get(i + 1))
        .map(std::path::PathBuf::from);
    let temp = tempfile::tempdir().unwrap();
    let dir = kept.clone().unwrap_or_else(|| temp.path().to_path_buf());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = SledStore::open(&dir, StoreOptions::default()).unwrap();
        if store.head().seq == 0 {
            fill(&store, projects, events).await;
        } else {
            println!(
                "reusing the {} events in {}",
                store.head().seq,
                dir.display()
            );
        }
        store.close();
    });
    if args.iter().any(|a| a == "--served-only") {
        rt.block_on(served(&dir, projects));
        return;
    }
    let rebuild_only = args.iter().any(|a| a == "--rebuild-only");
    rt.block_on(in_process(&dir, projects, rebuild_only));
    if rebuild_only {
        return;
    }
    if kept.is_none() {
        // Records notices in the log: a kept log stays as filled.
        rt.block_on(notifier(&dir, projects));
    }
    rt.block_on(served(&dir, projects));
}

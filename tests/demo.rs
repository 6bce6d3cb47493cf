//! `duban demo`: the story played on a temp data dir, then checked from outside — the lights
//! over HTTP, the overdue list, one project's audit trail against the log, the import run
//! again appending nothing — and the binary with `--no-serve`, the same story every time.

use std::path::{Path, PathBuf};
use std::process::Command;

use duban::config::Settings;
use duban::demo::{DEFAULT_AT, Demo, DemoArgs, GREEN, RED, YELLOW};
use duban::store::{EventStore, SledStore, StoreOptions};
use serde_json::Value;

const PLAN: &str = "shanxi-sei-2016-2020";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn settings(dir: &Path) -> Settings {
    Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.to_path_buf(),
        policies_dir: root().join("policies"),
        ..Settings::default()
    }
}

fn args() -> DemoArgs {
    DemoArgs {
        listen: None,
        at: chrono::DateTime::parse_from_rfc3339(DEFAULT_AT)
            .unwrap()
            .to_utc(),
        no_serve: true,
        fresh: false,
        plan: root().join("plans/shanxi-sei-2016-2020.toml"),
    }
}

async fn get(demo: &Demo, token: &str, path: &str) -> Value {
    let reply = reqwest::Client::new()
        .get(format!("{}{path}", demo.url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert!(
        reply.status().is_success(),
        "GET {path}: {}",
        reply.status()
    );
    reply.json().await.unwrap()
}

fn project_path(key: &str) -> String {
    format!("/api/v1/projects/{}", duban::plan::project_id(PLAN, key).0)
}

/// The event types of the story's green project, in the order the story made them.
const GREEN_STORY: [&str; 14] = [
    "ProjectRegistered",
    "MilestoneScheduled",
    "TargetSet",
    "AssignmentSigned",
    "ProgressReported",
    "CompletionClaimed",
    "CompletionAccepted",
    "ProgressReported",
    "CompletionClaimed",
    "CompletionReturned",
    "CompletionClaimed",
    "CompletionAccepted",
    "AssessmentRecorded",
    "ProgressReported",
];

/// Whether `wanted` appears in `types` in order (other events may come between).
fn in_order(types: &[String], wanted: &[&str]) -> bool {
    let mut rest = types.iter();
    wanted.iter().all(|w| rest.any(|t| t == w))
}

#[tokio::test]
async fn the_demo_lights_green_yellow_and_red_and_its_trail_and_import_hold() {
    let dir = tempfile::tempdir().unwrap();
    let demo = Demo::start(settings(dir.path()), &args()).await.unwrap();
    let office = demo.tokens.office.clone();

    for (key, colour) in [(GREEN, "green"), (YELLOW, "yellow"), (RED, "red")] {
        let status = get(&demo, &office, &project_path(key)).await;
        assert_eq!(
            status["light"]["colour"], colour,
            "{key}: {}",
            status["light"]
        );
        assert_eq!(status["light"]["day"], "2018-06-15");
    }
    let red = get(&demo, &office, &project_path(RED)).await;
    assert_eq!(red["light"]["measures"]["overdue_high_findings"], 1);
    for colour in ["green", "yellow", "red"] {
        let page = get(&demo, &office, &format!("/api/v1/projects?light={colour}")).await;
        assert!(page["total"].as_u64().unwrap() >= 1, "no {colour} project");
    }
    let overdue = get(&demo, &office, "/api/v1/overdue").await;
    assert!(overdue["total"].as_u64().unwrap() > 0);
    // The reminder scan at the stopped clock wrote one digest per department as .eml files.
    let mails: Vec<_> = std::fs::read_dir(dir.path().join("mail"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    assert!(!mails.is_empty(), "no mail was produced");
    let sent = get(&demo, &office, "/api/v1/notifications?limit=1000").await;
    let sent = sent["items"].as_array().unwrap();
    assert!(sent.iter().all(|n| n["status"] == "sent"), "{sent:?}");
    assert!(sent.len() >= mails.len());
    assert!(!overdue["items"].as_array().unwrap().is_empty());
    let (code, _, dept_token) = demo.tokens.department.clone();
    let board = get(
        &demo,
        &dept_token,
        &format!("/api/v1/departments/{code}/dashboard"),
    )
    .await;
    assert!(board.is_object());

    let trail = get(
        &demo,
        &office,
        &format!("{}/events?limit=1000", project_path(GREEN)),
    )
    .await;
    let trail = trail["items"].as_array().unwrap().clone();
    let types: Vec<String> = trail
        .iter()
        .map(|e| e["event_type"].as_str().unwrap().into())
        .collect();
    assert!(in_order(&types, &GREEN_STORY), "{types:?}");
    for pair in trail.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        assert!(b["seq"].as_u64() > a["seq"].as_u64());
        assert_eq!(
            b["version"].as_u64().unwrap(),
            a["version"].as_u64().unwrap() + 1
        );
        if b["seq"].as_u64().unwrap() == a["seq"].as_u64().unwrap() + 1 {
            assert_eq!(b["prev_hash"], a["hash"], "seq {}", b["seq"]);
        }
    }
    demo.stop().await.unwrap();

    // The chain is the whole log's: each entry's prev_hash is the hash of the event before it
    // in the log, which for the trail's consecutive entries is the previous entry's hash.
    let store = reopen(dir.path()).await;
    let log = store.read_all(1, 100_000).await.unwrap();
    let head = store.head().seq;
    assert_eq!(log.len() as u64, head);
    for entry in &trail {
        let seq = entry["seq"].as_u64().unwrap() as usize;
        assert_eq!(entry["hash"], log[seq - 1].hash.to_hex());
        if seq > 1 {
            assert_eq!(entry["prev_hash"], log[seq - 2].hash.to_hex(), "seq {seq}");
        }
    }
    store.close();
    drop(store);

    let (again_settings, plan) = (settings(dir.path()), args().plan);
    let again = tokio::task::spawn_blocking(move || {
        duban::plan::import_file(&again_settings, &plan).unwrap()
    })
    .await
    .unwrap();
    assert_eq!(again.commands_applied, 0, "{again}");
    assert_eq!(again.projects_unchanged, 127);
    let store = reopen(dir.path()).await;
    assert_eq!(store.head().seq, head, "the second import appended");
    store.close();
}

/// The log, once the stopped service's threads have let go of it.
async fn reopen(dir: &Path) -> SledStore {
    for _ in 0..100 {
        match SledStore::open(dir, StoreOptions::default()) {
            Ok(store) => return store,
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    }
    SledStore::open(dir, StoreOptions::default()).unwrap()
}

fn duban() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_duban"));
    c.current_dir(root());
    c.env_remove("DUBAN_DATA_DIR").env_remove("DUBAN_LISTEN");
    c
}

fn demo_run(dir: &Path, extra: &[&str]) -> std::process::Output {
    duban()
        .args([
            "demo",
            "--no-serve",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(dir)
        .args(extra)
        .output()
        .unwrap()
}

/// The story's part of the output: from the clock line to the lights, without ports or tokens.
fn story_lines(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .take_while(|l| !l.starts_with("duban is at"))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_binary_plays_the_same_story_every_time_and_keeps_a_used_directory() {
    let dir = tempfile::tempdir().unwrap();
    let first = demo_run(dir.path(), &[]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let out = String::from_utf8(first.stdout).unwrap();
    assert!(out.starts_with("simulated clock: "), "{out}");
    assert!(out.contains("2018-06-15 10:00 Asia/Shanghai"));
    assert!(out.contains("退办重办"));
    for line in ["  green   ", "  yellow  ", "  red     "] {
        assert!(out.contains(line), "no {line:?} in {out}");
    }
    for role in ["office  ", "inspector  ", "department  ", "admin  "] {
        assert!(out.contains(role), "no token for {role}");
    }
    assert!(out.contains("duban token --data-dir"));
    assert!(out.contains("/api/v1/summary"));

    let refused = demo_run(dir.path(), &[]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--fresh"));

    let fresh = demo_run(dir.path(), &["--fresh"]);
    assert!(
        fresh.status.success(),
        "{}",
        String::from_utf8_lossy(&fresh.stderr)
    );
    let again = String::from_utf8(fresh.stdout).unwrap();
    assert_eq!(story_lines(&out), story_lines(&again));
    assert!(story_lines(&out).len() > 40);
}

#[tokio::test]
async fn the_demo_serves_until_sigterm_and_leaves_a_log_that_verifies() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let mut child = duban()
        .args(["demo", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut url = String::new();
    loop {
        let line = lines.next().expect("the demo says it serves").unwrap();
        if line.starts_with("duban is at ") {
            url = line.split_whitespace().nth(3).unwrap().to_string();
        }
        if line.starts_with("serving until") {
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    let summary: Value = reqwest::get(format!("{url}api/v1/summary"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(summary["day"], "2018-06-15");
    assert!(summary["total"]["green"].as_u64().unwrap() >= 1);

    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let mut waited = 0;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(waited < 300, "the demo did not stop after SIGTERM");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        waited += 1;
    };
    assert_eq!(status.code(), Some(0));
    let verify = duban()
        .args(["verify", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&verify.stdout).starts_with("OK: "));
}

//! The process killed between deciding a notice and sending it: after a restart exactly one
//! mail goes out. The test binary re-runs itself as a child that decides notices in quiet
//! hours (so they wait in the outbox), says so, and is SIGKILLed; the parent then starts the
//! service on the same data dir in the morning, with a real SMTP server listening.

#[path = "smtp_sink/mod.rs"]
mod smtp_sink;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;

use duban::config::Settings;
use duban::startup::Application;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

const SECRET: &str = "crash-secret-crash-secret-crash-secret-0";
const CHILD_DIR: &str = "DUBAN_TEST_CRASH_DIR";
const CHILD_PORT: &str = "DUBAN_TEST_CRASH_SMTP";

fn token(role: &str, dept: Option<&str>) -> String {
    let now = chrono::Utc::now().timestamp();
    let mut claims = json!({ "sub": format!("{role}-user"), "role": role, "iat": now, "exp": now + 3600, "iss": "duban", "aud": "duban" });
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

async fn start(dir: &std::path::Path, smtp_port: u16, now: &str) -> String {
    let mut settings = Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.to_path_buf(),
        policies_dir: std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies"),
        notifier: false,
        ..Settings::default()
    };
    settings.jwt.secret = Some(SECRET.into());
    settings.mail.smtp_url = Some(format!("smtp://127.0.0.1:{smtp_port}"));
    let at: chrono::DateTime<chrono::Utc> = now.parse().unwrap();
    let app = Application::build_with_clock(&settings, Arc::new(move || at))
        .await
        .unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    base
}

async fn post(base: &str, path: &str, token: &str, body: Value) -> Value {
    let r = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert!(status.is_success(), "{path}: {status} {body}");
    body
}

/// The child: registers two overdue projects for two departments and runs the notifier on a
/// Friday at 21:00 — quiet hours — so the notices are decided and wait; then it waits to die.
#[tokio::test]
async fn child_decides_notices_in_quiet_hours_then_waits_to_be_killed() {
    let Ok(dir) = std::env::var(CHILD_DIR) else {
        return; // only runs as the parent's child
    };
    let port: u16 = std::env::var(CHILD_PORT).unwrap().parse().unwrap();
    let base = start(std::path::Path::new(&dir), port, "2018-06-22T13:00:00Z").await;
    for (name, lead) in [
        ("潞安集团煤基液体", "SXEIC"),
        ("大同轨道交通装备", "DT-GOV"),
    ] {
        let p = post(
            &base,
            "/api/v1/projects",
            &token("office", None),
            json!({
                "name": name, "industry": "高端装备制造", "city": "大同", "lead_department": lead,
                "supporting_departments": [], "description": "", "source_section": "四"
            }),
        )
        .await;
        let p = p["project_id"].as_str().unwrap().to_string();
        post(
            &base,
            &format!("/api/v1/projects/{p}/milestones"),
            &token("office", None),
            json!({
                "title": "投产", "due_date": "2018-06-20", "responsible_departments": [lead]
            }),
        )
        .await;
    }
    let run = post(
        &base,
        "/api/v1/admin/scan",
        &token("admin", None),
        json!({}),
    )
    .await;
    assert_eq!(run["decided"], 2, "{run}");
    assert_eq!(run["delivery"]["deferred"], 2, "{run}");
    println!("DECIDED");
    tokio::time::sleep(std::time::Duration::from_secs(600)).await;
}

#[tokio::test]
async fn a_process_killed_between_deciding_and_sending_sends_exactly_once_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_decides_notices_in_quiet_hours_then_waits_to_be_killed",
            "--nocapture",
        ])
        .env(CHILD_DIR, dir.path())
        .env(CHILD_PORT, port.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let decided = stdout
        .lines()
        .map_while(Result::ok)
        .any(|l| l.contains("DECIDED"));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(
        decided,
        "the child decided its notices before it was killed"
    );

    let inbox = smtp_sink::serve_on(listener);
    // Monday 09:00: the service restarts and its run delivers what waited.
    let base = start(dir.path(), port, "2018-06-25T01:00:00Z").await;
    let run = post(
        &base,
        "/api/v1/admin/scan",
        &token("admin", None),
        json!({}),
    )
    .await;
    assert_eq!(run["decided"], 0, "still the first step of each: {run}");
    assert_eq!(run["delivery"]["mails_sent"], 2, "{run}");
    let again = post(
        &base,
        "/api/v1/admin/scan",
        &token("admin", None),
        json!({}),
    )
    .await;
    assert_eq!(again["delivery"]["mails_sent"], 0, "{again}");
    let mails = inbox.lock().unwrap().clone();
    assert_eq!(mails.len(), 2, "one digest per department, once each");
    let mut to: Vec<String> = mails.iter().map(|m| m.rcpt_to[0].clone()).collect();
    to.sort();
    assert_eq!(to, ["datong@example.org", "eic@example.org"]);
    for m in &mails {
        assert!(m.text().contains("投产"));
    }
}

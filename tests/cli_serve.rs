//! The binary as an operator runs it: `duban serve` on the embedded defaults (a generated
//! secret kept in the data dir), `duban token`, a clean exit 0 on SIGTERM with the log intact,
//! and a refusal to start with a short secret.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

fn duban() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_duban"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

#[tokio::test]
async fn serve_answers_then_stops_cleanly_on_sigterm_with_the_log_intact() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = duban()
        .args(["serve", "--data-dir"])
        .arg(dir.path())
        .env("DUBAN_LISTEN", "127.0.0.1:0")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
    let port = loop {
        let line = lines
            .next()
            .expect("the server says where it listens")
            .unwrap();
        if let Some(rest) = line.split("http://127.0.0.1:").nth(1) {
            break rest.split('/').next().unwrap().parse::<u16>().unwrap();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    #[cfg(target_os = "linux")]
    {
        // Transparent huge pages are off unless `huge_pages` is set.
        // The kernel shows the flag (`THP_enabled`) since 5.0, where it has huge pages.
        let status = std::fs::read_to_string(format!("/proc/{}/status", server.id())).unwrap();
        let line = status.lines().find(|l| l.starts_with("THP_enabled:"));
        if std::path::Path::new("/sys/kernel/mm/transparent_hugepage/enabled").exists() {
            let line = line.expect("the kernel reports THP_enabled");
            assert!(line.ends_with('0'), "{line}");
        }
    }

    let token = duban()
        .args(["token", "--role", "office", "--sub", "wang", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        token.status.success(),
        "{}",
        String::from_utf8_lossy(&token.stderr)
    );
    let token = String::from_utf8(token.stdout).unwrap().trim().to_string();
    let res = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/api/v1/projects"))
        .bearer_auth(&token)
        .json(&serde_json::json!({
            "name": "大同通用航空产业园", "industry": "高端装备制造", "city": "大同",
            "lead_department": "DT-GOV", "source_section": "四、(一)"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);

    let kill = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let mut waited = 0;
    let status = loop {
        if let Some(status) = server.try_wait().unwrap() {
            break status;
        }
        assert!(waited < 300, "the server did not stop after SIGTERM");
        tokio::time::sleep(Duration::from_millis(100)).await;
        waited += 1;
    };
    assert_eq!(status.code(), Some(0));
    let verify = duban()
        .args(["verify", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&verify.stdout).contains("OK: 1 events verified"));
}

#[test]
fn a_short_hs256_secret_is_refused_at_start_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let out = duban()
        .args(["serve", "--data-dir"])
        .arg(dir.path())
        .env("DUBAN_JWT__SECRET", "too-short")
        .env("DUBAN_LISTEN", "127.0.0.1:0")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("at least 32 bytes"), "{err}");
}

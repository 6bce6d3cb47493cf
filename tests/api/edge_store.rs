//! A log that fails verification is not served as healthy: the service that reopens a data
//! dir whose event data was changed while it was stopped is not ready, takes no write, and
//! answers a read it cannot make with a problem naming the request id, not sled's text; a
//! full append queue answers 503 with `Retry-After` (the queue itself: the store's unit tests).

use std::path::Path;
use std::sync::Arc;

use duban::config::Settings;
use duban::startup::Application;
use serde_json::{Value, json};

use crate::helpers::{SECRET, office};

/// More events than the tail check at open covers, so that a change to the first one is
/// found only by the full verification.
const PROJECTS: u64 = duban::store::TAIL_CHECK + 6;

/// The service on a data dir the test keeps, so that it can be stopped and started again.
struct Served {
    base: String,
    client: reqwest::Client,
    handle: actix_web::dev::ServerHandle,
    stopped: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Served {
    async fn start(dir: &Path) -> Served {
        let mut settings = Settings {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: dir.to_path_buf(),
            policies_dir: Path::new(env!("CARGO_MANIFEST_DIR")).join("policies"),
            ..Settings::default()
        };
        settings.jwt.secret = Some(SECRET.into());
        settings.notifier = false;
        let start: chrono::DateTime<chrono::Utc> = "2018-06-15T02:00:00Z".parse().unwrap();
        let app = Application::build_with_clock(&settings, Arc::new(move || start))
            .await
            .unwrap();
        Served {
            base: format!("http://127.0.0.1:{}", app.port()),
            client: reqwest::Client::new(),
            handle: app.handle(),
            stopped: tokio::spawn(app.run_until_stopped()),
        }
    }

    /// Stops the service and waits until it has closed its log.
    async fn stop(self) {
        self.handle.stop(true).await;
        self.stopped.await.unwrap().unwrap();
    }

    async fn send(
        &self,
        req: reqwest::RequestBuilder,
    ) -> (u16, String, reqwest::header::HeaderMap) {
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        (status, res.text().await.unwrap(), headers)
    }

    async fn get(&self, path: &str) -> (u16, String, reqwest::header::HeaderMap) {
        let req = self.client.get(format!("{}{path}", self.base));
        self.send(req.bearer_auth(office())).await
    }

    async fn register(&self, n: u64) -> (u16, String, reqwest::header::HeaderMap) {
        let req = self
            .client
            .post(format!("{}/api/v1/projects", self.base))
            .bearer_auth(office())
            .json(&json!({
                "name": format!("项目 {n}"),
                "industry": "高端装备制造",
                "city": "太原",
                "lead_department": "SXEIC",
                "supporting_departments": ["SXDRC"],
                "description": "test",
                "source_section": "四、(一)"
            }));
        self.send(req).await
    }

    /// The durable head, from `/metrics`.
    async fn head(&self) -> u64 {
        let (_, text, _) = self.get("/metrics").await;
        text.lines()
            .find_map(|l| l.strip_prefix("duban_log_head_seq "))
            .expect("the metrics carry the head")
            .trim()
            .parse()
            .unwrap()
    }
}

/// Flips the first byte of event 1's stored body (its chunk is the first in the log tree),
/// through sled, while the service is stopped.
fn flip_first_event(dir: &Path) {
    let mut tries = 0;
    let db = loop {
        match sled::open(dir) {
            Ok(db) => break db,
            // The closed service's sled lets go of its file lock a moment later.
            Err(_) if tries < 100 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(e) => panic!("cannot open the log: {e}"),
        }
    };
    let log = db.open_tree("log").unwrap();
    let mut key = vec![b'e'];
    key.extend_from_slice(&1u64.to_be_bytes());
    let mut chunk = log.get(&key).unwrap().expect("event 1's chunk").to_vec();
    // len (4) ‖ hash (32) ‖ body: the body's first byte, its opening brace.
    assert_eq!(chunk[36], b'{');
    chunk[36] ^= 0x20;
    log.insert(&key, chunk).unwrap();
    db.flush().unwrap();
}

/// The service on a log of `PROJECTS` events whose first event was then changed; returns it
/// with the id of the project whose stream holds that event.
async fn served_on_a_tampered_log(dir: &Path) -> (Served, String) {
    let app = Served::start(dir).await;
    let mut first = None;
    for n in 0..PROJECTS {
        let (status, body, _) = app.register(n).await;
        assert_eq!(status, 201, "{body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        first.get_or_insert(body["project_id"].as_str().unwrap().to_string());
    }
    app.stop().await;
    flip_first_event(dir);
    (Served::start(dir).await, first.unwrap())
}

#[tokio::test]
async fn a_log_that_fails_verification_is_not_ready_and_takes_no_write() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _) = served_on_a_tampered_log(dir.path()).await;
    // Not ready while the chain is verified, and not ready once it failed.
    let (status, body, _) = app.get("/readyz").await;
    assert_eq!(status, 503, "{body}");
    let (status, body, _) = app.register(PROJECTS).await;
    assert_eq!(status, 503, "{body}");
    let problem: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(problem["status"], 503);
    assert!(problem["request_id"].is_string(), "{problem}");
    let (status, body, _) = app.get("/readyz").await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("refuses writes"), "{body}");
    assert_eq!(app.head().await, PROJECTS, "nothing is appended");
    app.stop().await;
}

#[tokio::test]
async fn a_read_the_log_cannot_make_answers_a_generic_problem_with_the_request_id() {
    let dir = tempfile::tempdir().unwrap();
    let (app, project) = served_on_a_tampered_log(dir.path()).await;
    let (status, body, headers) = app.get(&format!("/api/v1/projects/{project}/events")).await;
    assert_eq!(status, 500, "{body}");
    assert_eq!(headers["content-type"], "application/problem+json");
    let problem: Value = serde_json::from_str(&body).unwrap();
    let request_id = problem["request_id"]
        .as_str()
        .expect("the problem names the request");
    assert_eq!(request_id.len(), 36, "a uuid: {request_id}");
    let detail = problem["detail"].as_str().unwrap().to_lowercase();
    for internal in ["backtrace", "sled", "undecodable", "line 1", "column"] {
        assert!(
            !detail.contains(internal),
            "storage internals in {detail:?}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn a_verified_log_is_ready_and_takes_writes_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let app = Served::start(dir.path()).await;
    assert_eq!(app.register(0).await.0, 201);
    app.stop().await;
    let app = Served::start(dir.path()).await;
    // Written right after start-up: the write waits for the verification, not refused.
    let (status, body, _) = app.register(1).await;
    assert_eq!(status, 201, "{body}");
    let (status, body, _) = app.get("/readyz").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(app.head().await, 2);
    app.stop().await;
}

#[test]
fn a_full_append_queue_and_a_log_being_verified_answer_503_with_retry_after() {
    use actix_web::ResponseError;
    use duban::http::problem::ApiError;
    use duban::store::StoreError;
    for e in [StoreError::Overloaded, StoreError::Verifying] {
        let res = ApiError::from(e).error_response();
        assert_eq!(res.status().as_u16(), 503);
        assert_eq!(res.headers().get("retry-after").unwrap(), "1");
    }
}

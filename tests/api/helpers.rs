//! `spawn_app()`: the real service on port 0 with a temp data dir, and a client with one
//! method per thing the tests do. Tokens are minted with the `jsonwebtoken` library directly,
//! as any identity provider would.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use duban::config::Settings;
use duban::startup::Application;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

pub const SECRET: &str = "test-secret-test-secret-test-secret-0123";

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    /// The simulated now, in seconds since the epoch; tests may move it.
    now: Arc<AtomicI64>,
    /// The highest `position` a command answered with: reads ask for at least it, as a
    /// client reading its own writes does.
    position: AtomicU64,
    /// Kept for the life of the app: dropping it removes the data dir.
    _data_dir: tempfile::TempDir,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// The app with settings adjusted by the test (e.g. another key).
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let data_dir = tempfile::tempdir().unwrap();
    let mut settings = Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: data_dir.path().to_path_buf(),
        policies_dir: std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies"),
        ..Settings::default()
    };
    settings.jwt.secret = Some(SECRET.into());
    // Tests run the notifier on demand (POST /api/v1/admin/scan), at the moments they choose.
    settings.notifier = false;
    adjust(&mut settings);
    // Mid-June 2018, Beijing: the simulated now of these tests unless they move it.
    let start: chrono::DateTime<chrono::Utc> = "2018-06-15T02:00:00Z".parse().unwrap();
    let now = Arc::new(AtomicI64::new(start.timestamp()));
    let clock = now.clone();
    let app = Application::build_with_clock(
        &settings,
        Arc::new(move || {
            chrono::DateTime::from_timestamp(clock.load(Ordering::SeqCst), 0).unwrap()
        }),
    )
    .await
    .unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    TestApp {
        base,
        client: reqwest::Client::new(),
        now,
        position: AtomicU64::new(0),
        _data_dir: data_dir,
    }
}

/// Claims as a test wants them; `exp`/`iat` may be left out on purpose.
pub fn claims(sub: &str, role: &str, dept: Option<&str>) -> Value {
    let now = chrono::Utc::now().timestamp();
    let mut c = json!({ "sub": sub, "role": role, "iat": now, "exp": now + 3600, "iss": "duban", "aud": "duban" });
    if let Some(d) = dept {
        c["dept"] = json!(d);
    }
    c
}

pub fn sign(claims: &Value, alg: Algorithm, secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(alg),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

pub fn token(sub: &str, role: &str, dept: Option<&str>) -> String {
    sign(&claims(sub, role, dept), Algorithm::HS256, SECRET)
}

pub fn office() -> String {
    token("wang.office", "office", None)
}
pub fn inspector() -> String {
    token("li.inspector", "inspector", None)
}
pub fn admin() -> String {
    token("root", "admin", None)
}
pub fn department(code: &str) -> String {
    token(&format!("clerk.{code}"), "department", Some(code))
}

pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl TestApp {
    /// Moves the simulated clock, e.g. `app.set_now("2018-07-02T02:00:00Z")`.
    pub fn set_now(&self, rfc3339: &str) {
        let at: chrono::DateTime<chrono::Utc> = rfc3339.parse().unwrap();
        self.now.store(at.timestamp(), Ordering::SeqCst);
    }

    /// The path with `min_position` set to the last position this client wrote at.
    pub fn fresh(&self, path: &str) -> String {
        let sep = if path.contains('?') { '&' } else { '?' };
        let at = self.position.load(Ordering::SeqCst);
        format!("{path}{sep}min_position={at}")
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.post_with(path, token, body, &[]).await
    }

    pub async fn post_with(
        &self,
        path: &str,
        token: &str,
        body: Value,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut req = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(&body);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let r = reply(req.send().await.unwrap()).await;
        if let Some(at) = r.body.get("position").and_then(Value::as_u64) {
            self.position.fetch_max(at, Ordering::SeqCst);
        }
        r
    }

    pub async fn post_raw(&self, path: &str, token: &str, body: String) -> Reply {
        let req = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body);
        reply(req.send().await.unwrap()).await
    }

    /// A GET that reads this client's own writes (see [`TestApp::fresh`]).
    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.get_as_is(&self.fresh(path), token).await
    }

    /// A GET exactly as given.
    pub async fn get_as_is(&self, path: &str, token: &str) -> Reply {
        reply(
            self.client
                .get(format!("{}{path}", self.base))
                .bearer_auth(token)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// Registers the demo project and returns its id.
    pub async fn register_project(&self) -> String {
        let r = self
            .post(
                "/api/v1/projects",
                &office(),
                json!({
                    "name": "太原轨道交通装备制造基地",
                    "industry": "高端装备制造",
                    "city": "太原",
                    "lead_department": "SXEIC",
                    "supporting_departments": ["SXDRC"],
                    "description": "2020年年销售收入500亿元",
                    "source_section": "四、(一) 高端装备制造业"
                }),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.body["project_id"].as_str().unwrap().to_string()
    }

    /// A milestone due 2018-06-30 for both departments; returns its id.
    pub async fn schedule_milestone(&self, project: &str) -> String {
        self.milestone(project, "整车组装线投产", "2018-06-30", &["SXEIC", "SXDRC"])
            .await
    }

    /// Registers a project as the office on 2018-03-01 (the clock is left there); `fields`
    /// are the registration's body. Returns its id.
    pub async fn register_in_march(&self, fields: Value) -> String {
        self.set_now("2018-03-01T02:00:00Z");
        let r = self.post("/api/v1/projects", &office(), fields).await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.body["project_id"].as_str().unwrap().to_string()
    }

    /// Schedules a milestone as the office; returns its id, read from the audit trail.
    pub async fn milestone(
        &self,
        project: &str,
        title: &str,
        due: &str,
        responsible: &[&str],
    ) -> String {
        let r = self
            .post(
                &format!("/api/v1/projects/{project}/milestones"),
                &office(),
                json!({ "title": title, "due_date": due, "responsible_departments": responsible }),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let trail = self
            .get(&format!("/api/v1/projects/{project}/events"), &office())
            .await;
        trail.body["items"].as_array().unwrap().last().unwrap()["payload"]["milestone_id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// How many events the project's audit trail holds (its first page: up to 100).
    pub async fn trail_len(&self, project: &str) -> usize {
        let trail = self
            .get(&format!("/api/v1/projects/{project}/events"), &office())
            .await;
        assert_eq!(trail.status, 200, "{}", trail.body);
        trail.body["items"].as_array().unwrap().len()
    }

    /// How many projects the office sees.
    pub async fn project_count(&self) -> u64 {
        let list = self.get("/api/v1/projects", &office()).await;
        assert_eq!(list.status, 200, "{}", list.body);
        list.body["total"].as_u64().unwrap()
    }

    /// Runs the notifier once, as an admin; returns its report.
    pub async fn scan(&self) -> Value {
        let r = self.post("/api/v1/admin/scan", &admin(), json!({})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body
    }

    pub async fn sign_for(&self, project: &str, dept: &str) {
        let r = self
            .post(
                &format!("/api/v1/projects/{project}/assignment/sign"),
                &department(dept),
                json!({}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
}

async fn reply(res: reqwest::Response) -> Reply {
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Reply {
        status,
        body,
        headers,
    }
}

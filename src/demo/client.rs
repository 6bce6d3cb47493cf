//! The demo's HTTP client: it reaches the service as any client does, with a bearer token
//! per caller, and reads its own writes by asking reads for the `position` its last command
//! answered with.

use anyhow::Context;
use serde_json::Value;

use super::acts::Request;
use super::story::Who;
use crate::config::JwtSettings;

/// Who the tokens name: the office's and the inspectors' people, a clerk per department.
pub const OFFICE_SUB: &str = "wang.office";
pub const INSPECTOR_SUB: &str = "li.inspector";
pub const ADMIN_SUB: &str = "admin";

pub fn department_sub(code: &str) -> String {
    format!("clerk.{}", code.to_ascii_lowercase())
}

/// A bearer token for `who`, or for an admin, valid for `ttl`.
pub fn mint(jwt: &JwtSettings, who: Option<Who>, ttl: chrono::Duration) -> anyhow::Result<String> {
    use crate::http::auth::mint;
    match who {
        Some(Who::Office) => mint(jwt, OFFICE_SUB, "office", None, ttl),
        Some(Who::Inspector) => mint(jwt, INSPECTOR_SUB, "inspector", None, ttl),
        Some(Who::Dept(code)) => mint(jwt, &department_sub(code), "department", Some(code), ttl),
        None => mint(jwt, ADMIN_SUB, "admin", None, ttl),
    }
}

pub struct Client {
    http: reqwest::Client,
    base: String,
    jwt: JwtSettings,
    /// The highest position a command answered with.
    position: u64,
}

/// A reply the demo did not expect: its status and problem+json body.
fn refused(what: &str, status: reqwest::StatusCode, body: &Value) -> anyhow::Error {
    let detail = body
        .get("detail")
        .and_then(Value::as_str)
        .map_or_else(|| body.to_string(), str::to_string);
    anyhow::anyhow!("{what}: the service answered {status}: {detail}")
}

impl Client {
    pub fn new(base: String, jwt: JwtSettings) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(std::time::Duration::from_secs(30))
            .build()?;
        Ok(Self {
            http,
            base,
            jwt,
            position: 0,
        })
    }

    fn token(&self, who: Option<Who>) -> anyhow::Result<String> {
        mint(&self.jwt, who, chrono::Duration::minutes(10))
    }

    /// Sends a command as `who`; anything but success is an error naming the step.
    pub async fn command(&mut self, who: Who, request: &Request) -> anyhow::Result<()> {
        let reply = self
            .http
            .post(format!("{}{}", self.base, request.path))
            .bearer_auth(self.token(Some(who))?)
            .json(&request.body)
            .send()
            .await
            .with_context(|| format!("POST {}", request.path))?;
        let status = reply.status();
        let body: Value = reply.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            return Err(refused(&request.what, status, &body));
        }
        if let Some(at) = body.get("position").and_then(Value::as_u64) {
            self.position = self.position.max(at);
        }
        Ok(())
    }

    /// A read as `who`, reflecting every command sent so far.
    pub async fn get(&self, who: Who, path: &str) -> anyhow::Result<Value> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let url = format!("{}{path}{sep}min_position={}", self.base, self.position);
        let reply = self
            .http
            .get(url)
            .bearer_auth(self.token(Some(who))?)
            .send()
            .await
            .with_context(|| format!("GET {path}"))?;
        let status = reply.status();
        let body: Value = reply.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            return Err(refused(&format!("GET {path}"), status, &body));
        }
        Ok(body)
    }

    /// `POST /api/v1/admin/scan` as an admin: the status and body, whatever they are.
    pub async fn admin_scan(&self) -> anyhow::Result<(reqwest::StatusCode, Value)> {
        let reply = self
            .http
            .post(format!("{}/api/v1/admin/scan", self.base))
            .bearer_auth(self.token(None)?)
            .send()
            .await
            .context("POST /api/v1/admin/scan")?;
        let status = reply.status();
        Ok((status, reply.json().await.unwrap_or(Value::Null)))
    }
}

//! The notifier over HTTP: `POST /admin/scan` runs it once (admin); `GET /admin/outbox` lists
//! what is not delivered — waiting, being retried, or given up (dead letters); and
//! `GET /notifications` is the record of notices with their status, for the office and the
//! inspectors (all) and for a department (its own).

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use super::auth_extract::Caller;
use super::problem::ApiError;
use super::reads::{Freshness, caught_up, confinement};
use crate::domain::{DepartmentCode, MilestoneId, NoticeKind, ProjectId};
use crate::notify::RunReport;
use crate::projection::OutboxEntry;

#[derive(Clone, Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoticeStatus {
    Pending,
    Retrying,
    Sent,
    /// Given up: a permanent refusal, or the retry deadline passed.
    Dead,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct NoticeView {
    pub dedup_key: String,
    pub project_id: ProjectId,
    pub milestone_id: MilestoneId,
    pub department: DepartmentCode,
    pub due_date: NaiveDate,
    pub kind: NoticeKind,
    pub level: u8,
    pub repeat: u32,
    pub recipients: Vec<String>,
    pub decided_at: DateTime<Utc>,
    pub status: NoticeStatus,
    pub message_id: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    pub failures: u32,
    pub last_error: Option<String>,
}

fn view(e: OutboxEntry) -> NoticeView {
    let status = match (&e.sent, e.dead, e.failures) {
        (Some(_), _, _) => NoticeStatus::Sent,
        (None, true, _) => NoticeStatus::Dead,
        (None, false, 0) => NoticeStatus::Pending,
        (None, false, _) => NoticeStatus::Retrying,
    };
    let n = e.notice;
    NoticeView {
        dedup_key: n.dedup_key,
        project_id: e.project_id,
        milestone_id: n.milestone_id,
        department: n.department,
        due_date: n.due_date,
        kind: n.kind,
        level: n.level,
        repeat: n.repeat,
        recipients: n.recipients,
        decided_at: e.decided_at,
        status,
        message_id: e.sent.as_ref().map(|s| s.message_id.clone()),
        sent_at: e.sent.map(|s| s.at),
        failures: e.failures,
        last_error: e.last_error,
    }
}

fn admin_only(caller: &Caller) -> Result<(), ApiError> {
    if caller.0.role == "admin" {
        Ok(())
    } else {
        Err(ApiError::forbidden("this is for admins"))
    }
}

/// Runs the notifier once now: detect what is due today, record it, deliver the outbox.
#[utoipa::path(post, path = "/api/v1/admin/scan", tag = "admin",
    responses((status = 200, body = RunReport), (status = "4XX", body = super::problem::Problem)),
    security(("bearer" = [])))]
#[post("/admin/scan")]
pub async fn scan(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    admin_only(&caller)?;
    Ok(HttpResponse::Ok().json(state.notifier.run_once().await?))
}

/// Notices not delivered: pending, retrying, and dead letters.
#[utoipa::path(get, path = "/api/v1/admin/outbox", tag = "admin",
    params(Freshness),
    responses((status = 200, body = Vec<NoticeView>), (status = "4XX", body = super::problem::Problem)),
    security(("bearer" = [])))]
#[get("/admin/outbox")]
pub async fn outbox(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<Freshness>,
) -> Result<HttpResponse, ApiError> {
    admin_only(&caller)?;
    caught_up(&state, query.min_position).await?;
    let mut out = Vec::new();
    for e in state.models.notices() {
        let e = e?;
        if e.sent.is_none() {
            out.push(view(e));
        }
    }
    Ok(HttpResponse::Ok().json(out))
}

/// Every notice decided, with its status, newest first.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "read",
    params(Freshness),
    responses((status = 200, body = Vec<NoticeView>), (status = "4XX", body = super::problem::Problem)),
    security(("bearer" = [])))]
#[get("/notifications")]
pub async fn notifications(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<Freshness>,
) -> Result<HttpResponse, ApiError> {
    caught_up(&state, query.min_position).await?;
    let own = confinement(&state, &caller)?;
    let mut out = Vec::new();
    for e in state.models.notices() {
        let e = e?;
        if own.as_ref().is_none_or(|d| *d == e.notice.department) {
            out.push(view(e));
        }
    }
    out.sort_by(|a, b| {
        b.decided_at
            .cmp(&a.decided_at)
            .then(a.dedup_key.cmp(&b.dedup_key))
    });
    Ok(HttpResponse::Ok().json(out))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(scan).service(outbox).service(notifications);
}

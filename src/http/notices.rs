//! The notifier over HTTP: `POST /admin/scan` runs it once (admin); `GET /admin/outbox` lists
//! what is not delivered — waiting, being retried, or given up (dead letters); and
//! `GET /notifications` is the record of notices with their status, for the office and the
//! inspectors (all) and for a department (its own), a page at a time in the order decided.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use super::access::{admin_only, confined_to};
use super::auth_extract::Caller;
use super::blocking::read_models;
use super::freshness::{Freshness, caught_up};
use super::params::{CursorQuery, page_of};
use super::problem::ApiError;
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
    /// The seq of the event that decided it: the cursor of `GET /notifications`.
    pub seq: u64,
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
        seq: e.seq,
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

/// Runs the notifier once now: detect what is due today, record it, deliver the outbox.
#[utoipa::path(post, path = "/api/v1/admin/scan", tag = "admin",
    responses((status = 200, description = "What the notifier decided and delivered", body = RunReport),
        (status = "4XX", description = "Refused: bad parameters, no or bad token, not visible, not found", body = super::problem::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
#[post("/admin/scan")]
pub async fn scan(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    admin_only(&caller, "this is for admins")?;
    Ok(HttpResponse::Ok().json(state.notifier.run_once().await?))
}

/// Notices not delivered: pending, retrying, and dead letters.
#[utoipa::path(get, path = "/api/v1/admin/outbox", tag = "admin",
    params(Freshness),
    responses((status = 200, description = "Notices not yet delivered", body = Vec<NoticeView>),
        (status = "4XX", description = "Refused: bad parameters, no or bad token, not visible, not found", body = super::problem::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The read models have not reached min_position yet; retry after Retry-After", body = super::problem::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
#[get("/admin/outbox")]
pub async fn outbox(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<Freshness>,
) -> Result<HttpResponse, ApiError> {
    admin_only(&caller, "this is for admins")?;
    caught_up(&state, query.min_position).await?;
    let out = read_models(&state, |s| {
        let mut out = Vec::new();
        for e in s.models.notices() {
            let e = e?;
            if e.sent.is_none() {
                out.push(view(e));
            }
        }
        Ok(out)
    })
    .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// One page of the notices, in the order decided.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct NoticePage {
    pub items: Vec<NoticeView>,
    /// The `after` for the next page; null on the last.
    pub next: Option<u64>,
}

/// Every notice decided, with its status, in the order decided (by seq), a page at a time.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "read",
    params(CursorQuery),
    responses((status = 200, description = "A page of the caller's notices, oldest first", body = NoticePage),
        (status = "4XX", description = "Refused: bad parameters, no or bad token, not visible, not found", body = super::problem::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The read models have not reached min_position yet; retry after Retry-After", body = super::problem::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
#[get("/notifications")]
pub async fn notifications(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<CursorQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = query.limit()?;
    caught_up(&state, query.min_position).await?;
    let own = confined_to(&state, &caller)?;
    let after = query.after();
    let mut out = read_models(&state, move |s| {
        let mut out = Vec::new();
        for e in s.models.notices() {
            let e = e?;
            if e.seq > after && own.as_ref().is_none_or(|d| *d == e.notice.department) {
                out.push(e);
            }
        }
        Ok(out)
    })
    .await?;
    // Each notice is decided by an event of its own; only entries kept before the seq was
    // (all 0, until a rebuild) need the dedup key to order them.
    out.sort_by(|a, b| {
        a.seq
            .cmp(&b.seq)
            .then(a.notice.dedup_key.cmp(&b.notice.dedup_key))
    });
    out.truncate(limit + 1);
    let (items, next) = page_of(
        out.into_iter().map(view).collect(),
        limit,
        |n: &NoticeView| n.seq,
    );
    Ok(HttpResponse::Ok().json(NoticePage { items, next }))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(scan).service(outbox).service(notifications);
}

//! Reads of one project — its status from the read models (or as of a past moment), its
//! audit trail straight from the log — the department directory, and the online chain check.

use actix_web::http::header::{ETag, EntityTag};
use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::AppState;
use super::access::{self, reads_everything};
use super::auth_extract::Caller;
use super::blocking::read_models;
use super::freshness::{Freshness, caught_up};
use super::params::{CursorQuery, StatusQuery, page_of};
use super::problem::ApiError;
use crate::command::stream_of;
use crate::domain::*;
use crate::projection::rendered::Rendered;
use crate::projection::{Day, ProjectStatus, history, status};
use crate::store::{EventStore, RecordedEvent, StreamId};

#[utoipa::path(get, path = "/api/v1/projects/{id}", tag = "read",
    params(("id" = Uuid, Path, description = "project id"), StatusQuery),
    responses((status = 200, description = "The project's status as of the time asked", body = ProjectStatus),
        (status = "4XX", description = "Refused: bad parameters, no or bad token, not visible, not found", body = super::problem::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The read models have not reached min_position yet; retry after Retry-After", body = super::problem::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
#[get("/projects/{id}")]
pub async fn project(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    query: web::Query<StatusQuery>,
) -> Result<HttpResponse, ApiError> {
    caught_up(&state, query.min_position).await?;
    let id = ProjectId(*id);
    // Visibility is decided on the project as it is now, before anything of it is read.
    access::project(&state, &caller, id).await?;
    let now = (state.clock)();
    let Some(at) = query.as_of else {
        return current_status(&state, id, now).await;
    };
    // Today's date asks for the status as it is now: the end of today has not come yet.
    let same_day = crate::domain::local_date(at) == crate::domain::local_date(now);
    let at = if same_day { at.min(now) } else { at };
    if at > now {
        return Err(ApiError::unprocessable(
            "as-of-in-future",
            format!("as_of {at} is later than now ({now})"),
        ));
    }
    let record = history::record_as_of(&state.dispatcher.store, id, at)
        .await?
        .ok_or_else(|| ApiError::not_found("the project was not registered yet at as_of"))?;
    let status = status(&record, Day::of(at, &state.policies))
        .ok_or_else(|| ApiError::not_found("no such project"))?;
    Ok(HttpResponse::Ok()
        .insert_header(ETag(EntityTag::new_strong(record.version.to_string())))
        .json(status))
}

/// Today's status: rendered once per version of the project and day, then served from
/// memory until either changes ([`crate::projection::rendered`]).
/// A hit is answered from memory on the worker; a miss reads sled on the blocking pool.
async fn current_status(
    state: &web::Data<AppState>,
    id: ProjectId,
    now: DateTime<Utc>,
) -> Result<HttpResponse, ApiError> {
    let day = Day::of(now, &state.policies);
    let rendered = match state.models.rendered.get(id, day.date) {
        Some(hit) => hit,
        None => read_models(state, move |s| render(s, id, Day::of(now, &s.policies))).await?,
    };
    Ok(HttpResponse::Ok()
        .insert_header(ETag(EntityTag::new_strong(rendered.version.to_string())))
        .content_type("application/json")
        .body(rendered.body))
}

fn render(state: &AppState, id: ProjectId, day: Day) -> Result<Rendered, ApiError> {
    let generation = state.models.rendered.generation();
    let record = state
        .models
        .project(id)?
        .filter(|r| r.state.is_registered())
        .ok_or_else(|| ApiError::not_found("no such project"))?;
    let status = status(&record, day).ok_or_else(|| ApiError::not_found("no such project"))?;
    let body = serde_json::to_vec(&status).map_err(|e| ApiError::internal(e.to_string()))?;
    let rendered = Rendered {
        version: record.version,
        day: day.date,
        departments: record.state.departments.keys().cloned().collect(),
        body: body.into(),
    };
    state.models.rendered.put(id, generation, rendered.clone());
    Ok(rendered)
}

/// One event of the audit trail, with the links an inspector checks.
#[derive(Serialize, ToSchema)]
pub struct TrailEntry {
    pub seq: u64,
    pub version: u64,
    pub event_id: Uuid,
    pub event_type: String,
    pub schema_version: u32,
    pub recorded_at: DateTime<Utc>,
    pub actor: TrailActor,
    pub command_id: String,
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Serialize, ToSchema)]
pub struct TrailActor {
    pub sub: String,
    pub role: String,
    pub dept: Option<String>,
}

/// One page of a project's audit trail, in seq order.
#[derive(Serialize, ToSchema)]
pub struct TrailPage {
    pub items: Vec<TrailEntry>,
    /// The `after` for the next page; null on the last.
    pub next: Option<u64>,
}

#[utoipa::path(get, path = "/api/v1/projects/{id}/events", tag = "read",
    params(("id" = Uuid, Path, description = "project id"), CursorQuery),
    responses((status = 200, description = "A page of the project's audit trail, oldest first", body = TrailPage),
        (status = "4XX", description = "Refused: bad parameters, no or bad token, not visible, not found", body = super::problem::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The read models have not reached min_position yet; retry after Retry-After", body = super::problem::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
#[get("/projects/{id}/events")]
pub async fn events(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    query: web::Query<CursorQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = query.limit()?;
    caught_up(&state, query.min_position).await?;
    let id = ProjectId(*id);
    access::project(&state, &caller, id).await?;
    let after = query.after();
    let stream = stream_of(id);
    let from = first_version_after(&state, &stream, after).await?;
    let recorded = state.dispatcher.store.read_stream(&stream, from).await?;
    let trail: Vec<TrailEntry> = recorded
        .into_iter()
        .filter(|r| r.envelope.seq > after)
        .take(limit + 1)
        .map(trail_entry)
        .collect();
    let (items, next) = page_of(trail, limit, |e| e.seq);
    Ok(HttpResponse::Ok().json(TrailPage { items, next }))
}

/// Where in the stream a page after `after` starts: after the event at that seq when it is
/// this stream's (the `next` of a page always is), else from the start.
async fn first_version_after(
    state: &AppState,
    stream: &StreamId,
    after: u64,
) -> Result<u64, ApiError> {
    if after == 0 {
        return Ok(1);
    }
    let at = state.dispatcher.store.read_all(after, 1).await?;
    Ok(match at.first() {
        Some(r) if r.envelope.seq == after && r.envelope.stream == *stream => {
            r.envelope.version + 1
        }
        _ => 1,
    })
}

fn trail_entry(r: RecordedEvent) -> TrailEntry {
    let e = r.envelope;
    TrailEntry {
        seq: e.seq,
        version: e.version,
        event_id: e.event_id,
        event_type: e.event_type,
        schema_version: e.schema_version,
        recorded_at: e.recorded_at,
        actor: TrailActor {
            sub: e.actor.sub,
            role: e.actor.role,
            dept: e.actor.dept,
        },
        command_id: e.command_id,
        payload: e.payload.to_value(),
        prev_hash: e.prev_hash.to_hex(),
        hash: r.hash.to_hex(),
    }
}

#[utoipa::path(get, path = "/api/v1/departments", tag = "read",
    params(Freshness),
    responses((status = 200, description = "The department directory", body = Vec<crate::policy::Department>),
        (status = "4XX", description = "Refused: bad parameters, no or bad token, not visible, not found", body = super::problem::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
#[get("/departments")]
pub async fn departments(
    state: web::Data<AppState>,
    _caller: Caller,
    // Accepted (and refused when unknown) as on every read; the directory is policy, not
    // projected, so there is nothing to wait for.
    _query: web::Query<Freshness>,
) -> HttpResponse {
    let all: Vec<_> = state.policies.departments.all().collect();
    HttpResponse::Ok().json(all)
}

#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit",
    params(Freshness),
    responses((status = 200, description = "The chain verification report", body = crate::store::VerifyReport),
        (status = "4XX", description = "Refused: bad parameters, no or bad token, not visible, not found", body = super::problem::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
#[get("/audit/verify")]
pub async fn verify(
    state: web::Data<AppState>,
    caller: Caller,
    // The chain is read from the log itself: `min_position` is accepted and needs no wait.
    _query: web::Query<Freshness>,
) -> Result<HttpResponse, ApiError> {
    reads_everything(
        &state,
        &caller,
        "verifying the whole log is for inspectors and the office",
    )?;
    let report = state.dispatcher.store.verify(None).await?;
    Ok(HttpResponse::Ok().json(report))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(project)
        .service(events)
        .service(departments)
        .service(verify);
}

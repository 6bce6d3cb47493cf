//! Reads of one project — its status from the read models (or as of a past moment), its
//! audit trail straight from the log — the department directory, and the online chain check.

use actix_web::http::header::{ETag, EntityTag};
use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::AppState;
use super::auth_extract::Caller;
use super::problem::ApiError;
use crate::command::{may_see, stream_of};
use crate::domain::*;
use crate::policy::Reads;
use crate::projection::rendered::Rendered;
use crate::projection::{Day, ProjectStatus, history, status};
use crate::store::EventStore;

/// The project's state, if the caller may see it; a department cannot tell someone else's
/// project from a missing one.
async fn visible(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
) -> Result<(ProjectState, u64), ApiError> {
    let (found, version) = state.dispatcher.current(ProjectId(id)).await?;
    let reads_all = state.policies.roles.reads(&caller.0.role) == Some(Reads::All);
    if !found.is_registered() {
        return Err(if reads_all {
            ApiError::not_found("no such project")
        } else {
            ApiError::forbidden("this project is not visible to the caller")
        });
    }
    if !may_see(&state.policies, &caller.0, &found) {
        return Err(ApiError::forbidden(
            "this project is not visible to the caller",
        ));
    }
    Ok((found, version))
}

/// How fresh a read must be, and for which moment.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatusQuery {
    /// The status exactly as it was at this moment (RFC 3339), lights computed for that day.
    pub as_of: Option<DateTime<Utc>>,
    /// Wait (briefly) until the read models reflect this global position — the `position` a
    /// command answered with.
    pub min_position: Option<u64>,
}

#[utoipa::path(get, path = "/api/v1/projects/{id}", tag = "read",
    params(("id" = Uuid, Path, description = "project id"), StatusQuery),
    responses((status = 200, body = ProjectStatus), (status = "4XX", body = super::problem::Problem),
        (status = 503, description = "the read models did not reach min_position in time", body = super::problem::Problem)),
    security(("bearer" = [])))]
#[get("/projects/{id}")]
pub async fn project(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    query: web::Query<StatusQuery>,
) -> Result<HttpResponse, ApiError> {
    super::reads::caught_up(&state, query.min_position).await?;
    let id = ProjectId(*id);
    let now = (state.clock)();
    let Some(at) = query.as_of else {
        return current_status(&state, &caller, id, now);
    };
    // Visibility is decided on the project as it is now, as for today's status.
    super::reads::visible_record(&state, &caller, state.models.project(id)?)?;
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
fn current_status(
    state: &AppState,
    caller: &Caller,
    id: ProjectId,
    now: DateTime<Utc>,
) -> Result<HttpResponse, ApiError> {
    let day = Day::of(now, &state.policies);
    let rendered = match state.models.rendered.get(id, day.date) {
        Some(hit) => {
            super::reads::may_read(state, caller, &hit.departments)?;
            hit
        }
        None => {
            let generation = state.models.rendered.generation();
            let current = state.models.project(id)?;
            let record = super::reads::visible_record(state, caller, current)?;
            let status =
                status(&record, day).ok_or_else(|| ApiError::not_found("no such project"))?;
            let body =
                serde_json::to_vec(&status).map_err(|e| ApiError::internal(e.to_string()))?;
            let rendered = Rendered {
                version: record.version,
                day: day.date,
                departments: record.state.departments.keys().cloned().collect(),
                body: body.into(),
            };
            state.models.rendered.put(id, generation, rendered.clone());
            rendered
        }
    };
    Ok(HttpResponse::Ok()
        .insert_header(ETag(EntityTag::new_strong(rendered.version.to_string())))
        .content_type("application/json")
        .body(rendered.body))
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

#[utoipa::path(get, path = "/api/v1/projects/{id}/events", tag = "read",
    params(("id" = Uuid, Path, description = "project id")),
    responses((status = 200, body = Vec<TrailEntry>), (status = "4XX", body = super::problem::Problem)),
    security(("bearer" = [])))]
#[get("/projects/{id}/events")]
pub async fn events(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    visible(&state, &caller, *id).await?;
    let recorded = state
        .dispatcher
        .store
        .read_stream(&stream_of(ProjectId(*id)), 1)
        .await?;
    let trail: Vec<TrailEntry> = recorded
        .into_iter()
        .map(|r| {
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
        })
        .collect();
    Ok(HttpResponse::Ok().json(trail))
}

#[utoipa::path(get, path = "/api/v1/departments", tag = "read",
    responses((status = 200, description = "the department directory"), (status = 401, body = super::problem::Problem)),
    security(("bearer" = [])))]
#[get("/departments")]
pub async fn departments(state: web::Data<AppState>, _caller: Caller) -> HttpResponse {
    let all: Vec<_> = state.policies.departments.all().collect();
    HttpResponse::Ok().json(all)
}

#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit",
    responses((status = 200, description = "the chain verification report"), (status = "4XX", body = super::problem::Problem)),
    security(("bearer" = [])))]
#[get("/audit/verify")]
pub async fn verify(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    if state.policies.roles.reads(&caller.0.role) != Some(Reads::All) {
        return Err(ApiError::forbidden(
            "verifying the whole log is for inspectors and the office",
        ));
    }
    let report = state.dispatcher.store.verify(None).await?;
    Ok(HttpResponse::Ok().json(report))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(project)
        .service(events)
        .service(departments)
        .service(verify);
}

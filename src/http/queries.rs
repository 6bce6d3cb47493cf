//! Reads: a project's status (folded from its stream until the read models take over), its
//! audit trail, the department directory, and the online chain check.

use actix_web::http::header::{ETag, EntityTag};
use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::AppState;
use super::auth_extract::Caller;
use super::problem::ApiError;
use crate::command::{may_see, stream_of};
use crate::domain::*;
use crate::policy::Reads;
use crate::store::EventStore;

#[derive(Serialize, ToSchema)]
pub struct MilestoneView {
    pub milestone_id: MilestoneId,
    pub title: String,
    /// planned, in_progress, claimed, returned, accepted
    pub stage: String,
    pub responsible_departments: Vec<DepartmentCode>,
    /// The first baseline.
    pub baseline_due: NaiveDate,
    /// The due date in force.
    pub due: NaiveDate,
    pub slippage_days: i64,
    pub percent: u8,
    /// Once accepted: whether it was completed late.
    pub completed_late: Option<bool>,
    pub on_hold: Option<HoldKind>,
}

#[derive(Serialize, ToSchema)]
pub struct ProjectView {
    pub project_id: ProjectId,
    pub version: u64,
    pub name: String,
    pub industry: Industry,
    pub city: City,
    pub source_section: String,
    pub lead_department: Option<DepartmentCode>,
    pub departments: Vec<DepartmentView>,
    pub milestones: Vec<MilestoneView>,
    pub open_findings: usize,
    pub latest_score: Option<f64>,
    pub confidence: Option<Confidence>,
    pub closed: bool,
    pub cycle: u32,
}

#[derive(Serialize, ToSchema)]
pub struct DepartmentView {
    pub department: DepartmentCode,
    pub role: DepartmentRole,
    /// assigned, signed, returned
    pub status: String,
}

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

fn stage_name(stage: MilestoneStage) -> &'static str {
    match stage {
        MilestoneStage::Planned => "planned",
        MilestoneStage::InProgress => "in_progress",
        MilestoneStage::Claimed => "claimed",
        MilestoneStage::Returned => "returned",
        MilestoneStage::Accepted => "accepted",
    }
}

fn view(id: Uuid, version: u64, p: &ProjectState) -> ProjectView {
    let info = p.info.as_ref().expect("visible projects are registered");
    let milestones = p
        .milestones
        .iter()
        .map(|(mid, m)| MilestoneView {
            milestone_id: *mid,
            title: m.title.clone(),
            stage: stage_name(m.stage).into(),
            responsible_departments: m.responsible.clone(),
            baseline_due: m.baseline_due,
            due: m.due,
            slippage_days: m.slippage_days(),
            percent: m.percent,
            completed_late: m.completion_late(),
            on_hold: m.hold.as_ref().map(|h| h.kind),
        })
        .collect();
    let assignments = p
        .departments
        .iter()
        .map(|(code, a)| DepartmentView {
            department: code.clone(),
            role: a.role,
            status: match a.status {
                AssignmentStatus::Assigned => "assigned",
                AssignmentStatus::Signed => "signed",
                AssignmentStatus::Returned(_) => "returned",
            }
            .into(),
        })
        .collect();
    ProjectView {
        project_id: ProjectId(id),
        version,
        name: info.name.clone(),
        industry: info.industry,
        city: info.city,
        source_section: info.source_section.clone(),
        lead_department: p.lead_department().cloned(),
        departments: assignments,
        milestones,
        open_findings: p.findings.values().filter(|f| f.open).count(),
        latest_score: p.assessments.last().map(|a| a.score),
        confidence: p.confidence.as_ref().map(|c| c.rating),
        closed: p.closed,
        cycle: p.cycle,
    }
}

#[utoipa::path(get, path = "/api/v1/projects/{id}", tag = "read",
    params(("id" = Uuid, Path, description = "project id")),
    responses((status = 200, body = ProjectView), (status = "4XX", body = super::problem::Problem)),
    security(("bearer" = [])))]
#[get("/projects/{id}")]
pub async fn project(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let (p, version) = visible(&state, &caller, *id).await?;
    Ok(HttpResponse::Ok()
        .insert_header(ETag(EntityTag::new_strong(version.to_string())))
        .json(view(*id, version, &p)))
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

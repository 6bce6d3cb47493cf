//! 规划 plan: the office registers projects, schedules milestones, sets targets and assigns
//! departments.

use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::submit::{Created, Recorded, Submission};
use super::wire;
use crate::domain::*;
use crate::http::AppState;
use crate::http::auth_extract::Caller;
use crate::http::problem::ApiError;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterProjectBody {
    /// Chosen by the caller; when absent, derived from the `Idempotency-Key` if one is given,
    /// else fresh.
    pub project_id: Option<ProjectId>,
    pub name: Line,
    pub industry: Industry,
    pub city: City,
    pub lead_department: DepartmentCode,
    /// At most 50 departments.
    #[serde(default, deserialize_with = "wire::at_most::<50, _, _>")]
    #[schema(max_items = 50)]
    pub supporting_departments: Vec<DepartmentCode>,
    #[serde(default)]
    pub description: Note,
    pub source_section: Line,
}

#[utoipa::path(post, path = "/api/v1/projects", tag = "plan", request_body = RegisterProjectBody,
    responses(Created),
    security(("bearer" = [])))]
#[post("/projects")]
pub async fn register_project(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: web::Json<RegisterProjectBody>,
) -> Result<HttpResponse, ApiError> {
    let mut s = Submission::new(&req, caller)?;
    let b = body.into_inner();
    let project_id = b
        .project_id
        .unwrap_or_else(|| ProjectId(s.new_id("project")));
    s.created.project_id = Some(project_id);
    let command = Command::RegisterProject(RegisterProject {
        project_id,
        name: b.name,
        industry: b.industry,
        city: b.city,
        lead_department: b.lead_department,
        supporting_departments: b.supporting_departments,
        description: b.description,
        source_section: b.source_section,
    });
    s.run(&state, project_id, command, true).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleMilestoneBody {
    pub milestone_id: Option<MilestoneId>,
    pub title: Line,
    /// Due at the end of this day, Asia/Shanghai; inside the working calendar's years.
    #[serde(deserialize_with = "wire::date")]
    #[schema(value_type = String, format = Date)]
    pub due_date: NaiveDate,
    /// 1 to 50 departments.
    #[serde(deserialize_with = "wire::at_most::<50, _, _>")]
    #[schema(min_items = 1, max_items = 50)]
    pub responsible_departments: Vec<DepartmentCode>,
}

#[utoipa::path(post, path = "/api/v1/projects/{id}/milestones", tag = "plan", request_body = ScheduleMilestoneBody,
    params(("id" = Uuid, Path, description = "project id")),
    responses(Created),
    security(("bearer" = [])))]
#[post("/projects/{id}/milestones")]
pub async fn schedule_milestone(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: web::Json<ScheduleMilestoneBody>,
) -> Result<HttpResponse, ApiError> {
    let mut s = Submission::new(&req, caller)?;
    let b = body.into_inner();
    let milestone_id = b
        .milestone_id
        .unwrap_or_else(|| MilestoneId(s.new_id("milestone")));
    s.created.milestone_id = Some(milestone_id);
    let command = Command::ScheduleMilestone(ScheduleMilestone {
        milestone_id,
        title: b.title,
        due_date: b.due_date,
        responsible_departments: b.responsible_departments,
    });
    s.run(&state, ProjectId(*id), command, true).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetTargetBody {
    pub target_id: Option<TargetId>,
    pub indicator: Line,
    pub unit: Line,
    /// Positive, at most 1e12.
    pub target_value: f64,
    #[serde(deserialize_with = "wire::whole_number")]
    #[schema(minimum = 2016, maximum = 2030)]
    pub year: i32,
}

#[utoipa::path(post, path = "/api/v1/projects/{id}/targets", tag = "plan", request_body = SetTargetBody,
    params(("id" = Uuid, Path, description = "project id")),
    responses(Created),
    security(("bearer" = [])))]
#[post("/projects/{id}/targets")]
pub async fn set_target(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: web::Json<SetTargetBody>,
) -> Result<HttpResponse, ApiError> {
    let mut s = Submission::new(&req, caller)?;
    let b = body.into_inner();
    let target_id = b.target_id.unwrap_or_else(|| TargetId(s.new_id("target")));
    s.created.target_id = Some(target_id);
    let command = Command::SetTarget(SetTarget {
        target_id,
        indicator: b.indicator,
        unit: b.unit,
        target_value: b.target_value,
        year: b.year,
    });
    s.run(&state, ProjectId(*id), command, true).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignDepartmentBody {
    pub department: DepartmentCode,
    pub role: DepartmentRole,
}

#[utoipa::path(post, path = "/api/v1/projects/{id}/departments", tag = "plan", request_body = AssignDepartmentBody,
    params(("id" = Uuid, Path, description = "project id")),
    responses(Recorded),
    security(("bearer" = [])))]
#[post("/projects/{id}/departments")]
pub async fn assign_department(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: web::Json<AssignDepartmentBody>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let command = Command::AssignDepartment(AssignDepartment {
        department: b.department,
        role: b.role,
    });
    let s = Submission::new(&req, caller)?;
    s.run(&state, ProjectId(*id), command, false).await
}

//! 落实 implement: a department signs for its assignment (or returns it), reports progress,
//! claims completion and asks for more time.

use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::submit::{Recorded, Submission};
use super::wire;
use crate::domain::*;
use crate::http::AppState;
use crate::http::auth_extract::Caller;
use crate::http::problem::ApiError;

#[utoipa::path(post, path = "/api/v1/projects/{id}/assignment/sign", tag = "implement",
    params(("id" = Uuid, Path, description = "project id")),
    responses(Recorded),
    security(("bearer" = [])))]
#[post("/projects/{id}/assignment/sign")]
pub async fn sign_assignment(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let s = Submission::new(&req, caller)?;
    s.run(&state, ProjectId(*id), Command::SignAssignment, false)
        .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    #[schema(min_length = 1)]
    pub reason: Prose,
}

#[utoipa::path(post, path = "/api/v1/projects/{id}/assignment/return", tag = "implement", request_body = ReasonBody,
    params(("id" = Uuid, Path, description = "project id")),
    responses(Recorded),
    security(("bearer" = [])))]
#[post("/projects/{id}/assignment/return")]
pub async fn return_assignment(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: web::Json<ReasonBody>,
) -> Result<HttpResponse, ApiError> {
    let command = Command::ReturnAssignment(ReturnAssignment {
        reason: body.into_inner().reason,
    });
    let s = Submission::new(&req, caller)?;
    s.run(&state, ProjectId(*id), command, false).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgressBody {
    #[schema(minimum = 0, maximum = 100)]
    pub percent: Percent,
    pub narrative: Prose,
    /// At most 100 indicator actuals.
    #[serde(default, deserialize_with = "wire::at_most::<100, _, _>")]
    #[schema(max_items = 100)]
    pub actuals: Vec<IndicatorActual>,
    /// At most 20 references, each of at most 200 characters.
    #[serde(default, deserialize_with = "wire::at_most::<20, _, _>")]
    #[schema(max_items = 20)]
    pub evidence: Vec<Line>,
}

#[utoipa::path(post, path = "/api/v1/projects/{id}/milestones/{mid}/progress", tag = "implement", request_body = ProgressBody,
    params(("id" = Uuid, Path, description = "project id"), ("mid" = Uuid, Path, description = "milestone id")),
    responses(Recorded),
    security(("bearer" = [])))]
#[post("/projects/{id}/milestones/{mid}/progress")]
pub async fn report_progress(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Json<ProgressBody>,
) -> Result<HttpResponse, ApiError> {
    let (id, mid) = path.into_inner();
    let b = body.into_inner();
    let command = Command::ReportProgress(ReportProgress {
        milestone_id: MilestoneId(mid),
        percent: b.percent,
        narrative: b.narrative,
        actuals: b.actuals,
        evidence: b.evidence,
    });
    let s = Submission::new(&req, caller)?;
    s.run(&state, ProjectId(id), command, false).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimBody {
    pub narrative: Prose,
    /// At most 20 references, each of at most 200 characters.
    #[serde(default, deserialize_with = "wire::at_most::<20, _, _>")]
    #[schema(max_items = 20)]
    pub evidence: Vec<Line>,
}

#[utoipa::path(post, path = "/api/v1/projects/{id}/milestones/{mid}/completion", tag = "implement", request_body = ClaimBody,
    params(("id" = Uuid, Path, description = "project id"), ("mid" = Uuid, Path, description = "milestone id")),
    responses(Recorded),
    security(("bearer" = [])))]
#[post("/projects/{id}/milestones/{mid}/completion")]
pub async fn claim_completion(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Json<ClaimBody>,
) -> Result<HttpResponse, ApiError> {
    let (id, mid) = path.into_inner();
    let b = body.into_inner();
    let command = Command::ClaimCompletion(ClaimCompletion {
        milestone_id: MilestoneId(mid),
        narrative: b.narrative,
        evidence: b.evidence,
    });
    let s = Submission::new(&req, caller)?;
    s.run(&state, ProjectId(id), command, false).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionBody {
    #[serde(deserialize_with = "wire::date")]
    #[schema(value_type = String, format = Date)]
    pub new_due_date: NaiveDate,
    pub reason: Prose,
}

#[utoipa::path(post, path = "/api/v1/projects/{id}/milestones/{mid}/extension", tag = "implement", request_body = ExtensionBody,
    params(("id" = Uuid, Path, description = "project id"), ("mid" = Uuid, Path, description = "milestone id")),
    responses(Recorded),
    security(("bearer" = [])))]
#[post("/projects/{id}/milestones/{mid}/extension")]
pub async fn request_extension(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Json<ExtensionBody>,
) -> Result<HttpResponse, ApiError> {
    let (id, mid) = path.into_inner();
    let b = body.into_inner();
    let command = Command::RequestExtension(RequestExtension {
        milestone_id: MilestoneId(mid),
        new_due_date: b.new_due_date,
        reason: b.reason,
    });
    let s = Submission::new(&req, caller)?;
    s.run(&state, ProjectId(id), command, false).await
}

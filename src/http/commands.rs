//! One resource-style endpoint per command of the loop. Each handler only turns the request
//! into a domain [`Command`] and hands it to the [`Dispatcher`](crate::command::Dispatcher);
//! no rule lives here.

use actix_web::http::StatusCode;
use actix_web::http::header::{ETag, EntityTag};
use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::AppState;
use super::auth_extract::Caller;
use super::problem::ApiError;
use crate::command::{CommandOutcome, CommandRequest};
use crate::domain::*;

/// Runs a command and answers with where it landed; `ETag` is the project's new version.
async fn run(
    state: &AppState,
    req: &HttpRequest,
    caller: Caller,
    project: ProjectId,
    command: Command,
    created: bool,
) -> Result<HttpResponse, ApiError> {
    let idempotency_key = header(req, "Idempotency-Key")?;
    if idempotency_key
        .as_ref()
        .is_some_and(|k| k.is_empty() || k.len() > 128)
    {
        return Err(ApiError::bad_request(
            "Idempotency-Key must be 1 to 128 characters",
        ));
    }
    let if_match = match header(req, "If-Match")? {
        None => None,
        Some(v) => Some(v.trim_matches('"').parse::<u64>().map_err(|_| {
            ApiError::bad_request("If-Match must be a project version, e.g. \"7\"")
        })?),
    };
    tracing::Span::current().record("command", command.name());
    let outcome: CommandOutcome = state
        .dispatcher
        .dispatch(CommandRequest {
            project,
            command,
            actor: caller.0,
            now: (state.clock)(),
            idempotency_key,
            if_match,
            correlation_id: None,
        })
        .await?;
    let status = if created && !outcome.replayed {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(HttpResponse::build(status)
        .insert_header(ETag(EntityTag::new_strong(outcome.version.to_string())))
        .json(outcome))
}

fn header(req: &HttpRequest, name: &str) -> Result<Option<String>, ApiError> {
    match req.headers().get(name) {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .map(|s| Some(s.to_string()))
            .map_err(|_| ApiError::bad_request(format!("{name} is not visible ASCII"))),
    }
}

// ── 规划 plan ──

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterProjectBody {
    /// Chosen by the caller for an idempotent create; generated when absent.
    pub project_id: Option<ProjectId>,
    pub name: String,
    pub industry: Industry,
    pub city: City,
    pub lead_department: DepartmentCode,
    #[serde(default)]
    pub supporting_departments: Vec<DepartmentCode>,
    #[serde(default)]
    pub description: String,
    pub source_section: String,
}

#[utoipa::path(post, path = "/api/v1/projects", tag = "plan", request_body = RegisterProjectBody,
    responses((status = 201, body = CommandOutcome), (status = "4XX", body = super::problem::Problem)),
    security(("bearer" = [])))]
#[post("/projects")]
pub async fn register_project(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: web::Json<RegisterProjectBody>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let project_id = b.project_id.unwrap_or_else(|| ProjectId(Uuid::now_v7()));
    let command = Command::RegisterProject {
        project_id,
        name: b.name,
        industry: b.industry,
        city: b.city,
        lead_department: b.lead_department,
        supporting_departments: b.supporting_departments,
        description: b.description,
        source_section: b.source_section,
    };
    run(&state, &req, caller, project_id, command, true).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleMilestoneBody {
    pub milestone_id: Option<MilestoneId>,
    pub title: String,
    /// Due at the end of this day, Asia/Shanghai.
    pub due_date: NaiveDate,
    pub responsible_departments: Vec<DepartmentCode>,
}

#[utoipa::path(post, path = "/api/v1/projects/{id}/milestones", tag = "plan", request_body = ScheduleMilestoneBody,
    params(("id" = Uuid, Path, description = "project id")),
    responses((status = 201, body = CommandOutcome), (status = "4XX", body = super::problem::Problem)),
    security(("bearer" = [])))]
#[post("/projects/{id}/milestones")]
pub async fn schedule_milestone(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: web::Json<ScheduleMilestoneBody>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let command = Command::ScheduleMilestone {
        milestone_id: b
            .milestone_id
            .unwrap_or_else(|| MilestoneId(Uuid::now_v7())),
        title: b.title,
        due_date: b.due_date,
        responsible_departments: b.responsible_departments,
    };
    run(&state, &req, caller, ProjectId(*id), command, true).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetTargetBody {
    pub target_id: Option<TargetId>,
    pub indicator: String,
    pub unit: String,
    pub target_value: f64,
    pub year: i32,
}

#[utoipa::path(post, path = "/api/v1/projects/{id}/targets", tag = "plan", request_body = SetTargetBody,
    params(("id" = Uuid, Path, description = "project id")),
    responses((status = 201, body = CommandOutcome), (status = "4XX", body = super::problem::Problem)),
    security(("bearer" = [])))]
#[post("/projects/{id}/targets")]
pub async fn set_target(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: web::Json<SetTargetBody>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let command = Command::SetTarget {
        target_id: b.target_id.unwrap_or_else(|| TargetId(Uuid::now_v7())),
        indicator: b.indicator,
        unit: b.unit,
        target_value: b.target_value,
        year: b.year,
    };
    run(&state, &req, caller, ProjectId(*id), command, true).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignDepartmentBody {
    pub department: DepartmentCode,
    pub role: DepartmentRole,
}

#[utoipa::path(post, path = "/api/v1/projects/{id}/departments", tag = "plan", request_body = AssignDepartmentBody,
    params(("id" = Uuid, Path, description = "project id")),
    responses((status = 200, body = CommandOutcome), (status = "4XX", body = super::problem::Problem)),
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
    let command = Command::AssignDepartment {
        department: b.department,
        role: b.role,
    };
    run(&state, &req, caller, ProjectId(*id), command, false).await
}

// ── 落实 implement ──

#[utoipa::path(post, path = "/api/v1/projects/{id}/assignment/sign", tag = "implement",
    params(("id" = Uuid, Path, description = "project id")),
    responses((status = 200, body = CommandOutcome), (status = "4XX", body = super::problem::Problem)),
    security(("bearer" = [])))]
#[post("/projects/{id}/assignment/sign")]
pub async fn sign_assignment(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    run(
        &state,
        &req,
        caller,
        ProjectId(*id),
        Command::SignAssignment,
        false,
    )
    .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/projects/{id}/assignment/return", tag = "implement", request_body = ReasonBody,
    params(("id" = Uuid, Path, description = "project id")),
    responses((status = 200, body = CommandOutcome), (status = "4XX", body = super::problem::Problem)),
    security(("bearer" = [])))]
#[post("/projects/{id}/assignment/return")]
pub async fn return_assignment(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: web::Json<ReasonBody>,
) -> Result<HttpResponse, ApiError> {
    let command = Command::ReturnAssignment {
        reason: body.into_inner().reason,
    };
    run(&state, &req, caller, ProjectId(*id), command, false).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgressBody {
    pub percent: u8,
    pub narrative: String,
    #[serde(default)]
    pub actuals: Vec<IndicatorActual>,
    #[serde(default)]
    pub evidence: Vec<String>,
}

#[utoipa::path(post, path = "/api/v1/projects/{id}/milestones/{mid}/progress", tag = "implement", request_body = ProgressBody,
    params(("id" = Uuid, Path, description = "project id"), ("mid" = Uuid, Path, description = "milestone id")),
    responses((status = 200, body = CommandOutcome), (status = "4XX", body = super::problem::Problem)),
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
    let command = Command::ReportProgress {
        milestone_id: MilestoneId(mid),
        percent: b.percent,
        narrative: b.narrative,
        actuals: b.actuals,
        evidence: b.evidence,
    };
    run(&state, &req, caller, ProjectId(id), command, false).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimBody {
    pub narrative: String,
    #[serde(default)]
    pub evidence: Vec<String>,
}

#[utoipa::path(post, path = "/api/v1/projects/{id}/milestones/{mid}/completion", tag = "implement", request_body = ClaimBody,
    params(("id" = Uuid, Path, description = "project id"), ("mid" = Uuid, Path, description = "milestone id")),
    responses((status = 200, body = CommandOutcome), (status = "4XX", body = super::problem::Problem)),
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
    let command = Command::ClaimCompletion {
        milestone_id: MilestoneId(mid),
        narrative: b.narrative,
        evidence: b.evidence,
    };
    run(&state, &req, caller, ProjectId(id), command, false).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionBody {
    pub new_due_date: NaiveDate,
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/projects/{id}/milestones/{mid}/extension", tag = "implement", request_body = ExtensionBody,
    params(("id" = Uuid, Path, description = "project id"), ("mid" = Uuid, Path, description = "milestone id")),
    responses((status = 200, body = CommandOutcome), (status = "4XX", body = super::problem::Problem)),
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
    let command = Command::RequestExtension {
        milestone_id: MilestoneId(mid),
        new_due_date: b.new_due_date,
        reason: b.reason,
    };
    run(&state, &req, caller, ProjectId(id), command, false).await
}

// ── 督查 inspect ──

#[derive(Deserialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum ReviewDecision {
    Accept,
    Return,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    pub decision: ReviewDecision,
    /// Required to return a claim (退办重办).
    #[serde(default)]
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/projects/{id}/milestones/{mid}/review", tag = "inspect", request_body = ReviewBody,
    params(("id" = Uuid, Path, description = "project id"), ("mid" = Uuid, Path, description = "milestone id")),
    responses((status = 200, body = CommandOutcome), (status = "4XX", body = super::problem::Problem)),
    security(("bearer" = [])))]
#[post("/projects/{id}/milestones/{mid}/review")]
pub async fn review_completion(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Json<ReviewBody>,
) -> Result<HttpResponse, ApiError> {
    let (id, mid) = path.into_inner();
    let b = body.into_inner();
    let milestone_id = MilestoneId(mid);
    let command = match b.decision {
        ReviewDecision::Accept => Command::AcceptCompletion { milestone_id },
        ReviewDecision::Return => Command::ReturnCompletion {
            milestone_id,
            reason: b.reason,
        },
    };
    run(&state, &req, caller, ProjectId(id), command, false).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingBody {
    pub finding_id: Option<FindingId>,
    pub severity: Severity,
    pub description: String,
    pub milestone_id: Option<MilestoneId>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InspectionBody {
    pub inspected_on: NaiveDate,
    #[serde(default)]
    pub on_site: bool,
    pub summary: String,
    #[serde(default)]
    pub findings: Vec<FindingBody>,
}

#[utoipa::path(post, path = "/api/v1/projects/{id}/inspections", tag = "inspect", request_body = InspectionBody,
    params(("id" = Uuid, Path, description = "project id")),
    responses((status = 201, body = CommandOutcome), (status = "4XX", body = super::problem::Problem)),
    security(("bearer" = [])))]
#[post("/projects/{id}/inspections")]
pub async fn record_inspection(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: web::Json<InspectionBody>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let findings = b
        .findings
        .into_iter()
        .map(|f| Finding {
            finding_id: f.finding_id.unwrap_or_else(|| FindingId(Uuid::now_v7())),
            severity: f.severity,
            description: f.description,
            milestone_id: f.milestone_id,
        })
        .collect();
    let command = Command::RecordInspection {
        inspected_on: b.inspected_on,
        on_site: b.on_site,
        summary: b.summary,
        findings,
    };
    run(&state, &req, caller, ProjectId(*id), command, true).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderRectificationBody {
    pub rectification_id: Option<RectificationId>,
    pub finding_id: FindingId,
    pub department: DepartmentCode,
    pub deadline: NaiveDate,
    pub instructions: String,
}

#[utoipa::path(post, path = "/api/v1/projects/{id}/rectifications", tag = "inspect", request_body = OrderRectificationBody,
    params(("id" = Uuid, Path, description = "project id")),
    responses((status = 201, body = CommandOutcome), (status = "4XX", body = super::problem::Problem)),
    security(("bearer" = [])))]
#[post("/projects/{id}/rectifications")]
pub async fn order_rectification(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: web::Json<OrderRectificationBody>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let command = Command::OrderRectification {
        rectification_id: b
            .rectification_id
            .unwrap_or_else(|| RectificationId(Uuid::now_v7())),
        finding_id: b.finding_id,
        department: b.department,
        deadline: b.deadline,
        instructions: b.instructions,
    };
    run(&state, &req, caller, ProjectId(*id), command, true).await
}

// ── 改进 improve ──

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RectificationReportBody {
    pub narrative: String,
    #[serde(default)]
    pub evidence: Vec<String>,
}

#[utoipa::path(post, path = "/api/v1/projects/{id}/rectifications/{rid}/report", tag = "improve", request_body = RectificationReportBody,
    params(("id" = Uuid, Path, description = "project id"), ("rid" = Uuid, Path, description = "rectification id")),
    responses((status = 200, body = CommandOutcome), (status = "4XX", body = super::problem::Problem)),
    security(("bearer" = [])))]
#[post("/projects/{id}/rectifications/{rid}/report")]
pub async fn report_rectification(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Json<RectificationReportBody>,
) -> Result<HttpResponse, ApiError> {
    let (id, rid) = path.into_inner();
    let b = body.into_inner();
    let command = Command::ReportRectification {
        rectification_id: RectificationId(rid),
        narrative: b.narrative,
        evidence: b.evidence,
    };
    run(&state, &req, caller, ProjectId(id), command, false).await
}

#[derive(Deserialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum VerificationDecision {
    Verify,
    Reject,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerificationBody {
    pub decision: VerificationDecision,
    #[serde(default)]
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/projects/{id}/rectifications/{rid}/verification", tag = "improve", request_body = VerificationBody,
    params(("id" = Uuid, Path, description = "project id"), ("rid" = Uuid, Path, description = "rectification id")),
    responses((status = 200, body = CommandOutcome), (status = "4XX", body = super::problem::Problem)),
    security(("bearer" = [])))]
#[post("/projects/{id}/rectifications/{rid}/verification")]
pub async fn verify_rectification(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Json<VerificationBody>,
) -> Result<HttpResponse, ApiError> {
    let (id, rid) = path.into_inner();
    let b = body.into_inner();
    let rectification_id = RectificationId(rid);
    let command = match b.decision {
        VerificationDecision::Verify => Command::VerifyRectification { rectification_id },
        VerificationDecision::Reject => Command::RejectRectification {
            rectification_id,
            reason: b.reason,
        },
    };
    run(&state, &req, caller, ProjectId(id), command, false).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionDecisionBody {
    pub approve: bool,
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/projects/{id}/milestones/{mid}/extension/decision", tag = "improve", request_body = ExtensionDecisionBody,
    params(("id" = Uuid, Path, description = "project id"), ("mid" = Uuid, Path, description = "milestone id")),
    responses((status = 200, body = CommandOutcome), (status = "4XX", body = super::problem::Problem)),
    security(("bearer" = [])))]
#[post("/projects/{id}/milestones/{mid}/extension/decision")]
pub async fn decide_extension(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Json<ExtensionDecisionBody>,
) -> Result<HttpResponse, ApiError> {
    let (id, mid) = path.into_inner();
    let b = body.into_inner();
    let command = Command::DecideExtension {
        milestone_id: MilestoneId(mid),
        approve: b.approve,
        reason: b.reason,
    };
    run(&state, &req, caller, ProjectId(id), command, false).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case", tag = "kind")]
pub enum PlanChangeBody {
    DueDate {
        milestone_id: MilestoneId,
        to: NaiveDate,
    },
    TargetValue {
        target_id: TargetId,
        to: f64,
    },
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevisionBody {
    pub change: PlanChangeBody,
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/projects/{id}/revisions", tag = "improve", request_body = RevisionBody,
    params(("id" = Uuid, Path, description = "project id")),
    responses((status = 200, body = CommandOutcome), (status = "4XX", body = super::problem::Problem)),
    security(("bearer" = [])))]
#[post("/projects/{id}/revisions")]
pub async fn revise_plan(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: web::Json<RevisionBody>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let change = match b.change {
        PlanChangeBody::DueDate { milestone_id, to } => PlanChange::DueDate { milestone_id, to },
        PlanChangeBody::TargetValue { target_id, to } => PlanChange::TargetValue { target_id, to },
    };
    run(
        &state,
        &req,
        caller,
        ProjectId(*id),
        Command::RevisePlan {
            change,
            reason: b.reason,
        },
        false,
    )
    .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldBody {
    pub kind: HoldKind,
    /// Absent: the whole project.
    pub milestone_id: Option<MilestoneId>,
    pub approver: String,
    pub reason: String,
    pub expires_on: NaiveDate,
}

#[utoipa::path(post, path = "/api/v1/projects/{id}/holds", tag = "improve", request_body = HoldBody,
    params(("id" = Uuid, Path, description = "project id")),
    responses((status = 200, body = CommandOutcome), (status = "4XX", body = super::problem::Problem)),
    security(("bearer" = [])))]
#[post("/projects/{id}/holds")]
pub async fn place_hold(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: web::Json<HoldBody>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let command = Command::PlaceHold {
        kind: b.kind,
        milestone_id: b.milestone_id,
        approver: b.approver,
        reason: b.reason,
        expires_on: b.expires_on,
    };
    run(&state, &req, caller, ProjectId(*id), command, false).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LiftHoldBody {
    pub kind: HoldKind,
    pub milestone_id: Option<MilestoneId>,
    pub approver: String,
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/projects/{id}/holds/lift", tag = "improve", request_body = LiftHoldBody,
    params(("id" = Uuid, Path, description = "project id")),
    responses((status = 200, body = CommandOutcome), (status = "4XX", body = super::problem::Problem)),
    security(("bearer" = [])))]
#[post("/projects/{id}/holds/lift")]
pub async fn lift_hold(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: web::Json<LiftHoldBody>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let command = Command::LiftHold {
        kind: b.kind,
        milestone_id: b.milestone_id,
        approver: b.approver,
        reason: b.reason,
    };
    run(&state, &req, caller, ProjectId(*id), command, false).await
}

#[utoipa::path(post, path = "/api/v1/projects/{id}/close", tag = "improve", request_body = ReasonBody,
    params(("id" = Uuid, Path, description = "project id")),
    responses((status = 200, body = CommandOutcome), (status = "4XX", body = super::problem::Problem)),
    security(("bearer" = [])))]
#[post("/projects/{id}/close")]
pub async fn close_cycle(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: web::Json<ReasonBody>,
) -> Result<HttpResponse, ApiError> {
    let command = Command::CloseCycle {
        reason: body.into_inner().reason,
    };
    run(&state, &req, caller, ProjectId(*id), command, false).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReopenBody {
    pub instruction: String,
}

#[utoipa::path(post, path = "/api/v1/projects/{id}/reopen", tag = "improve", request_body = ReopenBody,
    params(("id" = Uuid, Path, description = "project id")),
    responses((status = 200, body = CommandOutcome), (status = "4XX", body = super::problem::Problem)),
    security(("bearer" = [])))]
#[post("/projects/{id}/reopen")]
pub async fn reopen_cycle(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: web::Json<ReopenBody>,
) -> Result<HttpResponse, ApiError> {
    let command = Command::ReopenCycle {
        instruction: body.into_inner().instruction,
    };
    run(&state, &req, caller, ProjectId(*id), command, false).await
}

// ── 考核 assess ──

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssessmentBody {
    pub period: String,
    pub rubric_version: String,
    pub breakdown: Vec<ScoreItem>,
    pub grade: String,
}

#[utoipa::path(post, path = "/api/v1/projects/{id}/assessments", tag = "assess", request_body = AssessmentBody,
    params(("id" = Uuid, Path, description = "project id")),
    responses((status = 201, body = CommandOutcome), (status = "4XX", body = super::problem::Problem)),
    security(("bearer" = [])))]
#[post("/projects/{id}/assessments")]
pub async fn record_assessment(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: web::Json<AssessmentBody>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let command = Command::RecordAssessment {
        period: b.period,
        rubric_version: b.rubric_version,
        breakdown: b.breakdown,
        grade: b.grade,
    };
    run(&state, &req, caller, ProjectId(*id), command, true).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfidenceBody {
    pub rating: Confidence,
    pub assessor: String,
    #[serde(default)]
    pub comment: String,
}

#[utoipa::path(post, path = "/api/v1/projects/{id}/confidence", tag = "assess", request_body = ConfidenceBody,
    params(("id" = Uuid, Path, description = "project id")),
    responses((status = 200, body = CommandOutcome), (status = "4XX", body = super::problem::Problem)),
    security(("bearer" = [])))]
#[post("/projects/{id}/confidence")]
pub async fn rate_confidence(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: web::Json<ConfidenceBody>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let command = Command::RateConfidence {
        rating: b.rating,
        assessor: b.assessor,
        comment: b.comment,
    };
    run(&state, &req, caller, ProjectId(*id), command, false).await
}

/// Registers every command endpoint under the scope it is given.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(report_progress)
        .service(register_project)
        .service(schedule_milestone)
        .service(set_target)
        .service(assign_department)
        .service(sign_assignment)
        .service(return_assignment)
        .service(claim_completion)
        .service(request_extension)
        .service(review_completion)
        .service(decide_extension)
        .service(record_inspection)
        .service(order_rectification)
        .service(report_rectification)
        .service(verify_rectification)
        .service(revise_plan)
        .service(place_hold)
        .service(lift_hold)
        .service(close_cycle)
        .service(reopen_cycle)
        .service(record_assessment)
        .service(rate_confidence);
}

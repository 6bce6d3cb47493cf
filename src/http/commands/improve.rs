//! 改进 improve: rectifications reported and verified, extensions decided, the plan revised,
//! holds placed and lifted, a project's cycle closed and re-opened.

use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::implement::ReasonBody;
use super::submit::{Recorded, Submission};
use super::wire;
use crate::domain::*;
use crate::http::AppState;
use crate::http::auth_extract::Caller;
use crate::http::problem::ApiError;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RectificationReportBody {
    pub narrative: Prose,
    /// At most 20 references, each of at most 200 characters.
    #[serde(default, deserialize_with = "wire::at_most::<20, _, _>")]
    #[schema(max_items = 20)]
    pub evidence: Vec<Line>,
}

#[utoipa::path(post, path = "/api/v1/projects/{id}/rectifications/{rid}/report", tag = "improve", request_body = RectificationReportBody,
    params(("id" = Uuid, Path, description = "project id"), ("rid" = Uuid, Path, description = "rectification id")),
    responses(Recorded),
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
    let command = Command::ReportRectification(ReportRectification {
        rectification_id: RectificationId(rid),
        narrative: b.narrative,
        evidence: b.evidence,
    });
    Submission::new(&req, caller)?
        .run(&state, ProjectId(id), command, false)
        .await
}

/// The inspector's finding on a reported rectification; a rejection carries its reason.
#[derive(Deserialize, ToSchema)]
#[serde(tag = "decision", rename_all = "snake_case", deny_unknown_fields)]
pub enum VerificationBody {
    /// The fix holds: the finding is closed.
    Verify {},
    /// The fix does not hold, for this reason.
    Reject { reason: Prose },
}

#[utoipa::path(post, path = "/api/v1/projects/{id}/rectifications/{rid}/verification", tag = "improve", request_body = VerificationBody,
    params(("id" = Uuid, Path, description = "project id"), ("rid" = Uuid, Path, description = "rectification id")),
    responses(Recorded),
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
    let rectification_id = RectificationId(rid);
    let command = match body.into_inner() {
        VerificationBody::Verify {} => {
            Command::VerifyRectification(VerifyRectification { rectification_id })
        }
        VerificationBody::Reject { reason } => Command::RejectRectification(RejectRectification {
            rectification_id,
            reason,
        }),
    };
    Submission::new(&req, caller)?
        .run(&state, ProjectId(id), command, false)
        .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionDecisionBody {
    pub approve: bool,
    pub reason: Prose,
}

#[utoipa::path(post, path = "/api/v1/projects/{id}/milestones/{mid}/extension/decision", tag = "improve", request_body = ExtensionDecisionBody,
    params(("id" = Uuid, Path, description = "project id"), ("mid" = Uuid, Path, description = "milestone id")),
    responses(Recorded),
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
    let command = Command::DecideExtension(DecideExtension {
        milestone_id: MilestoneId(mid),
        approve: b.approve,
        reason: b.reason,
    });
    Submission::new(&req, caller)?
        .run(&state, ProjectId(id), command, false)
        .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case", tag = "kind")]
pub enum PlanChangeBody {
    DueDate {
        milestone_id: MilestoneId,
        #[serde(deserialize_with = "wire::date")]
        #[schema(value_type = String, format = Date)]
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
    pub reason: Prose,
}

#[utoipa::path(post, path = "/api/v1/projects/{id}/revisions", tag = "improve", request_body = RevisionBody,
    params(("id" = Uuid, Path, description = "project id")),
    responses(Recorded),
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
    let command = Command::RevisePlan(RevisePlan {
        change,
        reason: b.reason,
    });
    Submission::new(&req, caller)?
        .run(&state, ProjectId(*id), command, false)
        .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldBody {
    pub kind: HoldKind,
    /// Absent: the whole project.
    pub milestone_id: Option<MilestoneId>,
    pub approver: Line,
    pub reason: Prose,
    #[serde(deserialize_with = "wire::date")]
    #[schema(value_type = String, format = Date)]
    pub expires_on: NaiveDate,
}

#[utoipa::path(post, path = "/api/v1/projects/{id}/holds", tag = "improve", request_body = HoldBody,
    params(("id" = Uuid, Path, description = "project id")),
    responses(Recorded),
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
    let command = Command::PlaceHold(PlaceHold {
        kind: b.kind,
        milestone_id: b.milestone_id,
        approver: b.approver,
        reason: b.reason,
        expires_on: b.expires_on,
    });
    Submission::new(&req, caller)?
        .run(&state, ProjectId(*id), command, false)
        .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LiftHoldBody {
    pub kind: HoldKind,
    pub milestone_id: Option<MilestoneId>,
    pub approver: Line,
    pub reason: Prose,
}

#[utoipa::path(post, path = "/api/v1/projects/{id}/holds/lift", tag = "improve", request_body = LiftHoldBody,
    params(("id" = Uuid, Path, description = "project id")),
    responses(Recorded),
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
    let command = Command::LiftHold(LiftHold {
        kind: b.kind,
        milestone_id: b.milestone_id,
        approver: b.approver,
        reason: b.reason,
    });
    Submission::new(&req, caller)?
        .run(&state, ProjectId(*id), command, false)
        .await
}

#[utoipa::path(post, path = "/api/v1/projects/{id}/close", tag = "improve", request_body = ReasonBody,
    params(("id" = Uuid, Path, description = "project id")),
    responses(Recorded),
    security(("bearer" = [])))]
#[post("/projects/{id}/close")]
pub async fn close_cycle(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: web::Json<ReasonBody>,
) -> Result<HttpResponse, ApiError> {
    let command = Command::CloseCycle(CloseCycle {
        reason: body.into_inner().reason,
    });
    Submission::new(&req, caller)?
        .run(&state, ProjectId(*id), command, false)
        .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReopenBody {
    pub instruction: Prose,
}

#[utoipa::path(post, path = "/api/v1/projects/{id}/reopen", tag = "improve", request_body = ReopenBody,
    params(("id" = Uuid, Path, description = "project id")),
    responses(Recorded),
    security(("bearer" = [])))]
#[post("/projects/{id}/reopen")]
pub async fn reopen_cycle(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: web::Json<ReopenBody>,
) -> Result<HttpResponse, ApiError> {
    let command = Command::ReopenCycle(ReopenCycle {
        instruction: body.into_inner().instruction,
    });
    Submission::new(&req, caller)?
        .run(&state, ProjectId(*id), command, false)
        .await
}

//! 督查 inspect: an inspector reviews completion claims, records inspections with their
//! findings and orders rectification.

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

/// The inspector's decision on a claim; a return carries its reason.
#[derive(Deserialize, ToSchema)]
#[serde(tag = "decision", rename_all = "snake_case", deny_unknown_fields)]
pub enum ReviewBody {
    /// The claim holds: the milestone is complete.
    Accept {},
    /// 退办重办: back to the department, with the reason.
    Return { reason: Prose },
}

#[utoipa::path(post, path = "/api/v1/projects/{id}/milestones/{mid}/review", tag = "inspect", request_body = ReviewBody,
    params(("id" = Uuid, Path, description = "project id"), ("mid" = Uuid, Path, description = "milestone id")),
    responses(Recorded),
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
    let milestone_id = MilestoneId(mid);
    let command = match body.into_inner() {
        ReviewBody::Accept {} => Command::AcceptCompletion(AcceptCompletion { milestone_id }),
        ReviewBody::Return { reason } => Command::ReturnCompletion(ReturnCompletion {
            milestone_id,
            reason,
        }),
    };
    let s = Submission::new(&req, caller)?;
    s.run(&state, ProjectId(id), command, false).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingBody {
    pub finding_id: Option<FindingId>,
    pub severity: Severity,
    pub description: Prose,
    pub milestone_id: Option<MilestoneId>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InspectionBody {
    #[serde(deserialize_with = "wire::date")]
    #[schema(value_type = String, format = Date)]
    pub inspected_on: NaiveDate,
    #[serde(default)]
    pub on_site: bool,
    pub summary: Prose,
    /// At most 50 findings.
    #[serde(default, deserialize_with = "wire::at_most::<50, _, _>")]
    #[schema(max_items = 50)]
    pub findings: Vec<FindingBody>,
}

#[utoipa::path(post, path = "/api/v1/projects/{id}/inspections", tag = "inspect", request_body = InspectionBody,
    params(("id" = Uuid, Path, description = "project id")),
    responses(Created),
    security(("bearer" = [])))]
#[post("/projects/{id}/inspections")]
pub async fn record_inspection(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: web::Json<InspectionBody>,
) -> Result<HttpResponse, ApiError> {
    let mut s = Submission::new(&req, caller)?;
    let b = body.into_inner();
    let findings: Vec<NewFinding> = b
        .findings
        .into_iter()
        .map(|f| NewFinding {
            finding_id: f
                .finding_id
                .unwrap_or_else(|| FindingId(s.new_id("finding"))),
            severity: f.severity,
            description: f.description,
            milestone_id: f.milestone_id,
        })
        .collect();
    s.created.finding_ids = findings.iter().map(|f| f.finding_id).collect();
    let command = Command::RecordInspection(RecordInspection {
        inspected_on: b.inspected_on,
        on_site: b.on_site,
        summary: b.summary,
        findings,
    });
    s.run(&state, ProjectId(*id), command, true).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderRectificationBody {
    pub rectification_id: Option<RectificationId>,
    pub finding_id: FindingId,
    pub department: DepartmentCode,
    #[serde(deserialize_with = "wire::date")]
    #[schema(value_type = String, format = Date)]
    pub deadline: NaiveDate,
    pub instructions: Prose,
}

#[utoipa::path(post, path = "/api/v1/projects/{id}/rectifications", tag = "inspect", request_body = OrderRectificationBody,
    params(("id" = Uuid, Path, description = "project id")),
    responses(Created),
    security(("bearer" = [])))]
#[post("/projects/{id}/rectifications")]
pub async fn order_rectification(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: web::Json<OrderRectificationBody>,
) -> Result<HttpResponse, ApiError> {
    let mut s = Submission::new(&req, caller)?;
    let b = body.into_inner();
    let rectification_id = b
        .rectification_id
        .unwrap_or_else(|| RectificationId(s.new_id("rectification")));
    s.created.rectification_id = Some(rectification_id);
    let command = Command::OrderRectification(OrderRectification {
        rectification_id,
        finding_id: b.finding_id,
        department: b.department,
        deadline: b.deadline,
        instructions: b.instructions,
    });
    s.run(&state, ProjectId(*id), command, true).await
}

//! 考核 assess: the office records a period's assessment and rates delivery confidence.

use actix_web::{HttpRequest, HttpResponse, post, web};
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
pub struct AssessmentBody {
    pub period: Line,
    pub rubric_version: Line,
    /// 1 to 50 items; each adds or deducts at most 100 points.
    #[serde(deserialize_with = "wire::at_most::<50, _, _>")]
    #[schema(min_items = 1, max_items = 50)]
    pub breakdown: Vec<ScoreItem>,
    pub grade: Line,
}

#[utoipa::path(post, path = "/api/v1/projects/{id}/assessments", tag = "assess", request_body = AssessmentBody,
    params(("id" = Uuid, Path, description = "project id")),
    responses(Created),
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
    let command = Command::RecordAssessment(RecordAssessment {
        period: b.period,
        rubric_version: b.rubric_version,
        breakdown: b.breakdown,
        grade: b.grade,
    });
    let s = Submission::new(&req, caller)?;
    s.run(&state, ProjectId(*id), command, true).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfidenceBody {
    pub rating: Confidence,
    pub assessor: Line,
    #[serde(default)]
    pub comment: Note,
}

#[utoipa::path(post, path = "/api/v1/projects/{id}/confidence", tag = "assess", request_body = ConfidenceBody,
    params(("id" = Uuid, Path, description = "project id")),
    responses(Recorded),
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
    let command = Command::RateConfidence(RateConfidence {
        rating: b.rating,
        assessor: b.assessor,
        comment: b.comment,
    });
    let s = Submission::new(&req, caller)?;
    s.run(&state, ProjectId(*id), command, false).await
}

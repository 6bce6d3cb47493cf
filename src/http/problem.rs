//! Errors as RFC 9457 `application/problem+json`, with a stable `type` per broken rule.
//! Nothing is appended on any error: every check runs before the append.

use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue, WWW_AUTHENTICATE};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::command::DispatchError;
use crate::domain::DomainError;
use crate::projection::ProjectionError;
use crate::store::StoreError;

/// A problem detail. `type` is a URI reference naming the rule: `/problems/<code>`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The project's current version, for 409 / 412 on a version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_version: Option<u64>,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub title: &'static str,
    pub detail: String,
    pub current_version: Option<u64>,
    /// Seconds, for `Retry-After` on 503.
    pub retry_after: Option<u32>,
    /// Further headers the status calls for: `WWW-Authenticate` on 401, `Allow` on 405.
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: impl Into<String>,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code: code.into(),
            title,
            detail: detail.into(),
            current_version: None,
            retry_after: None,
            headers: Vec::new(),
        }
    }

    /// The same problem with one more response header.
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "malformed-request",
            "The request is not well-formed",
            detail,
        )
    }

    /// 401 for a request that carries no bearer token: the challenge names the scheme and
    /// realm only (RFC 6750 §3.1: no error code when no credentials were given).
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Authentication failed",
            detail,
        )
        .with_header(
            WWW_AUTHENTICATE,
            HeaderValue::from_static(r#"Bearer realm="duban""#),
        )
    }

    /// 401 for a bearer token that was given but is not valid (expired, badly signed, claims
    /// missing or wrong): RFC 6750 §3.1's `invalid_token`. The reason is in the problem's
    /// detail, not in the header.
    pub fn invalid_token(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Authentication failed",
            detail,
        )
        .with_header(
            WWW_AUTHENTICATE,
            HeaderValue::from_static(r#"Bearer realm="duban", error="invalid_token""#),
        )
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "No such resource",
            detail,
        )
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "Not allowed", detail)
    }

    pub fn unprocessable(code: &str, detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            code,
            "Invalid value",
            detail,
        )
    }

    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            detail,
        )
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.detail)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let body = Problem {
            kind: format!("/problems/{}", self.code),
            title: self.title.to_string(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            current_version: self.current_version,
        };
        let mut res = HttpResponse::build(self.status);
        if let Some(seconds) = self.retry_after {
            res.insert_header((actix_web::http::header::RETRY_AFTER, seconds.to_string()));
        }
        for (name, value) in &self.headers {
            res.insert_header((name.clone(), value.clone()));
        }
        res.content_type("application/problem+json").json(body)
    }
}

/// Which HTTP status a broken domain rule gets.
fn domain_status(e: &DomainError) -> StatusCode {
    use DomainError::*;
    match e {
        FieldRequired(_)
        | ReasonRequired
        | PercentOutOfRange(_)
        | TargetValueInvalid
        | YearOutOfRange(_)
        | EmptyScoreBreakdown
        | ExtensionNotLater
        | DeadlineNotInFuture
        | HoldExpiryNotInFuture
        | LeadAlsoSupporting(_) => StatusCode::UNPROCESSABLE_ENTITY,
        NotAssignedDepartment
        | NotResponsibleDepartment
        | OnlyLeadDepartmentMayClaim
        | NotRectifyingDepartment => StatusCode::FORBIDDEN,
        UnknownMilestone(_)
        | UnknownTarget(_)
        | UnknownFinding(_)
        | UnknownRectification(_)
        | ProjectNotRegistered => StatusCode::NOT_FOUND,
        _ => StatusCode::CONFLICT,
    }
}

impl From<DispatchError> for ApiError {
    fn from(e: DispatchError) -> Self {
        let detail = e.to_string();
        match e {
            DispatchError::RoleMayNot { .. } => {
                ApiError::new(StatusCode::FORBIDDEN, "role-may-not", "Not allowed", detail)
            }
            DispatchError::NotYourProject => {
                ApiError::new(StatusCode::FORBIDDEN, "forbidden", "Not allowed", detail)
            }
            DispatchError::NoSuchProject => ApiError::not_found(detail),
            DispatchError::UnknownDepartment(_) => {
                ApiError::unprocessable("unknown-department", detail)
            }
            DispatchError::VersionMismatch { current, .. } => {
                let mut p = ApiError::new(
                    StatusCode::PRECONDITION_FAILED,
                    "version-mismatch",
                    "Stale version",
                    detail,
                );
                p.current_version = Some(current);
                p
            }
            DispatchError::KeyReused => ApiError::unprocessable(
                "idempotency-key-reused",
                "the Idempotency-Key was already used for another project",
            ),
            DispatchError::Contention => {
                ApiError::new(StatusCode::CONFLICT, "contention", "Busy", detail)
            }
            DispatchError::Rule(rule) => {
                ApiError::new(domain_status(&rule), rule.code(), "Rule violated", detail)
            }
            DispatchError::Undecodable(_) => ApiError::internal(detail),
            DispatchError::Store(s) => s.into(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "store error");
        match e {
            StoreError::Closed | StoreError::Poisoned(_) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Not accepting writes",
                e.to_string(),
            ),
            other => ApiError::internal(other.to_string()),
        }
    }
}

impl From<ProjectionError> for ApiError {
    fn from(e: ProjectionError) -> Self {
        match e {
            ProjectionError::Store(s) => s.into(),
            other => {
                tracing::error!(error = %other, "read model error");
                ApiError::internal(other.to_string())
            }
        }
    }
}

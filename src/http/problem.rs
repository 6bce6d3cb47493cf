//! Errors as RFC 9457 `application/problem+json`, with a stable `type` per broken rule.
//! Nothing is appended on any error: every check runs before the append.

use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue, WWW_AUTHENTICATE};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::command::DispatchError;
use crate::domain::RuleKind;
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
    /// The id of the request this answers, as in the service's log: quote it to an operator.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
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
        Self::challenge(detail, r#"Bearer realm="duban""#)
    }

    /// 401 for a bearer token that was given but is not valid (expired, badly signed, claims
    /// missing or wrong): RFC 6750 §3.1's `invalid_token`. The reason is in the problem's
    /// detail, not in the header.
    pub fn invalid_token(detail: impl Into<String>) -> Self {
        Self::challenge(detail, r#"Bearer realm="duban", error="invalid_token""#)
    }

    fn challenge(detail: impl Into<String>, header: &'static str) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Authentication failed",
            detail,
        )
        .with_header(WWW_AUTHENTICATE, HeaderValue::from_static(header))
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
            request_id: super::request_id::current(),
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

/// Which HTTP status each kind of broken rule gets.
fn rule_status(kind: RuleKind) -> StatusCode {
    match kind {
        RuleKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        RuleKind::Forbidden => StatusCode::FORBIDDEN,
        RuleKind::Missing => StatusCode::NOT_FOUND,
        RuleKind::Conflict => StatusCode::CONFLICT,
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
            DispatchError::DateOutsideCalendar { .. } => {
                ApiError::unprocessable("date-outside-calendar", detail)
            }
            DispatchError::KeyReused => ApiError::unprocessable(
                "idempotency-key-reused",
                "the Idempotency-Key was already used for another request (another command, body or project): use a new key for a new request",
            ),
            DispatchError::Contention => {
                ApiError::new(StatusCode::CONFLICT, "contention", "Busy", detail)
            }
            DispatchError::Rule(rule) => ApiError::new(
                rule_status(rule.kind()),
                rule.code(),
                "Rule violated",
                detail,
            ),
            DispatchError::Undecodable(_) => internal_failure(&detail),
            DispatchError::Store(s) => s.into(),
        }
    }
}

/// A failure inside the service: logged with the request id, answered with a generic 500
/// that names the request id (see [`Problem::request_id`]) and nothing of the storage.
fn internal_failure(error: &str) -> ApiError {
    let request_id = super::request_id::current();
    tracing::error!(
        request_id = request_id.as_deref().unwrap_or("-"),
        error,
        "internal error"
    );
    ApiError::internal(
        "the service could not complete this request; an operator can find what went wrong \
         in its log by the request id",
    )
}

/// A 503 whose cause may pass: the client is told when to come back.
fn unavailable(code: &str, title: &'static str, detail: &str, retry: Option<u32>) -> ApiError {
    let mut e = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, code, title, detail);
    e.retry_after = retry;
    e
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Verifying => unavailable(
                "unavailable",
                "Not accepting writes yet",
                "the event log is being verified after start-up; retry shortly",
                Some(1),
            ),
            StoreError::Overloaded => unavailable(
                "overloaded",
                "Too many writes waiting",
                "too many commands are waiting to be recorded; retry shortly",
                Some(1),
            ),
            // The command's events are beyond what the log stores (an event over its size):
            // the request's own doing, and nothing was appended.
            StoreError::InvalidAppend(why) => ApiError::unprocessable(
                "too-large-to-record",
                format!("the command cannot be recorded as sent: {why}; send less in one request"),
            ),
            StoreError::Closed => unavailable(
                "unavailable",
                "Not accepting writes",
                "the service is shutting down",
                Some(5),
            ),
            StoreError::Poisoned(why) => {
                let request_id = super::request_id::current();
                tracing::error!(
                    request_id = request_id.as_deref().unwrap_or("-"),
                    why,
                    "write refused: the store is poisoned"
                );
                unavailable(
                    "unavailable",
                    "Not accepting writes",
                    "the event log failed a check or a storage operation; no write is taken \
                     until an operator has checked it (`duban verify`)",
                    None,
                )
            }
            StoreError::InDoubt(why) => {
                let mut e = internal_failure(&format!("append in doubt: {why}"));
                e.detail = "storage failed while this command was being recorded; it may or may \
                    not have been, and no write is taken until an operator has checked the log"
                    .into();
                e
            }
            // No storage internals in an answer: they are logged with the request id.
            other => internal_failure(&other.to_string()),
        }
    }
}

impl From<ProjectionError> for ApiError {
    fn from(e: ProjectionError) -> Self {
        match e {
            ProjectionError::Store(s) => s.into(),
            other => internal_failure(&format!("read model error: {other}")),
        }
    }
}

//! What every command endpoint does after parsing its body: read `Idempotency-Key` and
//! `If-Match`, draw the ids the command creates, dispatch, and answer with where the events
//! landed and every id created.
//!
//! Created ids are derived from the caller and the key when a key is given, so a retry names
//! the same project, milestone or finding as the first attempt and is answered as a replay;
//! without a key each id is fresh (UUIDv7).

use actix_web::http::StatusCode;
use actix_web::http::header::{ETag, EntityTag};
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::command::{CommandOutcome, CommandRequest};
use crate::domain::{Command, FindingId, MilestoneId, ProjectId, RectificationId, TargetId};
use crate::http::AppState;
use crate::http::auth_extract::Caller;
use crate::http::problem::{ApiError, Problem};

/// The ids a command created, as the answer names them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, ToSchema)]
pub struct CreatedIds {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_id: Option<ProjectId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub milestone_id: Option<MilestoneId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_id: Option<TargetId>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub finding_ids: Vec<FindingId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rectification_id: Option<RectificationId>,
}

/// The answer to a command.
#[derive(Serialize, ToSchema)]
pub struct CommandAnswer {
    pub project_id: ProjectId,
    /// The project's version after the command (its ETag).
    pub version: u64,
    /// The global position of the last event: queries with `min_position` at or past it show
    /// this write.
    pub position: u64,
    /// True when this is the replayed answer to an earlier request with the same key.
    pub replayed: bool,
    /// What the command created; on a replay, the same ids as the first answer.
    pub created: CreatedIds,
}

/// The answers of a command that records without creating, as the document lists them.
#[derive(utoipa::IntoResponses)]
pub enum Recorded {
    /// Recorded (or, with the same `Idempotency-Key` again, the first answer replayed).
    #[response(status = 200)]
    Done(CommandAnswer),
    /// Refused: a malformed or invalid body, no or a bad token, a role or department that may
    /// not, no such project or item, a rule of the loop, a stale `If-Match`. Nothing was
    /// recorded.
    #[response(status = "4XX", content_type = "application/problem+json")]
    Refused(Problem),
    /// Not taking writes now (the log is being verified, or too many are queued); retry after
    /// `Retry-After`. Nothing was recorded.
    #[response(status = 503, content_type = "application/problem+json")]
    Unavailable(Problem),
}

/// The answers of a command that creates: `created` names what it made.
#[derive(utoipa::IntoResponses)]
pub enum Created {
    /// Created; `created` names every id made.
    #[response(status = 201)]
    Done(CommandAnswer),
    /// The first answer replayed, for the same `Idempotency-Key` again: the same ids.
    #[response(status = 200)]
    Replayed(CommandAnswer),
    /// Refused: a malformed or invalid body, no or a bad token, a role or department that may
    /// not, no such project or item, a rule of the loop, a stale `If-Match`. Nothing was
    /// recorded.
    #[response(status = "4XX", content_type = "application/problem+json")]
    Refused(Problem),
    /// Not taking writes now (the log is being verified, or too many are queued); retry after
    /// `Retry-After`. Nothing was recorded.
    #[response(status = 503, content_type = "application/problem+json")]
    Unavailable(Problem),
}

/// One command request on its way to the dispatcher.
pub struct Submission {
    caller: Caller,
    idempotency_key: Option<String>,
    if_match: Option<u64>,
    drawn: u32,
    pub created: CreatedIds,
}

impl Submission {
    pub fn new(req: &HttpRequest, caller: Caller) -> Result<Self, ApiError> {
        // A command takes everything in its body; a query string is a client's mistake (a
        // filter meant for a read, a misplaced field) that must not pass unnoticed.
        if let Some(name) = req.query_string().split('&').find(|p| !p.is_empty()) {
            let name = name.split('=').next().unwrap_or_default();
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "unknown-query-parameter",
                "Unknown query parameter",
                format!("a command takes no query parameters, not {name:?}: send it in the body"),
            ));
        }
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
        Ok(Self {
            caller,
            idempotency_key,
            if_match,
            drawn: 0,
            created: CreatedIds::default(),
        })
    }

    /// The next id of this `kind` (project, milestone, …) the command creates: derived from
    /// (caller, key, kind, how many drawn before) when a key is given, else fresh.
    pub fn new_id(&mut self, kind: &str) -> Uuid {
        self.drawn += 1;
        match &self.idempotency_key {
            None => Uuid::now_v7(),
            Some(key) => derived_id(&self.caller.0.sub, key, kind, self.drawn),
        }
    }

    /// Dispatches the command; `201 Created` for a command that creates (unless replayed),
    /// else `200`.
    pub async fn run(
        self,
        state: &AppState,
        project: ProjectId,
        command: Command,
        creates: bool,
    ) -> Result<HttpResponse, ApiError> {
        tracing::Span::current().record("command", command.name());
        // Who may act on the project is decided from the read models' index before anything
        // of it is loaded, as for a read: a department learns nothing of another's project,
        // not even by how long a refusal takes, and a retry's replay is no way around it.
        if !matches!(command, Command::RegisterProject(_)) {
            crate::http::access::project(state, &self.caller, project).await?;
        }
        let outcome: CommandOutcome = state
            .dispatcher
            .dispatch(CommandRequest {
                project,
                command,
                actor: self.caller.0,
                now: (state.clock)(),
                idempotency_key: self.idempotency_key,
                if_match: self.if_match,
                correlation_id: None,
            })
            .await?;
        let status = if creates && !outcome.replayed {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        Ok(HttpResponse::build(status)
            .insert_header(ETag(EntityTag::new_strong(outcome.version.to_string())))
            .json(CommandAnswer {
                project_id: outcome.project_id,
                version: outcome.version,
                position: outcome.position,
                replayed: outcome.replayed,
                created: self.created,
            }))
    }
}

/// A UUIDv8 from blake3 over the length-prefixed caller, key and kind and the draw's number:
/// the same request names the same ids, two callers' keys never name the same one, and a
/// milestone never gets the id a project got from the same key.
fn derived_id(sub: &str, key: &str, kind: &str, draw: u32) -> Uuid {
    let mut h = blake3::Hasher::new_derive_key("duban created id v1");
    for part in [sub, key, kind] {
        h.update(&(part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    h.update(&draw.to_le_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&h.finalize().as_bytes()[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
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

#[cfg(test)]
mod tests {
    use super::derived_id;

    #[test]
    fn derived_ids_depend_on_caller_key_and_draw_without_ambiguity() {
        let a = derived_id("zhang", "wei:report-1", "milestone", 1);
        assert_eq!(a, derived_id("zhang", "wei:report-1", "milestone", 1));
        assert_ne!(a, derived_id("zhang:wei", "report-1", "milestone", 1));
        assert_ne!(a, derived_id("zhang", "wei:report-1", "milestone", 2));
        assert_ne!(a, derived_id("zhang", "wei:report-1", "project", 1));
        assert_eq!(a.get_version_num(), 8);
    }
}

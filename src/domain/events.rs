//! The events of the supervision loop, in the past tense: what happened to a key project.
//! Each event type has a schema version; the catalogue in `events/` holds a JSON Schema and an
//! example for every type and version listed in [`CATALOGUE`].

use chrono::{DateTime, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::values::*;

// ── 规划 plan ────────────────────────────────────────────────────────────────

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectRegistered {
    pub project_id: ProjectId,
    pub name: String,
    pub industry: Industry,
    pub city: City,
    pub lead_department: DepartmentCode,
    pub supporting_departments: Vec<DepartmentCode>,
    pub description: String,
    /// Where in the plan the project comes from, e.g. "四、(一) 高端装备制造业".
    pub source_section: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MilestoneScheduled {
    pub milestone_id: MilestoneId,
    pub title: String,
    /// The first baseline: due at the end of this day, Asia/Shanghai.
    pub due_date: NaiveDate,
    pub responsible_departments: Vec<DepartmentCode>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetSet {
    pub target_id: TargetId,
    pub indicator: String,
    pub unit: String,
    pub target_value: f64,
    pub year: i32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DepartmentAssigned {
    pub department: DepartmentCode,
    pub role: DepartmentRole,
}

// ── 落实 implement ───────────────────────────────────────────────────────────

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignmentSigned {
    pub department: DepartmentCode,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignmentReturned {
    pub department: DepartmentCode,
    pub reason: String,
}

/// An indicator's actual value as reported.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IndicatorActual {
    pub target_id: TargetId,
    pub value: f64,
}

/// Schema version 2: `evidence` was added and `note` renamed `narrative` (see `upcast`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgressReported {
    pub milestone_id: MilestoneId,
    pub department: DepartmentCode,
    #[serde(deserialize_with = "crate::rfc3339::deserialize")]
    pub reported_at: DateTime<Utc>,
    pub percent: u8,
    pub narrative: String,
    pub actuals: Vec<IndicatorActual>,
    /// References to documents backing the report.
    pub evidence: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompletionClaimed {
    pub milestone_id: MilestoneId,
    pub department: DepartmentCode,
    #[serde(deserialize_with = "crate::rfc3339::deserialize")]
    pub claimed_at: DateTime<Utc>,
    pub narrative: String,
    pub evidence: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionRequested {
    pub milestone_id: MilestoneId,
    pub department: DepartmentCode,
    #[serde(deserialize_with = "crate::rfc3339::deserialize")]
    pub requested_at: DateTime<Utc>,
    /// The due date in force when the request was made.
    pub due_date: NaiveDate,
    pub new_due_date: NaiveDate,
    pub reason: String,
    /// Filed after the due date: the milestone counts as late even if the extension is granted.
    pub late: bool,
}

// ── 督查 inspect ─────────────────────────────────────────────────────────────

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompletionAccepted {
    pub milestone_id: MilestoneId,
    pub inspector: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompletionReturned {
    pub milestone_id: MilestoneId,
    pub inspector: String,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    pub finding_id: FindingId,
    pub severity: Severity,
    pub description: String,
    #[serde(default)]
    pub milestone_id: Option<MilestoneId>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InspectionRecorded {
    pub inspector: String,
    pub inspected_on: NaiveDate,
    pub on_site: bool,
    pub summary: String,
    pub findings: Vec<Finding>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RectificationOrdered {
    pub rectification_id: RectificationId,
    pub finding_id: FindingId,
    pub department: DepartmentCode,
    pub deadline: NaiveDate,
    pub instructions: String,
}

// ── 考核 assess ──────────────────────────────────────────────────────────────

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoreItem {
    pub item: String,
    pub points: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AssessmentRecorded {
    /// The assessed period, e.g. "2018".
    pub period: String,
    pub rubric_version: String,
    pub breakdown: Vec<ScoreItem>,
    /// The sum of the breakdown.
    pub score: f64,
    pub grade: String,
    pub confirmed_by: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfidenceRated {
    pub rating: Confidence,
    pub assessor: String,
    pub comment: String,
}

// ── 改进 improve ─────────────────────────────────────────────────────────────

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RectificationReported {
    pub rectification_id: RectificationId,
    pub department: DepartmentCode,
    pub narrative: String,
    pub evidence: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RectificationVerified {
    pub rectification_id: RectificationId,
    pub inspector: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RectificationRejected {
    pub rectification_id: RectificationId,
    pub inspector: String,
    pub reason: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approved,
    Rejected,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionDecided {
    pub milestone_id: MilestoneId,
    pub decision: Decision,
    /// The due date from now on (unchanged when rejected).
    pub due_date: NaiveDate,
    pub reason: String,
    pub decided_by: String,
}

/// What a plan revision changes. The value before is kept in the event: no baseline is lost.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Revision {
    DueDate {
        milestone_id: MilestoneId,
        from: NaiveDate,
        to: NaiveDate,
    },
    TargetValue {
        target_id: TargetId,
        from: f64,
        to: f64,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanRevised {
    pub revision: Revision,
    pub reason: String,
}

/// Stopping the clock (中止 suspend, 缓办 park) on the whole project or on one milestone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldPlaced {
    pub kind: HoldKind,
    /// `None`: the whole project.
    #[serde(default)]
    pub milestone_id: Option<MilestoneId>,
    pub approver: String,
    pub reason: String,
    pub expires_on: NaiveDate,
}

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum HoldKind {
    /// 中止
    Suspended,
    /// 缓办 / 挂账
    Parked,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldLifted {
    pub kind: HoldKind,
    #[serde(default)]
    pub milestone_id: Option<MilestoneId>,
    pub approver: String,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CycleClosed {
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CycleReopened {
    /// The new instruction that re-opens the project (e.g. a joint-meeting decision).
    pub instruction: String,
}

// ── clock facts, recorded by the notifier ────────────────────────────────────

/// What kind of notice: a pre-due warning (临期提醒) or an overdue notice at an escalation level.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    DueSoon,
    Overdue,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticeDue {
    /// milestone, department, due date, kind, level and repeat number: the same notice is
    /// never decided twice.
    pub dedup_key: String,
    pub milestone_id: MilestoneId,
    /// The department the notice is addressed to (one of the milestone's responsible ones).
    pub department: DepartmentCode,
    /// The due date in force when the notice was decided.
    pub due_date: NaiveDate,
    pub kind: NoticeKind,
    /// 1: the responsible department; 2: with its leader; 3: with the leading-group office.
    pub level: u8,
    pub repeat: u32,
    pub recipients: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticeSent {
    pub dedup_key: String,
    pub message_id: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticeFailed {
    pub dedup_key: String,
    pub error: String,
    pub attempt: u32,
    /// The server refused for good (5xx), or the retry deadline passed: the notice is a dead
    /// letter and is not tried again.
    #[serde(default)]
    pub permanent: bool,
}

macro_rules! catalogue {
    ($($name:ident = $version:literal),* $(,)?) => {
        /// Every event a project's stream can hold.
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "type", content = "data")]
        pub enum Event {
            $($name($name)),*
        }

        /// Every event type with its current schema version.
        pub const CATALOGUE: &[(&str, u32)] = &[$((stringify!($name), $version)),*];

        impl Event {
            pub fn event_type(&self) -> &'static str {
                match self {
                    $(Event::$name(_) => stringify!($name)),*
                }
            }

            pub fn schema_version(&self) -> u32 {
                match self {
                    $(Event::$name(_) => $version),*
                }
            }

            /// The event's data, as stored in the envelope's payload.
            pub fn payload(&self) -> serde_json::Value {
                match self {
                    $(Event::$name(e) => serde_json::to_value(e).expect("events serialise")),*
                }
            }

            /// Reads an event of the current schema version back (see `upcast` for older ones).
            pub fn from_payload(event_type: &str, payload: serde_json::Value) -> Result<Event, String> {
                match event_type {
                    $(stringify!($name) => serde_json::from_value(payload)
                        .map(Event::$name)
                        .map_err(|e| format!("{}: {e}", stringify!($name))),)*
                    other => Err(format!("unknown event type {other:?}")),
                }
            }
        }

        impl Event {
            /// Reads an event of the current schema version straight from its JSON text.
            pub fn from_payload_str(event_type: &str, payload: &str) -> Result<Event, String> {
                match event_type {
                    $(stringify!($name) => serde_json::from_str(payload)
                        .map(Event::$name)
                        .map_err(|e| format!("{}: {e}", stringify!($name))),)*
                    other => Err(format!("unknown event type {other:?}")),
                }
            }
        }

        /// The JSON Schema of an event type's current version.
        pub fn schema_of(event_type: &str) -> Option<schemars::Schema> {
            match event_type {
                $(stringify!($name) => Some(schemars::schema_for!($name)),)*
                _ => None,
            }
        }
    };
}

catalogue! {
    ProjectRegistered = 1,
    MilestoneScheduled = 1,
    TargetSet = 1,
    DepartmentAssigned = 1,
    AssignmentSigned = 1,
    AssignmentReturned = 1,
    ProgressReported = 2,
    CompletionClaimed = 1,
    ExtensionRequested = 1,
    CompletionAccepted = 1,
    CompletionReturned = 1,
    InspectionRecorded = 1,
    RectificationOrdered = 1,
    AssessmentRecorded = 1,
    ConfidenceRated = 1,
    RectificationReported = 1,
    RectificationVerified = 1,
    RectificationRejected = 1,
    ExtensionDecided = 1,
    PlanRevised = 1,
    HoldPlaced = 1,
    HoldLifted = 1,
    CycleClosed = 1,
    CycleReopened = 1,
    NoticeDue = 1,
    NoticeSent = 1,
    NoticeFailed = 1,
}

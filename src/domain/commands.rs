//! The commands of the supervision loop, in the imperative: what someone asks to happen to a
//! key project. Ids of new things (milestones, findings, …) come with the command, chosen by
//! the caller, so that `decide` stays deterministic.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::events::{Finding, HoldKind, IndicatorActual, ScoreItem};
use super::values::*;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    // 规划 plan (office)
    RegisterProject {
        project_id: ProjectId,
        name: String,
        industry: Industry,
        city: City,
        lead_department: DepartmentCode,
        supporting_departments: Vec<DepartmentCode>,
        description: String,
        source_section: String,
    },
    ScheduleMilestone {
        milestone_id: MilestoneId,
        title: String,
        due_date: NaiveDate,
        responsible_departments: Vec<DepartmentCode>,
    },
    SetTarget {
        target_id: TargetId,
        indicator: String,
        unit: String,
        target_value: f64,
        year: i32,
    },
    AssignDepartment {
        department: DepartmentCode,
        role: DepartmentRole,
    },
    // 落实 implement (department)
    SignAssignment,
    ReturnAssignment {
        reason: String,
    },
    ReportProgress {
        milestone_id: MilestoneId,
        percent: u8,
        narrative: String,
        actuals: Vec<IndicatorActual>,
        evidence: Vec<String>,
    },
    ClaimCompletion {
        milestone_id: MilestoneId,
        narrative: String,
        evidence: Vec<String>,
    },
    RequestExtension {
        milestone_id: MilestoneId,
        new_due_date: NaiveDate,
        reason: String,
    },
    // 督查 inspect (inspector)
    AcceptCompletion {
        milestone_id: MilestoneId,
    },
    ReturnCompletion {
        milestone_id: MilestoneId,
        reason: String,
    },
    RecordInspection {
        inspected_on: NaiveDate,
        on_site: bool,
        summary: String,
        findings: Vec<Finding>,
    },
    OrderRectification {
        rectification_id: RectificationId,
        finding_id: FindingId,
        department: DepartmentCode,
        deadline: NaiveDate,
        instructions: String,
    },
    // 考核 assess (office)
    RecordAssessment {
        period: String,
        rubric_version: String,
        breakdown: Vec<ScoreItem>,
        grade: String,
    },
    RateConfidence {
        rating: Confidence,
        assessor: String,
        comment: String,
    },
    // 改进 improve
    ReportRectification {
        rectification_id: RectificationId,
        narrative: String,
        evidence: Vec<String>,
    },
    VerifyRectification {
        rectification_id: RectificationId,
    },
    RejectRectification {
        rectification_id: RectificationId,
        reason: String,
    },
    DecideExtension {
        milestone_id: MilestoneId,
        approve: bool,
        reason: String,
    },
    RevisePlan {
        change: PlanChange,
        reason: String,
    },
    PlaceHold {
        kind: HoldKind,
        milestone_id: Option<MilestoneId>,
        approver: String,
        reason: String,
        expires_on: NaiveDate,
    },
    LiftHold {
        kind: HoldKind,
        milestone_id: Option<MilestoneId>,
        approver: String,
        reason: String,
    },
    CloseCycle {
        reason: String,
    },
    ReopenCycle {
        instruction: String,
    },
    // clock facts (the notifier)
    RecordNoticeDue(super::events::NoticeDue),
    RecordNoticeSent(super::events::NoticeSent),
    RecordNoticeFailed(super::events::NoticeFailed),
}

/// What a plan revision asks for; the value before is filled in by `decide`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum PlanChange {
    DueDate {
        milestone_id: MilestoneId,
        to: NaiveDate,
    },
    TargetValue {
        target_id: TargetId,
        to: f64,
    },
}

impl Command {
    /// A fact of the clock (a notice decided, sent or failed), recorded by the notifier
    /// rather than asked for by a person.
    pub fn is_clock_fact(&self) -> bool {
        matches!(
            self,
            Command::RecordNoticeDue(_)
                | Command::RecordNoticeSent(_)
                | Command::RecordNoticeFailed(_)
        )
    }
}

/// Every command's name, as used in `policies/roles.toml` and in the HTTP API.
pub const COMMAND_NAMES: &[&str] = &[
    "register_project",
    "schedule_milestone",
    "set_target",
    "assign_department",
    "sign_assignment",
    "return_assignment",
    "report_progress",
    "claim_completion",
    "request_extension",
    "accept_completion",
    "return_completion",
    "record_inspection",
    "order_rectification",
    "record_assessment",
    "rate_confidence",
    "report_rectification",
    "verify_rectification",
    "reject_rectification",
    "decide_extension",
    "revise_plan",
    "place_hold",
    "lift_hold",
    "close_cycle",
    "reopen_cycle",
    "record_notice_due",
    "record_notice_sent",
    "record_notice_failed",
];

impl Command {
    /// The command's name (see [`COMMAND_NAMES`]).
    pub fn name(&self) -> &'static str {
        match self {
            Command::RegisterProject { .. } => "register_project",
            Command::ScheduleMilestone { .. } => "schedule_milestone",
            Command::SetTarget { .. } => "set_target",
            Command::AssignDepartment { .. } => "assign_department",
            Command::SignAssignment => "sign_assignment",
            Command::ReturnAssignment { .. } => "return_assignment",
            Command::ReportProgress { .. } => "report_progress",
            Command::ClaimCompletion { .. } => "claim_completion",
            Command::RequestExtension { .. } => "request_extension",
            Command::AcceptCompletion { .. } => "accept_completion",
            Command::ReturnCompletion { .. } => "return_completion",
            Command::RecordInspection { .. } => "record_inspection",
            Command::OrderRectification { .. } => "order_rectification",
            Command::RecordAssessment { .. } => "record_assessment",
            Command::RateConfidence { .. } => "rate_confidence",
            Command::ReportRectification { .. } => "report_rectification",
            Command::VerifyRectification { .. } => "verify_rectification",
            Command::RejectRectification { .. } => "reject_rectification",
            Command::DecideExtension { .. } => "decide_extension",
            Command::RevisePlan { .. } => "revise_plan",
            Command::PlaceHold { .. } => "place_hold",
            Command::LiftHold { .. } => "lift_hold",
            Command::CloseCycle { .. } => "close_cycle",
            Command::ReopenCycle { .. } => "reopen_cycle",
            Command::RecordNoticeDue(_) => "record_notice_due",
            Command::RecordNoticeSent(_) => "record_notice_sent",
            Command::RecordNoticeFailed(_) => "record_notice_failed",
        }
    }

    /// Departments the command names (to be checked against the directory).
    pub fn named_departments(&self) -> Vec<&DepartmentCode> {
        match self {
            Command::RegisterProject {
                lead_department,
                supporting_departments,
                ..
            } => std::iter::once(lead_department)
                .chain(supporting_departments)
                .collect(),
            Command::ScheduleMilestone {
                responsible_departments,
                ..
            } => responsible_departments.iter().collect(),
            Command::AssignDepartment { department, .. }
            | Command::OrderRectification { department, .. } => {
                vec![department]
            }
            _ => vec![],
        }
    }

    /// The calendar dates the command names (to be checked against the working calendar).
    pub fn named_dates(&self) -> Vec<NaiveDate> {
        match self {
            Command::ScheduleMilestone { due_date, .. } => vec![*due_date],
            Command::RequestExtension { new_due_date, .. } => vec![*new_due_date],
            Command::RecordInspection { inspected_on, .. } => vec![*inspected_on],
            Command::OrderRectification { deadline, .. } => vec![*deadline],
            Command::PlaceHold { expires_on, .. } => vec![*expires_on],
            Command::RevisePlan {
                change: PlanChange::DueDate { to, .. },
                ..
            } => vec![*to],
            _ => vec![],
        }
    }
}

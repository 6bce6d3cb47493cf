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

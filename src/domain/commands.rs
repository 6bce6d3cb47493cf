//! The commands of the supervision loop, in the imperative: what someone asks to happen to a
//! key project. Ids of new things (milestones, findings, …) come with the command, chosen by
//! the caller, so that `decide` stays deterministic.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::values::*;

mod assess;
mod implement;
mod improve;
mod inspect;
mod plan;

pub use assess::*;
pub use implement::*;
pub use improve::*;
pub use inspect::*;
pub use plan::*;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    // 规划 plan (office)
    RegisterProject(RegisterProject),
    ScheduleMilestone(ScheduleMilestone),
    SetTarget(SetTarget),
    AssignDepartment(AssignDepartment),
    // 落实 implement (department)
    SignAssignment,
    ReturnAssignment(ReturnAssignment),
    ReportProgress(ReportProgress),
    ClaimCompletion(ClaimCompletion),
    RequestExtension(RequestExtension),
    // 督查 inspect (inspector)
    AcceptCompletion(AcceptCompletion),
    ReturnCompletion(ReturnCompletion),
    RecordInspection(RecordInspection),
    OrderRectification(OrderRectification),
    // 考核 assess (office)
    RecordAssessment(RecordAssessment),
    RateConfidence(RateConfidence),
    // 改进 improve
    ReportRectification(ReportRectification),
    VerifyRectification(VerifyRectification),
    RejectRectification(RejectRectification),
    DecideExtension(DecideExtension),
    RevisePlan(RevisePlan),
    PlaceHold(PlaceHold),
    LiftHold(LiftHold),
    CloseCycle(CloseCycle),
    ReopenCycle(ReopenCycle),
    // clock facts (the notifier)
    RecordNoticeDue(super::events::NoticeDue),
    RecordNoticeSent(super::events::NoticeSent),
    RecordNoticeFailed(super::events::NoticeFailed),
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
            Command::RegisterProject(_) => "register_project",
            Command::ScheduleMilestone(_) => "schedule_milestone",
            Command::SetTarget(_) => "set_target",
            Command::AssignDepartment(_) => "assign_department",
            Command::SignAssignment => "sign_assignment",
            Command::ReturnAssignment(_) => "return_assignment",
            Command::ReportProgress(_) => "report_progress",
            Command::ClaimCompletion(_) => "claim_completion",
            Command::RequestExtension(_) => "request_extension",
            Command::AcceptCompletion(_) => "accept_completion",
            Command::ReturnCompletion(_) => "return_completion",
            Command::RecordInspection(_) => "record_inspection",
            Command::OrderRectification(_) => "order_rectification",
            Command::RecordAssessment(_) => "record_assessment",
            Command::RateConfidence(_) => "rate_confidence",
            Command::ReportRectification(_) => "report_rectification",
            Command::VerifyRectification(_) => "verify_rectification",
            Command::RejectRectification(_) => "reject_rectification",
            Command::DecideExtension(_) => "decide_extension",
            Command::RevisePlan(_) => "revise_plan",
            Command::PlaceHold(_) => "place_hold",
            Command::LiftHold(_) => "lift_hold",
            Command::CloseCycle(_) => "close_cycle",
            Command::ReopenCycle(_) => "reopen_cycle",
            Command::RecordNoticeDue(_) => "record_notice_due",
            Command::RecordNoticeSent(_) => "record_notice_sent",
            Command::RecordNoticeFailed(_) => "record_notice_failed",
        }
    }

    /// Departments the command names (to be checked against the directory).
    pub fn named_departments(&self) -> Vec<&DepartmentCode> {
        match self {
            Command::RegisterProject(RegisterProject {
                lead_department,
                supporting_departments,
                ..
            }) => std::iter::once(lead_department)
                .chain(supporting_departments)
                .collect(),
            Command::ScheduleMilestone(ScheduleMilestone {
                responsible_departments,
                ..
            }) => responsible_departments.iter().collect(),
            Command::AssignDepartment(AssignDepartment { department, .. })
            | Command::OrderRectification(OrderRectification { department, .. }) => {
                vec![department]
            }
            _ => vec![],
        }
    }

    /// The calendar dates the command names (to be checked against the working calendar).
    pub fn named_dates(&self) -> Vec<NaiveDate> {
        match self {
            Command::ScheduleMilestone(ScheduleMilestone { due_date, .. }) => vec![*due_date],
            Command::RequestExtension(RequestExtension { new_due_date, .. }) => vec![*new_due_date],
            Command::RecordInspection(RecordInspection { inspected_on, .. }) => vec![*inspected_on],
            Command::OrderRectification(OrderRectification { deadline, .. }) => vec![*deadline],
            Command::PlaceHold(PlaceHold { expires_on, .. }) => vec![*expires_on],
            Command::RevisePlan(RevisePlan {
                change: PlanChange::DueDate { to, .. },
                ..
            }) => vec![*to],
            _ => vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn milestone() -> MilestoneId {
        MilestoneId("0190a0b0-0000-7000-8000-000000000001".parse().unwrap())
    }

    /// A newtype variant over a struct is tagged exactly as the struct variant was: the
    /// payload's fields sit beside `command`, so logged requests read back unchanged.
    #[test]
    fn a_command_is_written_exactly_as_before_payload_structs() {
        let command = Command::ScheduleMilestone(ScheduleMilestone {
            milestone_id: milestone(),
            title: "试生产".into(),
            due_date: NaiveDate::from_ymd_opt(2018, 6, 30).unwrap(),
            responsible_departments: vec![],
        });
        let text = serde_json::to_string(&command).unwrap();
        assert_eq!(
            text,
            r#"{"command":"schedule_milestone","milestone_id":"0190a0b0-0000-7000-8000-000000000001","title":"试生产","due_date":"2018-06-30","responsible_departments":[]}"#
        );
        assert_eq!(serde_json::from_str::<Command>(&text).unwrap(), command);
    }

    #[test]
    fn unit_and_notice_commands_keep_their_shape() {
        assert_eq!(
            serde_json::to_value(Command::SignAssignment).unwrap(),
            json!({"command": "sign_assignment"})
        );
        let revise = Command::RevisePlan(RevisePlan {
            change: PlanChange::DueDate {
                milestone_id: milestone(),
                to: NaiveDate::from_ymd_opt(2018, 9, 30).unwrap(),
            },
            reason: "征地延后".into(),
        });
        assert_eq!(
            serde_json::to_value(&revise).unwrap(),
            json!({"command": "revise_plan", "reason": "征地延后",
                "change": {"kind": "due_date", "milestone_id": milestone(), "to": "2018-09-30"}})
        );
    }

    /// The payloads' text fields are text types: a blank or hidden text cannot be a command.
    #[test]
    fn a_command_cannot_hold_blank_or_hidden_text() {
        for bad in [
            json!({"command": "close_cycle", "reason": " "}),
            json!({"command": "reopen_cycle", "instruction": "a\u{202E}b"}),
            json!({"command": "return_assignment", "reason": "a\u{0}b"}),
        ] {
            assert!(
                serde_json::from_value::<Command>(bad.clone()).is_err(),
                "{bad}"
            );
        }
        let ok = json!({"command": "close_cycle", "reason": "年度任务完成"});
        assert!(serde_json::from_value::<Command>(ok).is_ok());
    }
}

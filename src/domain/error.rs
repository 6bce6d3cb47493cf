//! The rules of the loop, by name: each error says which rule a command broke. The service
//! maps them to problem+json with a stable `type` (the [`DomainError::code`]).

use super::values::{DepartmentCode, FindingId, MilestoneId, RectificationId, TargetId};

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum DomainError {
    #[error("the project is not registered")]
    ProjectNotRegistered,
    #[error("the project is already registered")]
    ProjectAlreadyRegistered,
    #[error("the project's cycle is closed; re-open it on a new instruction first")]
    CycleClosed,
    #[error("the project's cycle is not closed")]
    CycleNotClosed,
    #[error("{0} must not be empty")]
    FieldRequired(&'static str),
    #[error("a reason is required")]
    ReasonRequired,
    #[error("department {0} cannot be both lead and supporting")]
    LeadAlsoSupporting(DepartmentCode),
    #[error("department {0} is already assigned to the project")]
    DepartmentAlreadyAssigned(DepartmentCode),
    #[error("department {0} is not assigned to the project")]
    DepartmentNotAssigned(DepartmentCode),
    #[error("the project already has a lead department")]
    LeadAlreadyAssigned,
    #[error("the caller acts for no department assigned to this project")]
    NotAssignedDepartment,
    #[error("the assignment was already signed for")]
    AssignmentAlreadySigned,
    #[error("the assignment was returned as not this department's")]
    AssignmentWasReturned,
    #[error("the assignment must be signed for first")]
    AssignmentNotSigned,
    #[error("milestone {0} is already scheduled")]
    MilestoneAlreadyScheduled(MilestoneId),
    #[error("no milestone {0} in this project")]
    UnknownMilestone(MilestoneId),
    #[error("target {0} is already set")]
    TargetAlreadySet(TargetId),
    #[error("no target {0} in this project")]
    UnknownTarget(TargetId),
    #[error("a target value must be a positive number")]
    TargetValueInvalid,
    #[error("year {0} is outside the plan's horizon (2016–2030)")]
    YearOutOfRange(i32),
    #[error("only a department responsible for the milestone may do this")]
    NotResponsibleDepartment,
    #[error("only the lead department may claim completion")]
    OnlyLeadDepartmentMayClaim,
    #[error("percent must be between 0 and 100, not {0}")]
    PercentOutOfRange(u8),
    #[error("the milestone is already accepted as complete")]
    CompletionAlreadyAccepted,
    #[error("a completion claim is already under review")]
    CompletionAlreadyClaimed,
    #[error("no completion claim is under review")]
    ClaimNotMade,
    #[error("the new due date must be after the current one")]
    ExtensionNotLater,
    #[error("an extension request is already pending")]
    ExtensionAlreadyPending,
    #[error("no extension request is pending")]
    NoExtensionPending,
    #[error("finding {0} is already recorded")]
    FindingAlreadyRecorded(FindingId),
    #[error("no finding {0} in this project")]
    UnknownFinding(FindingId),
    #[error("rectification {0} is already ordered")]
    RectificationAlreadyOrdered(RectificationId),
    #[error("no rectification {0} in this project")]
    UnknownRectification(RectificationId),
    #[error("only the department the rectification was ordered to may report it")]
    NotRectifyingDepartment,
    #[error("the rectification is not reported yet")]
    RectificationNotReported,
    #[error("the rectification is already verified")]
    RectificationAlreadyVerified,
    #[error("an assessment needs at least one scored item")]
    EmptyScoreBreakdown,
    #[error("there is already such a hold")]
    AlreadyOnHold,
    #[error("there is no such hold")]
    NotOnHold,
    #[error("a hold must expire after today")]
    HoldExpiryNotInFuture,
    #[error("notice {0} was already recorded")]
    NoticeAlreadyRecorded(String),
    #[error("notice {0} was never due")]
    UnknownNotice(String),
    #[error("a deadline must be after today")]
    DeadlineNotInFuture,
    #[error("the work is suspended or parked until {0}")]
    OnHold(chrono::NaiveDate),
    #[error("a number must be finite")]
    NumberNotFinite,
}

impl DomainError {
    /// A stable, URL-safe name of the broken rule.
    pub fn code(&self) -> String {
        let debug = format!("{self:?}");
        let name = debug.split(['(', ' ', '{']).next().unwrap_or_default();
        let mut code = String::new();
        for (i, c) in name.chars().enumerate() {
            if c.is_ascii_uppercase() && i > 0 {
                code.push('-');
            }
            code.push(c.to_ascii_lowercase());
        }
        code
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_kebab_case_rule_names() {
        assert_eq!(
            DomainError::CompletionAlreadyAccepted.code(),
            "completion-already-accepted"
        );
        assert_eq!(
            DomainError::PercentOutOfRange(120).code(),
            "percent-out-of-range"
        );
        assert_eq!(DomainError::FieldRequired("name").code(), "field-required");
    }
}

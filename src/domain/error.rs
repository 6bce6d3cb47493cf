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
    #[error("the inspection is dated {0}, after today")]
    InspectionInFuture(chrono::NaiveDate),
    #[error("a project may have at most {max} {what}")]
    TooMany { what: &'static str, max: usize },
    #[error("a number must be finite")]
    NumberNotFinite,
    #[error("{value} is out of range: at most {max} in size")]
    NumberOutOfRange { value: f64, max: f64 },
}

/// What kind of refusal a rule is; the service maps each to one HTTP status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleKind {
    /// The command itself is not acceptable (422).
    Invalid,
    /// The caller may not do this here (403).
    Forbidden,
    /// The command names something the project does not have (404).
    Missing,
    /// The project is not in a state that allows it (409).
    Conflict,
}

impl DomainError {
    /// The rule's stable, URL-safe name (the problem `type`) and its kind. Written out per
    /// rule, never derived from the variant's name, so a renamed variant cannot change the
    /// contract; the match has no wildcard, so a new rule must choose both.
    pub fn contract(&self) -> (&'static str, RuleKind) {
        use DomainError::*;
        use RuleKind::*;
        match self {
            ProjectNotRegistered => ("project-not-registered", Missing),
            ProjectAlreadyRegistered => ("project-already-registered", Conflict),
            CycleClosed => ("cycle-closed", Conflict),
            CycleNotClosed => ("cycle-not-closed", Conflict),
            FieldRequired(_) => ("field-required", Invalid),
            LeadAlsoSupporting(_) => ("lead-also-supporting", Invalid),
            DepartmentAlreadyAssigned(_) => ("department-already-assigned", Conflict),
            DepartmentNotAssigned(_) => ("department-not-assigned", Conflict),
            LeadAlreadyAssigned => ("lead-already-assigned", Conflict),
            NotAssignedDepartment => ("not-assigned-department", Forbidden),
            AssignmentAlreadySigned => ("assignment-already-signed", Conflict),
            AssignmentWasReturned => ("assignment-was-returned", Conflict),
            AssignmentNotSigned => ("assignment-not-signed", Conflict),
            MilestoneAlreadyScheduled(_) => ("milestone-already-scheduled", Conflict),
            UnknownMilestone(_) => ("unknown-milestone", Missing),
            TargetAlreadySet(_) => ("target-already-set", Conflict),
            UnknownTarget(_) => ("unknown-target", Missing),
            TargetValueInvalid => ("target-value-invalid", Invalid),
            YearOutOfRange(_) => ("year-out-of-range", Invalid),
            NotResponsibleDepartment => ("not-responsible-department", Forbidden),
            OnlyLeadDepartmentMayClaim => ("only-lead-department-may-claim", Forbidden),
            CompletionAlreadyAccepted => ("completion-already-accepted", Conflict),
            CompletionAlreadyClaimed => ("completion-already-claimed", Conflict),
            ClaimNotMade => ("claim-not-made", Conflict),
            ExtensionNotLater => ("extension-not-later", Invalid),
            ExtensionAlreadyPending => ("extension-already-pending", Conflict),
            NoExtensionPending => ("no-extension-pending", Conflict),
            FindingAlreadyRecorded(_) => ("finding-already-recorded", Conflict),
            UnknownFinding(_) => ("unknown-finding", Missing),
            RectificationAlreadyOrdered(_) => ("rectification-already-ordered", Conflict),
            UnknownRectification(_) => ("unknown-rectification", Missing),
            NotRectifyingDepartment => ("not-rectifying-department", Forbidden),
            RectificationNotReported => ("rectification-not-reported", Conflict),
            RectificationAlreadyVerified => ("rectification-already-verified", Conflict),
            EmptyScoreBreakdown => ("empty-score-breakdown", Invalid),
            AlreadyOnHold => ("already-on-hold", Conflict),
            NotOnHold => ("not-on-hold", Conflict),
            HoldExpiryNotInFuture => ("hold-expiry-not-in-future", Invalid),
            NoticeAlreadyRecorded(_) => ("notice-already-recorded", Conflict),
            UnknownNotice(_) => ("unknown-notice", Conflict),
            DeadlineNotInFuture => ("deadline-not-in-future", Invalid),
            OnHold(_) => ("on-hold", Conflict),
            InspectionInFuture(_) => ("inspection-in-future", Invalid),
            TooMany { .. } => ("too-many", Conflict),
            NumberNotFinite => ("number-not-finite", Invalid),
            NumberOutOfRange { .. } => ("number-out-of-range", Invalid),
        }
    }

    /// The rule's stable name, e.g. `completion-already-accepted`.
    pub fn code(&self) -> &'static str {
        self.contract().0
    }

    pub fn kind(&self) -> RuleKind {
        self.contract().1
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
            DomainError::FieldRequired("responsible_departments").code(),
            "field-required"
        );
    }

    #[test]
    fn a_number_that_is_not_finite_is_invalid_input_not_a_conflict() {
        assert_eq!(DomainError::NumberNotFinite.kind(), RuleKind::Invalid);
        assert_eq!(
            DomainError::OnHold(chrono::NaiveDate::MIN).kind(),
            RuleKind::Conflict
        );
    }
}

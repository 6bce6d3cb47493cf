//! `decide`: every rule of the loop that depends on a project's state. Given the state, a
//! command and the context (who, when), it answers the events to record or the rule broken.
//! Which *role* may issue which command is policy, checked by the service before this.

use super::commands::*;
use super::error::DomainError;
use super::events::*;
use super::state::*;
use super::values::*;

type Decided = Result<Vec<Event>, DomainError>;

pub fn decide(state: &ProjectState, command: Command, ctx: &Context) -> Decided {
    if let Command::RegisterProject(_) = command {
        return register(state, command);
    }
    if !state.is_registered() {
        return Err(DomainError::ProjectNotRegistered);
    }
    if state.closed && !matches!(command, Command::ReopenCycle(_)) && !is_clock_fact(&command) {
        return Err(DomainError::CycleClosed);
    }
    match command {
        Command::RegisterProject(_) => unreachable!("handled above"),
        Command::ScheduleMilestone(_) | Command::SetTarget(_) | Command::AssignDepartment(_) => {
            plan(state, command)
        }
        Command::SignAssignment | Command::ReturnAssignment(_) => assignment(state, command, ctx),
        Command::ReportProgress(_) | Command::ClaimCompletion(_) | Command::RequestExtension(_) => {
            implement(state, command, ctx)
        }
        Command::AcceptCompletion(_) | Command::ReturnCompletion(_) => review(state, command, ctx),
        Command::RecordInspection(_) | Command::OrderRectification(_) => {
            inspect(state, command, ctx)
        }
        Command::RecordAssessment(_) | Command::RateConfidence(_) => assess(command, ctx),
        Command::ReportRectification(_)
        | Command::VerifyRectification(_)
        | Command::RejectRectification(_) => rectify(state, command, ctx),
        Command::DecideExtension(_) | Command::RevisePlan(_) => improve(state, command, ctx),
        Command::PlaceHold(_) | Command::LiftHold(_) => hold(state, command, ctx),
        Command::CloseCycle(CloseCycle { reason }) => {
            require_reason(&reason)?;
            Ok(vec![Event::CycleClosed(CycleClosed { reason })])
        }
        Command::ReopenCycle(ReopenCycle { instruction }) => {
            if !state.closed {
                return Err(DomainError::CycleNotClosed);
            }
            require("instruction", &instruction)?;
            Ok(vec![Event::CycleReopened(CycleReopened { instruction })])
        }
        Command::RecordNoticeDue(_)
        | Command::RecordNoticeSent(_)
        | Command::RecordNoticeFailed(_) => clock_fact(state, command, ctx),
    }
}

fn is_clock_fact(command: &Command) -> bool {
    matches!(
        command,
        Command::RecordNoticeDue(_) | Command::RecordNoticeSent(_) | Command::RecordNoticeFailed(_)
    )
}

fn require(field: &'static str, value: &str) -> Result<(), DomainError> {
    if value.trim().is_empty() {
        Err(DomainError::FieldRequired(field))
    } else {
        Ok(())
    }
}

fn require_reason(reason: &str) -> Result<(), DomainError> {
    if reason.trim().is_empty() {
        Err(DomainError::ReasonRequired)
    } else {
        Ok(())
    }
}

/// A hold (suspension or parking) in force today on the project or on the milestone: it
/// stops the clock, so no claim, extension or notice goes through until it expires or is
/// lifted.
fn check_not_held(state: &ProjectState, m: &Milestone, ctx: &Context) -> Result<(), DomainError> {
    match state.hold_on(m, local_date(ctx.now)) {
        Some(h) => Err(DomainError::OnHold(h.expires_on)),
        None => Ok(()),
    }
}

/// The largest magnitude of an indicator value, a target or an actual: a trillion covers
/// any plan's figures in 元 or tonnes, and keeps sums and percentages exact enough.
pub const MAX_AMOUNT: f64 = 1e12;
/// The most points one assessment item may add or deduct: rubrics score out of 100.
pub const MAX_ITEM_POINTS: f64 = 100.0;

fn check_finite(value: f64) -> Result<(), DomainError> {
    check_within(value, MAX_AMOUNT)
}

fn check_within(value: f64, max: f64) -> Result<(), DomainError> {
    if !value.is_finite() {
        Err(DomainError::NumberNotFinite)
    } else if value.abs() > max {
        Err(DomainError::NumberOutOfRange { value, max })
    } else {
        Ok(())
    }
}

fn milestone(state: &ProjectState, id: MilestoneId) -> Result<&Milestone, DomainError> {
    state
        .milestones
        .get(&id)
        .ok_or(DomainError::UnknownMilestone(id))
}

/// The caller's department, which must be assigned to the project and not have returned it.
fn acting_department<'a>(
    state: &'a ProjectState,
    ctx: &Context,
) -> Result<(&'a DepartmentCode, &'a Assignment), DomainError> {
    let dept = ctx
        .actor
        .dept
        .as_ref()
        .ok_or(DomainError::NotAssignedDepartment)?;
    state
        .departments
        .get_key_value(dept)
        .ok_or(DomainError::NotAssignedDepartment)
}

/// The caller's department, which must have signed for the project.
fn signed_department<'a>(
    state: &'a ProjectState,
    ctx: &Context,
) -> Result<(&'a DepartmentCode, &'a Assignment), DomainError> {
    let (dept, a) = acting_department(state, ctx)?;
    match a.status {
        AssignmentStatus::Signed => Ok((dept, a)),
        AssignmentStatus::Assigned => Err(DomainError::AssignmentNotSigned),
        AssignmentStatus::Returned(_) => Err(DomainError::AssignmentWasReturned),
    }
}

fn register(state: &ProjectState, command: Command) -> Decided {
    let Command::RegisterProject(RegisterProject {
        project_id,
        name,
        industry,
        city,
        lead_department,
        mut supporting_departments,
        description,
        source_section,
    }) = command
    else {
        unreachable!()
    };
    if state.is_registered() {
        return Err(DomainError::ProjectAlreadyRegistered);
    }
    require("name", &name)?;
    require("source_section", &source_section)?;
    if supporting_departments.contains(&lead_department) {
        return Err(DomainError::LeadAlsoSupporting(lead_department));
    }
    supporting_departments.sort();
    supporting_departments.dedup();
    Ok(vec![Event::ProjectRegistered(ProjectRegistered {
        project_id,
        name,
        industry,
        city,
        lead_department,
        supporting_departments,
        description,
        source_section,
    })])
}

fn plan(state: &ProjectState, command: Command) -> Decided {
    match command {
        Command::ScheduleMilestone(ScheduleMilestone {
            milestone_id,
            title,
            due_date,
            mut responsible_departments,
        }) => {
            if state.milestones.contains_key(&milestone_id) {
                return Err(DomainError::MilestoneAlreadyScheduled(milestone_id));
            }
            require("title", &title)?;
            if responsible_departments.is_empty() {
                return Err(DomainError::FieldRequired("responsible_departments"));
            }
            if let Some(d) = responsible_departments.iter().find(|d| !state.is_active(d)) {
                return Err(DomainError::DepartmentNotAssigned(d.clone()));
            }
            // Each department once, in the order given.
            let mut seen = std::collections::BTreeSet::new();
            responsible_departments.retain(|d| seen.insert(d.clone()));
            let e = MilestoneScheduled {
                milestone_id,
                title,
                due_date,
                responsible_departments,
            };
            Ok(vec![Event::MilestoneScheduled(e)])
        }
        Command::SetTarget(SetTarget {
            target_id,
            indicator,
            unit,
            target_value,
            year,
        }) => {
            if state.targets.contains_key(&target_id) {
                return Err(DomainError::TargetAlreadySet(target_id));
            }
            require("indicator", &indicator)?;
            require("unit", &unit)?;
            check_target_value(target_value)?;
            if !(2016..=2030).contains(&year) {
                return Err(DomainError::YearOutOfRange(year));
            }
            Ok(vec![Event::TargetSet(TargetSet {
                target_id,
                indicator,
                unit,
                target_value,
                year,
            })])
        }
        Command::AssignDepartment(AssignDepartment { department, role }) => {
            // A department that returned the assignment may be assigned again (转办 back).
            if state.is_active(&department) {
                return Err(DomainError::DepartmentAlreadyAssigned(department));
            }
            if role == DepartmentRole::Lead && state.lead_department().is_some() {
                return Err(DomainError::LeadAlreadyAssigned);
            }
            Ok(vec![Event::DepartmentAssigned(DepartmentAssigned {
                department,
                role,
            })])
        }
        _ => unreachable!("plan commands only"),
    }
}

fn check_target_value(value: f64) -> Result<(), DomainError> {
    if value.is_finite() && value > 0.0 {
        check_finite(value)
    } else {
        Err(DomainError::TargetValueInvalid)
    }
}

fn assignment(state: &ProjectState, command: Command, ctx: &Context) -> Decided {
    let (dept, a) = acting_department(state, ctx)?;
    match (&a.status, command) {
        (AssignmentStatus::Signed, _) => Err(DomainError::AssignmentAlreadySigned),
        (AssignmentStatus::Returned(_), _) => Err(DomainError::AssignmentWasReturned),
        (AssignmentStatus::Assigned, Command::SignAssignment) => {
            Ok(vec![Event::AssignmentSigned(AssignmentSigned {
                department: dept.clone(),
            })])
        }
        (AssignmentStatus::Assigned, Command::ReturnAssignment(ReturnAssignment { reason })) => {
            require_reason(&reason)?;
            let e = AssignmentReturned {
                department: dept.clone(),
                reason,
            };
            Ok(vec![Event::AssignmentReturned(e)])
        }
        _ => unreachable!("assignment commands only"),
    }
}

fn implement(state: &ProjectState, command: Command, ctx: &Context) -> Decided {
    let (dept, assignment) = signed_department(state, ctx)?;
    let department = dept.clone();
    match command {
        Command::ReportProgress(ReportProgress {
            milestone_id,
            percent,
            narrative,
            actuals,
            evidence,
        }) => {
            reportable_milestone(state, milestone_id, dept)?;
            if percent > 100 {
                return Err(DomainError::PercentOutOfRange(percent));
            }
            require("narrative", &narrative)?;
            if let Some(a) = actuals
                .iter()
                .find(|a| !state.targets.contains_key(&a.target_id))
            {
                return Err(DomainError::UnknownTarget(a.target_id));
            }
            actuals.iter().try_for_each(|a| check_finite(a.value))?;
            let e = ProgressReported {
                milestone_id,
                department,
                reported_at: ctx.now,
                percent,
                narrative,
                actuals,
                evidence,
            };
            Ok(vec![Event::ProgressReported(e)])
        }
        Command::ClaimCompletion(ClaimCompletion {
            milestone_id,
            narrative,
            evidence,
        }) => {
            let m = open_milestone(state, milestone_id)?;
            // The lead answers for the whole project, joint milestones included.
            if assignment.role != DepartmentRole::Lead {
                return Err(DomainError::OnlyLeadDepartmentMayClaim);
            }
            if m.stage == MilestoneStage::Claimed {
                return Err(DomainError::CompletionAlreadyClaimed);
            }
            check_not_held(state, m, ctx)?;
            require("narrative", &narrative)?;
            let e = CompletionClaimed {
                milestone_id,
                department,
                claimed_at: ctx.now,
                narrative,
                evidence,
            };
            Ok(vec![Event::CompletionClaimed(e)])
        }
        Command::RequestExtension(RequestExtension {
            milestone_id,
            new_due_date,
            reason,
        }) => {
            let m = reportable_milestone(state, milestone_id, dept)?;
            if m.pending_extension.is_some() {
                return Err(DomainError::ExtensionAlreadyPending);
            }
            check_not_held(state, m, ctx)?;
            if new_due_date <= m.due {
                return Err(DomainError::ExtensionNotLater);
            }
            require_reason(&reason)?;
            let e = ExtensionRequested {
                milestone_id,
                department,
                requested_at: ctx.now,
                due_date: m.due,
                new_due_date,
                reason,
                // Filed after the end of the due date: late, whatever the decision.
                late: local_date(ctx.now) > m.due,
            };
            Ok(vec![Event::ExtensionRequested(e)])
        }
        _ => unreachable!("implement commands only"),
    }
}

/// A milestone the department may report on or ask to extend: open, its responsibility, and
/// not under review (a claim is being decided).
fn reportable_milestone<'a>(
    state: &'a ProjectState,
    id: MilestoneId,
    dept: &DepartmentCode,
) -> Result<&'a Milestone, DomainError> {
    let m = open_milestone(state, id)?;
    if !m.responsible.contains(dept) {
        return Err(DomainError::NotResponsibleDepartment);
    }
    if m.stage == MilestoneStage::Claimed {
        return Err(DomainError::CompletionAlreadyClaimed);
    }
    Ok(m)
}

/// A milestone that still takes reports: scheduled and not yet accepted.
fn open_milestone(state: &ProjectState, id: MilestoneId) -> Result<&Milestone, DomainError> {
    let m = milestone(state, id)?;
    if m.stage == MilestoneStage::Accepted {
        return Err(DomainError::CompletionAlreadyAccepted);
    }
    Ok(m)
}

fn review(state: &ProjectState, command: Command, ctx: &Context) -> Decided {
    let inspector = ctx.actor.sub.clone();
    match command {
        Command::AcceptCompletion(AcceptCompletion { milestone_id }) => {
            pending_claim(state, milestone_id)?;
            Ok(vec![Event::CompletionAccepted(CompletionAccepted {
                milestone_id,
                inspector,
            })])
        }
        Command::ReturnCompletion(ReturnCompletion {
            milestone_id,
            reason,
        }) => {
            pending_claim(state, milestone_id)?;
            require_reason(&reason)?;
            let e = CompletionReturned {
                milestone_id,
                inspector,
                reason,
            };
            Ok(vec![Event::CompletionReturned(e)])
        }
        _ => unreachable!("review commands only"),
    }
}

fn pending_claim(state: &ProjectState, id: MilestoneId) -> Result<(), DomainError> {
    match milestone(state, id)?.stage {
        MilestoneStage::Claimed => Ok(()),
        MilestoneStage::Accepted => Err(DomainError::CompletionAlreadyAccepted),
        _ => Err(DomainError::ClaimNotMade),
    }
}

fn inspect(state: &ProjectState, command: Command, ctx: &Context) -> Decided {
    match command {
        Command::RecordInspection(RecordInspection {
            inspected_on,
            on_site,
            summary,
            findings,
        }) => {
            require("summary", &summary)?;
            for (i, f) in findings.iter().enumerate() {
                let repeated = findings[..i].iter().any(|g| g.finding_id == f.finding_id);
                if repeated || state.findings.contains_key(&f.finding_id) {
                    return Err(DomainError::FindingAlreadyRecorded(f.finding_id));
                }
                require("finding description", &f.description)?;
                if let Some(m) = f.milestone_id {
                    milestone(state, m)?;
                }
            }
            let e = InspectionRecorded {
                inspector: ctx.actor.sub.clone(),
                inspected_on,
                on_site,
                summary,
                findings,
            };
            Ok(vec![Event::InspectionRecorded(e)])
        }
        Command::OrderRectification(OrderRectification {
            rectification_id,
            finding_id,
            department,
            deadline,
            instructions,
        }) => {
            if state.rectifications.contains_key(&rectification_id) {
                return Err(DomainError::RectificationAlreadyOrdered(rectification_id));
            }
            if !state.findings.contains_key(&finding_id) {
                return Err(DomainError::UnknownFinding(finding_id));
            }
            if !state.is_active(&department) {
                return Err(DomainError::DepartmentNotAssigned(department));
            }
            if deadline <= local_date(ctx.now) {
                return Err(DomainError::DeadlineNotInFuture);
            }
            require("instructions", &instructions)?;
            let e = RectificationOrdered {
                rectification_id,
                finding_id,
                department,
                deadline,
                instructions,
            };
            Ok(vec![Event::RectificationOrdered(e)])
        }
        _ => unreachable!("inspect commands only"),
    }
}

fn assess(command: Command, ctx: &Context) -> Decided {
    match command {
        Command::RecordAssessment(RecordAssessment {
            period,
            rubric_version,
            breakdown,
            grade,
        }) => {
            require("period", &period)?;
            require("rubric_version", &rubric_version)?;
            require("grade", &grade)?;
            if breakdown.is_empty() {
                return Err(DomainError::EmptyScoreBreakdown);
            }
            breakdown
                .iter()
                .try_for_each(|i| check_within(i.points, MAX_ITEM_POINTS))?;
            let score: f64 = breakdown.iter().map(|i| i.points).sum();
            check_finite(score)?;
            let e = AssessmentRecorded {
                period,
                rubric_version,
                breakdown,
                score,
                grade,
                confirmed_by: ctx.actor.sub.clone(),
            };
            Ok(vec![Event::AssessmentRecorded(e)])
        }
        Command::RateConfidence(RateConfidence {
            rating,
            assessor,
            comment,
        }) => {
            require("assessor", &assessor)?;
            Ok(vec![Event::ConfidenceRated(ConfidenceRated {
                rating,
                assessor,
                comment,
            })])
        }
        _ => unreachable!("assess commands only"),
    }
}

fn rectify(state: &ProjectState, command: Command, ctx: &Context) -> Decided {
    let id = match &command {
        Command::ReportRectification(ReportRectification {
            rectification_id, ..
        })
        | Command::VerifyRectification(VerifyRectification { rectification_id })
        | Command::RejectRectification(RejectRectification {
            rectification_id, ..
        }) => *rectification_id,
        _ => unreachable!("rectification commands only"),
    };
    let r = state
        .rectifications
        .get(&id)
        .ok_or(DomainError::UnknownRectification(id))?;
    if r.stage == RectificationStage::Verified {
        return Err(DomainError::RectificationAlreadyVerified);
    }
    let inspector = ctx.actor.sub.clone();
    match command {
        Command::ReportRectification(ReportRectification {
            rectification_id,
            narrative,
            evidence,
        }) => {
            if ctx.actor.dept.as_ref() != Some(&r.department) {
                return Err(DomainError::NotRectifyingDepartment);
            }
            if !state.is_active(&r.department) {
                return Err(DomainError::AssignmentWasReturned);
            }
            require("narrative", &narrative)?;
            let department = r.department.clone();
            let e = RectificationReported {
                rectification_id,
                department,
                narrative,
                evidence,
            };
            Ok(vec![Event::RectificationReported(e)])
        }
        Command::VerifyRectification(VerifyRectification { rectification_id }) => {
            if r.stage != RectificationStage::Reported {
                return Err(DomainError::RectificationNotReported);
            }
            Ok(vec![Event::RectificationVerified(RectificationVerified {
                rectification_id,
                inspector,
            })])
        }
        Command::RejectRectification(RejectRectification {
            rectification_id,
            reason,
        }) => {
            if r.stage != RectificationStage::Reported {
                return Err(DomainError::RectificationNotReported);
            }
            require_reason(&reason)?;
            let e = RectificationRejected {
                rectification_id,
                inspector,
                reason,
            };
            Ok(vec![Event::RectificationRejected(e)])
        }
        _ => unreachable!(),
    }
}

fn improve(state: &ProjectState, command: Command, ctx: &Context) -> Decided {
    match command {
        Command::DecideExtension(DecideExtension {
            milestone_id,
            approve,
            reason,
        }) => {
            // Once accepted, a milestone's lateness is settled: no decision may rewrite it.
            let m = open_milestone(state, milestone_id)?;
            let request = m
                .pending_extension
                .as_ref()
                .ok_or(DomainError::NoExtensionPending)?;
            require_reason(&reason)?;
            if approve && request.new_due_date <= m.due {
                // The plan was revised past the requested date meanwhile.
                return Err(DomainError::ExtensionNotLater);
            }
            let (decision, due_date) = match approve {
                true => (Decision::Approved, request.new_due_date),
                false => (Decision::Rejected, m.due),
            };
            let decided_by = ctx.actor.sub.clone();
            let e = ExtensionDecided {
                milestone_id,
                decision,
                due_date,
                reason,
                decided_by,
            };
            Ok(vec![Event::ExtensionDecided(e)])
        }
        Command::RevisePlan(RevisePlan { change, reason }) => {
            require_reason(&reason)?;
            let revision = match change {
                PlanChange::DueDate { milestone_id, to } => {
                    let from = open_milestone(state, milestone_id)?.due;
                    Revision::DueDate {
                        milestone_id,
                        from,
                        to,
                    }
                }
                PlanChange::TargetValue { target_id, to } => {
                    let t = state
                        .targets
                        .get(&target_id)
                        .ok_or(DomainError::UnknownTarget(target_id))?;
                    check_target_value(to)?;
                    check_finite(to)?;
                    Revision::TargetValue {
                        target_id,
                        from: t.value,
                        to,
                    }
                }
            };
            Ok(vec![Event::PlanRevised(PlanRevised { revision, reason })])
        }
        _ => unreachable!("improve commands only"),
    }
}

fn hold(state: &ProjectState, command: Command, ctx: &Context) -> Decided {
    // A hold past its expiry no longer counts (it may still be lifted for the record).
    let today = local_date(ctx.now);
    let current = |milestone_id: Option<MilestoneId>| -> Result<Option<&HoldPlaced>, DomainError> {
        Ok(match milestone_id {
            Some(id) => milestone(state, id)?.hold.as_ref(),
            None => state.hold.as_ref(),
        })
    };
    match command {
        Command::PlaceHold(PlaceHold {
            kind,
            milestone_id,
            approver,
            reason,
            expires_on,
        }) => {
            if current(milestone_id)?.is_some_and(|h| h.expires_on >= today) {
                return Err(DomainError::AlreadyOnHold);
            }
            require("approver", &approver)?;
            require_reason(&reason)?;
            if expires_on <= local_date(ctx.now) {
                return Err(DomainError::HoldExpiryNotInFuture);
            }
            let e = HoldPlaced {
                kind,
                milestone_id,
                approver,
                reason,
                expires_on,
            };
            Ok(vec![Event::HoldPlaced(e)])
        }
        Command::LiftHold(LiftHold {
            kind,
            milestone_id,
            approver,
            reason,
        }) => {
            if current(milestone_id)?.map(|h| h.kind) != Some(kind) {
                return Err(DomainError::NotOnHold);
            }
            require("approver", &approver)?;
            require_reason(&reason)?;
            Ok(vec![Event::HoldLifted(HoldLifted {
                kind,
                milestone_id,
                approver,
                reason,
            })])
        }
        _ => unreachable!("hold commands only"),
    }
}

fn clock_fact(state: &ProjectState, command: Command, ctx: &Context) -> Decided {
    match command {
        Command::RecordNoticeDue(e) => {
            let m = open_milestone(state, e.milestone_id)?;
            check_not_held(state, m, ctx)?;
            if state.notices_due.contains(&e.dedup_key) {
                return Err(DomainError::NoticeAlreadyRecorded(e.dedup_key));
            }
            Ok(vec![Event::NoticeDue(e)])
        }
        Command::RecordNoticeSent(e) => {
            awaiting_delivery(state, &e.dedup_key)?;
            Ok(vec![Event::NoticeSent(e)])
        }
        Command::RecordNoticeFailed(e) => {
            awaiting_delivery(state, &e.dedup_key)?;
            Ok(vec![Event::NoticeFailed(e)])
        }
        _ => unreachable!("clock facts only"),
    }
}

/// A notice can be sent or fail only once decided due, and not after it was sent.
fn awaiting_delivery(state: &ProjectState, key: &str) -> Result<(), DomainError> {
    if !state.notices_due.contains(key) {
        return Err(DomainError::UnknownNotice(key.to_string()));
    }
    if state.notices_sent.contains(key) {
        return Err(DomainError::NoticeAlreadyRecorded(key.to_string()));
    }
    Ok(())
}

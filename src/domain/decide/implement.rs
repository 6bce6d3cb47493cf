//! The rules of 落实 implement: a department signs for or returns its assignment, reports
//! progress, claims a milestone complete, asks for more time. Reached from [`super::decide`].

use super::*;

/// The caller's department while its assignment awaits an answer: signed or returned, it
/// has given its answer already.
fn unanswered_assignment<'a>(
    state: &'a ProjectState,
    ctx: &Context,
) -> Result<&'a DepartmentCode, DomainError> {
    let (dept, a) = acting_department(state, ctx)?;
    match a.status {
        AssignmentStatus::Signed => Err(DomainError::AssignmentAlreadySigned),
        AssignmentStatus::Returned(_) => Err(DomainError::AssignmentWasReturned),
        AssignmentStatus::Assigned => Ok(dept),
    }
}

pub(super) fn sign_assignment(state: &ProjectState, ctx: &Context) -> Decided {
    let department = unanswered_assignment(state, ctx)?.clone();
    Ok(vec![Event::AssignmentSigned(AssignmentSigned {
        department,
    })])
}

impl Decide for ReturnAssignment {
    fn decide(self, state: &ProjectState, ctx: &Context) -> Decided {
        let department = unanswered_assignment(state, ctx)?.clone();
        let e = AssignmentReturned {
            department,
            reason: self.reason.into(),
        };
        Ok(vec![Event::AssignmentReturned(e)])
    }
}

impl Decide for ReportProgress {
    fn decide(self, state: &ProjectState, ctx: &Context) -> Decided {
        let (dept, _) = signed_department(state, ctx)?;
        let ReportProgress {
            milestone_id,
            percent,
            narrative,
            actuals,
            evidence,
        } = self;
        reportable_milestone(state, milestone_id, dept)?;
        if let Some(a) = actuals
            .iter()
            .find(|a| !state.targets.contains_key(&a.target_id))
        {
            return Err(DomainError::UnknownTarget(a.target_id));
        }
        actuals.iter().try_for_each(|a| check_finite(a.value))?;
        let e = ProgressReported {
            milestone_id,
            department: dept.clone(),
            reported_at: ctx.now,
            percent: percent.get(),
            narrative: narrative.into(),
            actuals,
            evidence: texts(evidence),
        };
        Ok(vec![Event::ProgressReported(e)])
    }
}

impl Decide for ClaimCompletion {
    fn decide(self, state: &ProjectState, ctx: &Context) -> Decided {
        let (dept, assignment) = signed_department(state, ctx)?;
        let ClaimCompletion {
            milestone_id,
            narrative,
            evidence,
        } = self;
        let m = open_milestone(state, milestone_id)?;
        // The lead answers for the whole project, joint milestones included.
        if assignment.role != DepartmentRole::Lead {
            return Err(DomainError::OnlyLeadDepartmentMayClaim);
        }
        if m.stage == MilestoneStage::Claimed {
            return Err(DomainError::CompletionAlreadyClaimed);
        }
        check_not_held(state, m, ctx)?;
        let e = CompletionClaimed {
            milestone_id,
            department: dept.clone(),
            claimed_at: ctx.now,
            narrative: narrative.into(),
            evidence: texts(evidence),
        };
        Ok(vec![Event::CompletionClaimed(e)])
    }
}

impl Decide for RequestExtension {
    fn decide(self, state: &ProjectState, ctx: &Context) -> Decided {
        let (dept, _) = signed_department(state, ctx)?;
        let RequestExtension {
            milestone_id,
            new_due_date,
            reason,
        } = self;
        let m = reportable_milestone(state, milestone_id, dept)?;
        if m.pending_extension.is_some() {
            return Err(DomainError::ExtensionAlreadyPending);
        }
        check_not_held(state, m, ctx)?;
        if new_due_date <= m.due {
            return Err(DomainError::ExtensionNotLater);
        }
        let e = ExtensionRequested {
            milestone_id,
            department: dept.clone(),
            requested_at: ctx.now,
            due_date: m.due,
            new_due_date,
            reason: reason.into(),
            // Filed after the end of the due date: late, whatever the decision.
            late: local_date(ctx.now) > m.due,
        };
        Ok(vec![Event::ExtensionRequested(e)])
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

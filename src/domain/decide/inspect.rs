//! The rules of 督查 inspect: an inspector accepts or returns a completion claim, records an
//! inspection with its findings, orders a finding rectified. Reached from [`super::decide`].

use super::*;

impl Decide for AcceptCompletion {
    fn decide(self, state: &ProjectState, ctx: &Context) -> Decided {
        pending_claim(state, self.milestone_id)?;
        Ok(vec![Event::CompletionAccepted(CompletionAccepted {
            milestone_id: self.milestone_id,
            inspector: ctx.actor.sub.clone(),
        })])
    }
}

impl Decide for ReturnCompletion {
    fn decide(self, state: &ProjectState, ctx: &Context) -> Decided {
        pending_claim(state, self.milestone_id)?;
        let e = CompletionReturned {
            milestone_id: self.milestone_id,
            inspector: ctx.actor.sub.clone(),
            reason: self.reason.into(),
        };
        Ok(vec![Event::CompletionReturned(e)])
    }
}

fn pending_claim(state: &ProjectState, id: MilestoneId) -> Result<(), DomainError> {
    match milestone(state, id)?.stage {
        MilestoneStage::Claimed => Ok(()),
        MilestoneStage::Accepted => Err(DomainError::CompletionAlreadyAccepted),
        _ => Err(DomainError::ClaimNotMade),
    }
}

impl Decide for RecordInspection {
    fn decide(self, state: &ProjectState, ctx: &Context) -> Decided {
        let RecordInspection {
            inspected_on,
            on_site,
            summary,
            findings,
        } = self;
        // An inspection is recorded once it happened, never ahead of it.
        if inspected_on > local_date(ctx.now) {
            return Err(DomainError::InspectionInFuture(inspected_on));
        }
        for (i, f) in findings.iter().enumerate() {
            let repeated = findings[..i].iter().any(|g| g.finding_id == f.finding_id);
            if repeated || state.findings.contains_key(&f.finding_id) {
                return Err(DomainError::FindingAlreadyRecorded(f.finding_id));
            }
            if let Some(m) = f.milestone_id {
                milestone(state, m)?;
            }
        }
        let e = InspectionRecorded {
            inspector: ctx.actor.sub.clone(),
            inspected_on,
            on_site,
            summary: summary.into(),
            findings: findings.into_iter().map(recorded).collect(),
        };
        Ok(vec![Event::InspectionRecorded(e)])
    }
}

impl Decide for OrderRectification {
    fn decide(self, state: &ProjectState, ctx: &Context) -> Decided {
        let OrderRectification {
            rectification_id,
            finding_id,
            department,
            deadline,
            instructions,
        } = self;
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
        let e = RectificationOrdered {
            rectification_id,
            finding_id,
            department,
            deadline,
            instructions: instructions.into(),
        };
        Ok(vec![Event::RectificationOrdered(e)])
    }
}

fn recorded(f: NewFinding) -> Finding {
    Finding {
        finding_id: f.finding_id,
        severity: f.severity,
        description: f.description.into(),
        milestone_id: f.milestone_id,
    }
}

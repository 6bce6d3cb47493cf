//! The rules of 改进 improve: rectifications reported, verified or rejected; extensions
//! decided; the plan revised; holds placed and lifted; the cycle closed and re-opened.
//! Reached from [`super::decide`].

use super::*;

/// The rectification, which must exist and not be verified yet (a verified one is settled).
fn unsettled_rectification(
    state: &ProjectState,
    id: RectificationId,
) -> Result<&Rectification, DomainError> {
    let r = state
        .rectifications
        .get(&id)
        .ok_or(DomainError::UnknownRectification(id))?;
    if r.stage == RectificationStage::Verified {
        return Err(DomainError::RectificationAlreadyVerified);
    }
    Ok(r)
}

/// A rectification the inspector can verify or reject: one the department has reported.
fn reported_rectification(state: &ProjectState, id: RectificationId) -> Result<(), DomainError> {
    if unsettled_rectification(state, id)?.stage != RectificationStage::Reported {
        return Err(DomainError::RectificationNotReported);
    }
    Ok(())
}

impl Decide for ReportRectification {
    fn decide(self, state: &ProjectState, ctx: &Context) -> Decided {
        let r = unsettled_rectification(state, self.rectification_id)?;
        if ctx.actor.dept.as_ref() != Some(&r.department) {
            return Err(DomainError::NotRectifyingDepartment);
        }
        if !state.is_active(&r.department) {
            return Err(DomainError::AssignmentWasReturned);
        }
        let e = RectificationReported {
            rectification_id: self.rectification_id,
            department: r.department.clone(),
            narrative: self.narrative.into(),
            evidence: texts(self.evidence),
        };
        Ok(vec![Event::RectificationReported(e)])
    }
}

impl Decide for VerifyRectification {
    fn decide(self, state: &ProjectState, ctx: &Context) -> Decided {
        reported_rectification(state, self.rectification_id)?;
        Ok(vec![Event::RectificationVerified(RectificationVerified {
            rectification_id: self.rectification_id,
            inspector: ctx.actor.sub.clone(),
        })])
    }
}

impl Decide for RejectRectification {
    fn decide(self, state: &ProjectState, ctx: &Context) -> Decided {
        reported_rectification(state, self.rectification_id)?;
        let e = RectificationRejected {
            rectification_id: self.rectification_id,
            inspector: ctx.actor.sub.clone(),
            reason: self.reason.into(),
        };
        Ok(vec![Event::RectificationRejected(e)])
    }
}

impl Decide for DecideExtension {
    fn decide(self, state: &ProjectState, ctx: &Context) -> Decided {
        let DecideExtension {
            milestone_id,
            approve,
            reason,
        } = self;
        // Once accepted, a milestone's lateness is settled: no decision may rewrite it.
        let m = open_milestone(state, milestone_id)?;
        let request = m
            .pending_extension
            .as_ref()
            .ok_or(DomainError::NoExtensionPending)?;
        if approve && request.new_due_date <= m.due {
            // The plan was revised past the requested date meanwhile.
            return Err(DomainError::ExtensionNotLater);
        }
        let (decision, due_date) = match approve {
            true => (Decision::Approved, request.new_due_date),
            false => (Decision::Rejected, m.due),
        };
        let e = ExtensionDecided {
            milestone_id,
            decision,
            due_date,
            reason: reason.into(),
            decided_by: ctx.actor.sub.clone(),
        };
        Ok(vec![Event::ExtensionDecided(e)])
    }
}

impl Decide for RevisePlan {
    fn decide(self, state: &ProjectState, _ctx: &Context) -> Decided {
        let RevisePlan { change, reason } = self;
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
        Ok(vec![Event::PlanRevised(PlanRevised {
            revision,
            reason: reason.into(),
        })])
    }
}

/// The hold recorded on the milestone, or on the project when no milestone is named.
fn recorded_hold(
    state: &ProjectState,
    milestone_id: Option<MilestoneId>,
) -> Result<Option<&HoldPlaced>, DomainError> {
    Ok(match milestone_id {
        Some(id) => milestone(state, id)?.hold.as_ref(),
        None => state.hold.as_ref(),
    })
}

impl Decide for PlaceHold {
    fn decide(self, state: &ProjectState, ctx: &Context) -> Decided {
        // A hold past its expiry no longer counts (it may still be lifted for the record).
        let today = local_date(ctx.now);
        if recorded_hold(state, self.milestone_id)?.is_some_and(|h| h.expires_on >= today) {
            return Err(DomainError::AlreadyOnHold);
        }
        if self.expires_on <= today {
            return Err(DomainError::HoldExpiryNotInFuture);
        }
        let e = HoldPlaced {
            kind: self.kind,
            milestone_id: self.milestone_id,
            approver: self.approver.into(),
            reason: self.reason.into(),
            expires_on: self.expires_on,
        };
        Ok(vec![Event::HoldPlaced(e)])
    }
}

impl Decide for LiftHold {
    fn decide(self, state: &ProjectState, _ctx: &Context) -> Decided {
        if recorded_hold(state, self.milestone_id)?.map(|h| h.kind) != Some(self.kind) {
            return Err(DomainError::NotOnHold);
        }
        Ok(vec![Event::HoldLifted(HoldLifted {
            kind: self.kind,
            milestone_id: self.milestone_id,
            approver: self.approver.into(),
            reason: self.reason.into(),
        })])
    }
}

impl Decide for CloseCycle {
    fn decide(self, _state: &ProjectState, _ctx: &Context) -> Decided {
        Ok(vec![Event::CycleClosed(CycleClosed {
            reason: self.reason.into(),
        })])
    }
}

impl Decide for ReopenCycle {
    fn decide(self, state: &ProjectState, _ctx: &Context) -> Decided {
        if !state.closed {
            return Err(DomainError::CycleNotClosed);
        }
        Ok(vec![Event::CycleReopened(CycleReopened {
            instruction: self.instruction.into(),
        })])
    }
}

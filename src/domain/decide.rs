//! `decide`: every rule of the loop that depends on a project's state. Given the state, a
//! command and the context (who, when), it answers the events to record or the rule broken.
//! Which *role* may issue which command is policy, checked by the service before this.
//!
//! This file admits a command (registered project, open cycle) and hands its payload to the
//! rules of its stage, one file each: `decide/{plan,implement,inspect,assess,improve,clock}.rs`.
//! The helpers several stages share live here.

use super::commands::*;
use super::error::DomainError;
use super::events::*;
use super::state::*;
use super::text::Text;
use super::values::*;

mod assess;
mod clock;
mod implement;
mod improve;
mod inspect;
mod plan;

type Decided = Result<Vec<Event>, DomainError>;

/// The rules of one command, applied to its payload.
trait Decide {
    fn decide(self, state: &ProjectState, ctx: &Context) -> Decided;
}

pub fn decide(state: &ProjectState, command: Command, ctx: &Context) -> Decided {
    admit(state, &command)?;
    match command {
        Command::RegisterProject(c) => c.decide(state, ctx),
        Command::ScheduleMilestone(c) => c.decide(state, ctx),
        Command::SetTarget(c) => c.decide(state, ctx),
        Command::AssignDepartment(c) => c.decide(state, ctx),
        Command::SignAssignment => implement::sign_assignment(state, ctx),
        Command::ReturnAssignment(c) => c.decide(state, ctx),
        Command::ReportProgress(c) => c.decide(state, ctx),
        Command::ClaimCompletion(c) => c.decide(state, ctx),
        Command::RequestExtension(c) => c.decide(state, ctx),
        Command::AcceptCompletion(c) => c.decide(state, ctx),
        Command::ReturnCompletion(c) => c.decide(state, ctx),
        Command::RecordInspection(c) => c.decide(state, ctx),
        Command::OrderRectification(c) => c.decide(state, ctx),
        Command::RecordAssessment(c) => c.decide(state, ctx),
        Command::RateConfidence(c) => c.decide(state, ctx),
        Command::ReportRectification(c) => c.decide(state, ctx),
        Command::VerifyRectification(c) => c.decide(state, ctx),
        Command::RejectRectification(c) => c.decide(state, ctx),
        Command::DecideExtension(c) => c.decide(state, ctx),
        Command::RevisePlan(c) => c.decide(state, ctx),
        Command::PlaceHold(c) => c.decide(state, ctx),
        Command::LiftHold(c) => c.decide(state, ctx),
        Command::CloseCycle(c) => c.decide(state, ctx),
        Command::ReopenCycle(c) => c.decide(state, ctx),
        Command::RecordNoticeDue(e) => e.decide(state, ctx),
        Command::RecordNoticeSent(e) => e.decide(state, ctx),
        Command::RecordNoticeFailed(e) => e.decide(state, ctx),
    }
}

/// Whether the project takes the command at all: a registration always gets to its own
/// rules; anything else needs a registered project, and a closed cycle takes only its
/// re-opening and the clock's facts.
fn admit(state: &ProjectState, command: &Command) -> Result<(), DomainError> {
    if let Command::RegisterProject(_) = command {
        return Ok(());
    }
    if !state.is_registered() {
        return Err(DomainError::ProjectNotRegistered);
    }
    if state.closed && !matches!(command, Command::ReopenCycle(_)) && !command.is_clock_fact() {
        return Err(DomainError::CycleClosed);
    }
    Ok(())
}

/// A hold (suspension or parking) in force today on the project or on the milestone: it
/// stops the clock, so no claim, extension or notice goes through until it expires or is
/// lifted.
/// Texts as events keep them: plain strings, so that old logs read whatever the types become.
fn texts<const MAX: usize>(items: Vec<Text<MAX>>) -> Vec<String> {
    items.into_iter().map(String::from).collect()
}

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

fn check_target_value(value: f64) -> Result<(), DomainError> {
    if value.is_finite() && value > 0.0 {
        check_finite(value)
    } else {
        Err(DomainError::TargetValueInvalid)
    }
}

fn milestone(state: &ProjectState, id: MilestoneId) -> Result<&Milestone, DomainError> {
    state
        .milestones
        .get(&id)
        .ok_or(DomainError::UnknownMilestone(id))
}

/// A milestone that still takes reports: scheduled and not yet accepted.
fn open_milestone(state: &ProjectState, id: MilestoneId) -> Result<&Milestone, DomainError> {
    let m = milestone(state, id)?;
    if m.stage == MilestoneStage::Accepted {
        return Err(DomainError::CompletionAlreadyAccepted);
    }
    Ok(m)
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

//! What the read models keep of one project: its state folded by the domain's `evolve`, plus
//! what only the envelopes tell (when each thing was recorded, the project's version and
//! position). Nothing here depends on the day it is read: lateness, colours and "due soon" are
//! computed from a record for a given day in [`super::status`].

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::*;

/// The step of the 规划 → 落实 → 督查 → 考核 → 改进 loop a project was last active in.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum LoopStage {
    /// 规划
    #[default]
    Plan,
    /// 落实
    Implement,
    /// 督查
    Inspect,
    /// 考核
    Assess,
    /// 改进
    Improve,
    /// The cycle was closed.
    Closed,
}

impl LoopStage {
    pub fn as_str(self) -> &'static str {
        match self {
            LoopStage::Plan => "plan",
            LoopStage::Implement => "implement",
            LoopStage::Inspect => "inspect",
            LoopStage::Assess => "assess",
            LoopStage::Improve => "improve",
            LoopStage::Closed => "closed",
        }
    }

    /// The stage an event belongs to, as the loop is described in the plan; `None` for events
    /// that do not move a project along the loop (holds, notices).
    fn of(event: &Event) -> Option<LoopStage> {
        use Event::*;
        Some(match event {
            ProjectRegistered(_) | MilestoneScheduled(_) | TargetSet(_) | DepartmentAssigned(_) => {
                LoopStage::Plan
            }
            AssignmentSigned(_)
            | AssignmentReturned(_)
            | ProgressReported(_)
            | CompletionClaimed(_) => LoopStage::Implement,
            CompletionAccepted(_)
            | CompletionReturned(_)
            | InspectionRecorded(_)
            | RectificationOrdered(_) => LoopStage::Inspect,
            AssessmentRecorded(_) | ConfidenceRated(_) => LoopStage::Assess,
            RectificationReported(_)
            | RectificationVerified(_)
            | RectificationRejected(_)
            | ExtensionRequested(_)
            | ExtensionDecided(_)
            | PlanRevised(_) => LoopStage::Improve,
            CycleClosed(_) => LoopStage::Closed,
            CycleReopened(_) => LoopStage::Plan,
            HoldPlaced(_) | HoldLifted(_) | NoticeDue(_) | NoticeSent(_) | NoticeFailed(_) => {
                return None;
            }
        })
    }
}

/// The project's latest progress report, across its milestones.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LastReport {
    pub milestone_id: MilestoneId,
    pub department: DepartmentCode,
    pub reported_at: DateTime<Utc>,
    pub percent: u8,
    pub narrative: String,
}

/// Where an event sits in the log.
#[derive(Clone, Copy, Debug)]
pub struct Position {
    pub seq: u64,
    pub version: u64,
    pub recorded_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProjectRecord {
    pub project_id: ProjectId,
    /// The version of the last event folded in (the project's ETag).
    pub version: u64,
    /// The global seq of the last event folded in.
    pub position: u64,
    pub registered_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub state: ProjectState,
    /// The day (Asia/Shanghai) each milestone was scheduled: where expected progress starts.
    pub scheduled_on: BTreeMap<MilestoneId, NaiveDate>,
    pub stage: LoopStage,
    pub last_report: Option<LastReport>,
    /// Completion claims returned (退办重办), for scores and dashboards.
    pub claims_returned: u32,
}

impl ProjectRecord {
    pub fn new(project_id: ProjectId) -> Self {
        Self {
            project_id,
            version: 0,
            position: 0,
            registered_at: None,
            updated_at: None,
            state: ProjectState::default(),
            scheduled_on: BTreeMap::new(),
            stage: LoopStage::Plan,
            last_report: None,
            claims_returned: 0,
        }
    }

    /// Folds one event in. Like `evolve`, never fails: the event happened.
    pub fn apply(&mut self, at: Position, event: &Event) {
        match event {
            Event::ProjectRegistered(_) => self.registered_at = Some(at.recorded_at),
            Event::MilestoneScheduled(e) => {
                self.scheduled_on
                    .insert(e.milestone_id, local_date(at.recorded_at));
            }
            Event::ProgressReported(e) => {
                self.last_report = Some(LastReport {
                    milestone_id: e.milestone_id,
                    department: e.department.clone(),
                    reported_at: e.reported_at,
                    percent: e.percent,
                    narrative: e.narrative.clone(),
                });
            }
            Event::CompletionReturned(_) => self.claims_returned += 1,
            _ => {}
        }
        if let Some(stage) = LoopStage::of(event) {
            self.stage = stage;
        }
        self.state = evolve(std::mem::take(&mut self.state), event);
        self.version = at.version;
        self.position = at.seq;
        self.updated_at = Some(at.recorded_at);
    }

    pub fn name(&self) -> &str {
        self.state.info.as_ref().map_or("", |i| i.name.as_str())
    }

    /// Milestones that can still fall (or be) overdue: neither accepted nor under a claim,
    /// in a project that is not closed. Holds do not take a milestone out: a hold expires, so
    /// whether it silences the milestone depends on the day asked about.
    pub fn open_milestones(&self) -> impl Iterator<Item = (&MilestoneId, &Milestone)> {
        let closed = self.state.closed;
        self.state
            .milestones
            .iter()
            .filter(move |(_, m)| !closed && m.is_open())
    }

    /// The hold silencing a milestone on `day`, if any (see [`ProjectState::hold_on`]).
    pub fn hold_on<'a>(&'a self, m: &'a Milestone, day: NaiveDate) -> Option<&'a HoldPlaced> {
        self.state.hold_on(m, day)
    }

    /// Whether a department is on the project (lead or supporting) and has not returned it.
    pub fn involves(&self, dept: &DepartmentCode) -> bool {
        self.state.is_active(dept)
    }
}

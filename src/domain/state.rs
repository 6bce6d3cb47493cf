//! A key project's state, folded from its events by [`evolve`] — which never fails and holds
//! no rules: whatever is in the log happened. Lateness is not in here as a state; it is derived
//! on demand ([`Milestone::completion_late`]) from the recorded times and dates.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::events::*;
use super::values::*;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProjectState {
    /// `None` until the project is registered.
    pub info: Option<ProjectInfo>,
    pub departments: BTreeMap<DepartmentCode, Assignment>,
    pub milestones: BTreeMap<MilestoneId, Milestone>,
    pub targets: BTreeMap<TargetId, Target>,
    pub findings: BTreeMap<FindingId, FindingState>,
    pub rectifications: BTreeMap<RectificationId, Rectification>,
    pub assessments: Vec<AssessmentRecorded>,
    pub confidence: Option<ConfidenceRated>,
    /// A hold on the whole project.
    pub hold: Option<HoldPlaced>,
    pub closed: bool,
    /// 1 for the first cycle; each re-opening starts the next.
    pub cycle: u32,
    pub notices_due: BTreeSet<String>,
    pub notices_sent: BTreeSet<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProjectInfo {
    pub name: String,
    pub industry: Industry,
    pub city: City,
    pub description: String,
    pub source_section: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Assignment {
    pub role: DepartmentRole,
    pub status: AssignmentStatus,
}

impl Assignment {
    pub fn is_active(&self) -> bool {
        !matches!(self.status, AssignmentStatus::Returned(_))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssignmentStatus {
    /// 交办: handed over, not yet signed for.
    Assigned,
    /// 签收
    Signed,
    /// 退回: "not ours", with the reason.
    Returned(String),
}

/// Where a milestone is in the loop. Lateness is not a state (see `completion_late`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MilestoneStage {
    Planned,
    InProgress,
    Claimed,
    Returned,
    Accepted,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Milestone {
    pub title: String,
    pub responsible: Vec<DepartmentCode>,
    /// The first baseline, never changed.
    pub baseline_due: NaiveDate,
    /// The due date in force (after approved extensions and revisions).
    pub due: NaiveDate,
    /// The date lateness is measured against: moves with revisions and with extensions filed
    /// in time, not with extensions filed after the due date.
    pub lateness_due: NaiveDate,
    pub stage: MilestoneStage,
    pub percent: u8,
    pub last_report: Option<ProgressReported>,
    /// The claim under review or accepted.
    pub claim: Option<CompletionClaimed>,
    pub pending_extension: Option<ExtensionRequested>,
    /// Set once any extension was requested after its due date.
    pub extension_filed_late: bool,
    pub hold: Option<HoldPlaced>,
}

impl Milestone {
    /// For an accepted milestone: whether it was completed after its due date. A claim on the
    /// due date itself (until midnight, Asia/Shanghai) is on time. `None` until accepted.
    pub fn completion_late(&self) -> Option<bool> {
        let claim = self
            .claim
            .as_ref()
            .filter(|_| self.stage == MilestoneStage::Accepted)?;
        Some(self.extension_filed_late || local_date(claim.claimed_at) > self.lateness_due)
    }

    /// Still to be done: neither accepted nor under a claim. Only an open milestone can be (or
    /// fall) overdue.
    pub fn is_open(&self) -> bool {
        matches!(
            self.stage,
            MilestoneStage::Planned | MilestoneStage::InProgress | MilestoneStage::Returned
        )
    }

    /// Days the due date in force lies after the first baseline (slippage against it).
    pub fn slippage_days(&self) -> i64 {
        (self.due - self.baseline_due).num_days()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Target {
    pub indicator: String,
    pub unit: String,
    /// The first baseline value, never changed.
    pub baseline_value: f64,
    pub value: f64,
    pub year: i32,
    pub latest_actual: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FindingState {
    pub finding: Finding,
    pub found_on: NaiveDate,
    /// Open until a rectification for it is verified.
    pub open: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rectification {
    pub finding_id: FindingId,
    pub department: DepartmentCode,
    pub deadline: NaiveDate,
    pub stage: RectificationStage,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RectificationStage {
    Ordered,
    Reported,
    Verified,
    /// Rejected by the inspector: to be reported again.
    Rejected(String),
}

impl ProjectState {
    pub fn is_registered(&self) -> bool {
        self.info.is_some()
    }

    /// The lead department, unless it returned the assignment.
    pub fn lead_department(&self) -> Option<&DepartmentCode> {
        self.departments
            .iter()
            .find(|(_, a)| a.role == DepartmentRole::Lead && a.is_active())
            .map(|(code, _)| code)
    }

    /// The hold in force on `day` for a milestone — its own or the project's — if any: a hold
    /// stops the clock until it is lifted or its expiry date has passed.
    pub fn hold_on<'a>(&'a self, m: &'a Milestone, day: NaiveDate) -> Option<&'a HoldPlaced> {
        [m.hold.as_ref(), self.hold.as_ref()]
            .into_iter()
            .flatten()
            .find(|h| day <= h.expires_on)
    }

    /// Whether a department is on the project and has not returned it.
    pub fn is_active(&self, dept: &DepartmentCode) -> bool {
        self.departments
            .get(dept)
            .is_some_and(Assignment::is_active)
    }
}

/// Folds one event into the state. Never fails: an event is a fact.
pub fn evolve(mut state: ProjectState, event: &Event) -> ProjectState {
    match event {
        Event::ProjectRegistered(e) => register(&mut state, e),
        Event::MilestoneScheduled(e) => {
            let m = Milestone {
                title: e.title.clone(),
                responsible: e.responsible_departments.clone(),
                baseline_due: e.due_date,
                due: e.due_date,
                lateness_due: e.due_date,
                stage: MilestoneStage::Planned,
                percent: 0,
                last_report: None,
                claim: None,
                pending_extension: None,
                extension_filed_late: false,
                hold: None,
            };
            state.milestones.insert(e.milestone_id, m);
        }
        Event::TargetSet(e) => {
            let t = Target {
                indicator: e.indicator.clone(),
                unit: e.unit.clone(),
                baseline_value: e.target_value,
                value: e.target_value,
                year: e.year,
                latest_actual: None,
            };
            state.targets.insert(e.target_id, t);
        }
        Event::DepartmentAssigned(e) => {
            let a = Assignment {
                role: e.role,
                status: AssignmentStatus::Assigned,
            };
            state.departments.insert(e.department.clone(), a);
        }
        Event::AssignmentSigned(e) => {
            set_assignment(&mut state, &e.department, AssignmentStatus::Signed)
        }
        Event::AssignmentReturned(e) => {
            let status = AssignmentStatus::Returned(e.reason.clone());
            set_assignment(&mut state, &e.department, status);
        }
        Event::ProgressReported(e) => progress(&mut state, e),
        Event::CompletionClaimed(e) => with_milestone(&mut state, e.milestone_id, |m| {
            m.stage = MilestoneStage::Claimed;
            m.claim = Some(e.clone());
        }),
        Event::ExtensionRequested(e) => with_milestone(&mut state, e.milestone_id, |m| {
            m.pending_extension = Some(e.clone());
            m.extension_filed_late |= e.late;
        }),
        Event::CompletionAccepted(e) => with_milestone(&mut state, e.milestone_id, |m| {
            m.stage = MilestoneStage::Accepted;
            m.percent = 100;
        }),
        Event::CompletionReturned(e) => with_milestone(&mut state, e.milestone_id, |m| {
            m.stage = MilestoneStage::Returned;
        }),
        Event::InspectionRecorded(e) => {
            for f in &e.findings {
                let found = FindingState {
                    finding: f.clone(),
                    found_on: e.inspected_on,
                    open: true,
                };
                state.findings.insert(f.finding_id, found);
            }
        }
        Event::RectificationOrdered(e) => {
            let r = Rectification {
                finding_id: e.finding_id,
                department: e.department.clone(),
                deadline: e.deadline,
                stage: RectificationStage::Ordered,
            };
            state.rectifications.insert(e.rectification_id, r);
        }
        Event::AssessmentRecorded(e) => state.assessments.push(e.clone()),
        Event::ConfidenceRated(e) => state.confidence = Some(e.clone()),
        Event::RectificationReported(e) => {
            set_rectification(&mut state, e.rectification_id, RectificationStage::Reported)
        }
        Event::RectificationVerified(e) => verified(&mut state, e.rectification_id),
        Event::RectificationRejected(e) => {
            let stage = RectificationStage::Rejected(e.reason.clone());
            set_rectification(&mut state, e.rectification_id, stage)
        }
        Event::ExtensionDecided(e) => extension_decided(&mut state, e),
        Event::PlanRevised(e) => revised(&mut state, &e.revision),
        Event::HoldPlaced(e) => match e.milestone_id {
            Some(id) => with_milestone(&mut state, id, |m| m.hold = Some(e.clone())),
            None => state.hold = Some(e.clone()),
        },
        Event::HoldLifted(e) => match e.milestone_id {
            Some(id) => with_milestone(&mut state, id, |m| m.hold = None),
            None => state.hold = None,
        },
        Event::CycleClosed(_) => state.closed = true,
        Event::CycleReopened(_) => {
            state.closed = false;
            state.cycle += 1;
        }
        Event::NoticeDue(e) => {
            state.notices_due.insert(e.dedup_key.clone());
        }
        Event::NoticeSent(e) => {
            state.notices_sent.insert(e.dedup_key.clone());
        }
        Event::NoticeFailed(_) => {}
    }
    state
}

fn register(state: &mut ProjectState, e: &ProjectRegistered) {
    state.info = Some(ProjectInfo {
        name: e.name.clone(),
        industry: e.industry,
        city: e.city,
        description: e.description.clone(),
        source_section: e.source_section.clone(),
    });
    state.cycle = 1;
    let lead = Assignment {
        role: DepartmentRole::Lead,
        status: AssignmentStatus::Assigned,
    };
    state.departments.insert(e.lead_department.clone(), lead);
    for d in &e.supporting_departments {
        let a = Assignment {
            role: DepartmentRole::Supporting,
            status: AssignmentStatus::Assigned,
        };
        state.departments.insert(d.clone(), a);
    }
}

fn progress(state: &mut ProjectState, e: &ProgressReported) {
    with_milestone(state, e.milestone_id, |m| {
        m.percent = e.percent;
        m.last_report = Some(e.clone());
        if matches!(m.stage, MilestoneStage::Planned | MilestoneStage::Returned) {
            m.stage = MilestoneStage::InProgress;
        }
    });
    for a in &e.actuals {
        if let Some(t) = state.targets.get_mut(&a.target_id) {
            t.latest_actual = Some(a.value);
        }
    }
}

fn extension_decided(state: &mut ProjectState, e: &ExtensionDecided) {
    with_milestone(state, e.milestone_id, |m| {
        let request = m.pending_extension.take();
        if e.decision == Decision::Approved {
            m.due = e.due_date;
            // An extension filed in time moves the date lateness is measured against.
            if request.is_some_and(|r| !r.late) {
                m.lateness_due = e.due_date;
            }
        }
    });
}

fn revised(state: &mut ProjectState, revision: &Revision) {
    match revision {
        Revision::DueDate {
            milestone_id, to, ..
        } => with_milestone(state, *milestone_id, |m| {
            m.due = *to;
            m.lateness_due = *to;
        }),
        Revision::TargetValue { target_id, to, .. } => {
            if let Some(t) = state.targets.get_mut(target_id) {
                t.value = *to;
            }
        }
    }
}

fn verified(state: &mut ProjectState, id: RectificationId) {
    set_rectification(state, id, RectificationStage::Verified);
    let Some(finding) = state.rectifications.get(&id).map(|r| r.finding_id) else {
        return;
    };
    // A finding stays open while any rectification ordered for it is not verified.
    let pending = state
        .rectifications
        .values()
        .any(|r| r.finding_id == finding && r.stage != RectificationStage::Verified);
    if let Some(f) = state.findings.get_mut(&finding) {
        f.open = pending;
    }
}

fn with_milestone(state: &mut ProjectState, id: MilestoneId, f: impl FnOnce(&mut Milestone)) {
    if let Some(m) = state.milestones.get_mut(&id) {
        f(m);
    }
}

fn set_assignment(state: &mut ProjectState, dept: &DepartmentCode, status: AssignmentStatus) {
    if let Some(a) = state.departments.get_mut(dept) {
        a.status = status;
    }
}

fn set_rectification(state: &mut ProjectState, id: RectificationId, stage: RectificationStage) {
    if let Some(r) = state.rectifications.get_mut(&id) {
        r.stage = stage;
    }
}

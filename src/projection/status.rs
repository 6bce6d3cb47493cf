//! A project's status for one day, computed from its record, the working-day calendar and the
//! traffic-light thresholds in force that day. Pure: the same record, day and policies always
//! give the same status — which is what makes `as_of` answers and recomputed colours
//! trustworthy. Overdue is a clock here, never a stored state.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::record::{LastReport, LoopStage, ProjectRecord};
use crate::domain::*;
use crate::policy::{Light, LightsVersion, Measures, Policies, Rule, WorkingCalendar};

/// The day a status is for, and the policies that apply on it.
#[derive(Clone, Copy)]
pub struct Day<'a> {
    pub date: NaiveDate,
    pub calendar: &'a WorkingCalendar,
    pub lights: &'a LightsVersion,
}

impl<'a> Day<'a> {
    /// The day (Asia/Shanghai) of an instant, with the thresholds in force on it.
    pub fn of(at: DateTime<Utc>, policies: &'a Policies) -> Self {
        let date = local_date(at);
        Self {
            date,
            calendar: &policies.calendar,
            lights: policies.lights.in_force(date),
        }
    }

    /// Working days from `due` to this day: 0 unless the day is after the due date.
    pub fn working_days_late(&self, due: NaiveDate) -> i64 {
        self.calendar.working_days_between(due, self.date)
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct LightView {
    pub colour: Light,
    /// The version of `policies/lights.toml` that gave the colour.
    pub policy_version: String,
    /// The version of the working-day calendar used to count.
    pub calendar_version: String,
    /// The day the colour is for.
    pub day: NaiveDate,
    pub measures: Measures,
    /// The rules that gave the colour (none for green).
    pub reasons: Vec<Rule>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Timing {
    OnTrack,
    DueSoon,
    Overdue,
    /// A completion claim is being reviewed.
    UnderReview,
    OnHold,
    CompletedOnTime,
    CompletedLate,
    /// The project's cycle was closed with the milestone unfinished.
    Closed,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct MilestoneStatus {
    pub milestone_id: MilestoneId,
    pub title: String,
    /// planned, signed_for, in_progress, claimed, accepted, returned, suspended, parked, closed
    pub state: String,
    pub timing: Timing,
    pub responsible_departments: Vec<DepartmentCode>,
    /// The first baseline, never changed.
    pub baseline_due: NaiveDate,
    /// The due date in force.
    pub due: NaiveDate,
    pub percent: u8,
    /// 序时进度: the progress expected by this day, for an open milestone.
    pub expected_percent: Option<f64>,
    /// For an overdue milestone.
    pub working_days_overdue: Option<i64>,
    pub days_overdue: Option<i64>,
    /// For an open milestone not yet overdue.
    pub working_days_left: Option<i64>,
    /// Days the due date in force lies after the first baseline.
    pub slippage_days: i64,
    /// Once accepted.
    pub completed_late: Option<bool>,
    pub hold: Option<HoldView>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct HoldView {
    pub kind: HoldKind,
    pub approver: String,
    pub reason: String,
    pub expires_on: NaiveDate,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct NextMilestone {
    pub milestone_id: MilestoneId,
    pub title: String,
    pub due: NaiveDate,
    pub timing: Timing,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FindingView {
    pub finding_id: FindingId,
    pub severity: Severity,
    pub description: String,
    pub found_on: NaiveDate,
    pub milestone_id: Option<MilestoneId>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RectificationView {
    pub rectification_id: RectificationId,
    pub finding_id: FindingId,
    pub department: DepartmentCode,
    pub deadline: NaiveDate,
    /// ordered, reported, rejected
    pub stage: String,
    pub past_deadline: bool,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AssessmentView {
    pub period: String,
    pub rubric_version: String,
    pub score: f64,
    pub grade: String,
    pub confirmed_by: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ConfidenceView {
    pub rating: Confidence,
    pub assessor: String,
    pub comment: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TargetView {
    pub target_id: TargetId,
    pub indicator: String,
    pub unit: String,
    pub baseline_value: f64,
    pub value: f64,
    pub year: i32,
    pub latest_actual: Option<f64>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DepartmentView {
    pub department: DepartmentCode,
    pub role: DepartmentRole,
    /// assigned, signed, returned
    pub status: String,
}

/// Slippage in calendar days: how far the expected or actual finish lies past the first
/// baseline and past the due dates in force, for the worst milestone.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct Slippage {
    pub against_first_baseline_days: i64,
    pub against_latest_baseline_days: i64,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ProjectStatus {
    pub project_id: ProjectId,
    pub version: u64,
    /// The global seq of the project's last event.
    pub position: u64,
    pub name: String,
    pub industry: Industry,
    pub city: City,
    pub description: String,
    pub source_section: String,
    pub stage: LoopStage,
    pub light: LightView,
    pub lead_department: Option<DepartmentCode>,
    pub departments: Vec<DepartmentView>,
    pub milestones: Vec<MilestoneStatus>,
    pub next_milestone: Option<NextMilestone>,
    pub last_report: Option<LastReport>,
    pub open_findings: Vec<FindingView>,
    pub open_rectifications: Vec<RectificationView>,
    pub latest_assessment: Option<AssessmentView>,
    pub confidence: Option<ConfidenceView>,
    pub slippage: Slippage,
    pub targets: Vec<TargetView>,
    pub hold: Option<HoldView>,
    pub closed: bool,
    pub cycle: u32,
    pub claims_returned: u32,
    pub registered_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

fn hold_view(h: &HoldPlaced) -> HoldView {
    HoldView {
        kind: h.kind,
        approver: h.approver.clone(),
        reason: h.reason.clone(),
        expires_on: h.expires_on,
    }
}

/// 序时进度: linear from the day the milestone was scheduled to its due date.
fn expected_percent(start: NaiveDate, due: NaiveDate, day: NaiveDate) -> f64 {
    if day >= due {
        return 100.0;
    }
    if day <= start {
        return 0.0;
    }
    let span = (due - start).num_days() as f64;
    let done = (day - start).num_days() as f64;
    (done / span * 100.0).clamp(0.0, 100.0)
}

fn milestone_status(
    r: &ProjectRecord,
    id: MilestoneId,
    m: &Milestone,
    day: Day,
) -> MilestoneStatus {
    let hold = r.hold_on(m, day.date);
    let open = m.is_open() && !r.state.closed;
    let signed = m.responsible.iter().any(|d| {
        matches!(
            r.state.departments.get(d).map(|a| &a.status),
            Some(AssignmentStatus::Signed)
        )
    });
    let state = match (m.stage, hold) {
        (MilestoneStage::Accepted, _) => "accepted",
        _ if r.state.closed => "closed",
        (_, Some(h)) if h.kind == HoldKind::Suspended => "suspended",
        (_, Some(_)) => "parked",
        (MilestoneStage::Planned, None) if signed => "signed_for",
        (MilestoneStage::Planned, None) => "planned",
        (MilestoneStage::InProgress, None) => "in_progress",
        (MilestoneStage::Claimed, None) => "claimed",
        (MilestoneStage::Returned, None) => "returned",
    };
    let overdue = open && hold.is_none() && day.date > m.due;
    let left = day.calendar.working_days_between(day.date, m.due);
    let timing = match m.stage {
        MilestoneStage::Accepted if m.completion_late() == Some(true) => Timing::CompletedLate,
        MilestoneStage::Accepted => Timing::CompletedOnTime,
        _ if r.state.closed => Timing::Closed,
        MilestoneStage::Claimed => Timing::UnderReview,
        _ if hold.is_some() => Timing::OnHold,
        _ if overdue => Timing::Overdue,
        _ if left <= i64::from(day.lights.due_soon_working_days) => Timing::DueSoon,
        _ => Timing::OnTrack,
    };
    let start = r.scheduled_on.get(&id).copied().unwrap_or(m.baseline_due);
    MilestoneStatus {
        milestone_id: id,
        title: m.title.clone(),
        state: state.into(),
        timing,
        responsible_departments: m.responsible.clone(),
        baseline_due: m.baseline_due,
        due: m.due,
        percent: m.percent,
        expected_percent: open.then(|| expected_percent(start, m.due, day.date)),
        working_days_overdue: overdue.then(|| day.working_days_late(m.due)),
        days_overdue: overdue.then(|| (day.date - m.due).num_days()),
        working_days_left: (open && !overdue).then_some(left),
        slippage_days: m.slippage_days(),
        completed_late: m.completion_late(),
        hold: hold.map(hold_view),
    }
}

/// The measures the thresholds are applied to.
fn measures(r: &ProjectRecord, milestones: &[MilestoneStatus], day: Day) -> Measures {
    let live = milestones
        .iter()
        .filter(|m| m.expected_percent.is_some() && m.hold.is_none());
    let mut out = Measures::default();
    for m in live {
        out.working_days_late = out
            .working_days_late
            .max(m.working_days_overdue.unwrap_or(0));
        let behind = m.expected_percent.unwrap_or(0.0) - f64::from(m.percent);
        out.points_behind = out.points_behind.max(behind);
    }
    out.points_behind = (out.points_behind * 10.0).round() / 10.0;
    out.overdue_high_findings = r
        .state
        .findings
        .iter()
        .filter(|(_, f)| f.open && f.finding.severity == Severity::High)
        .filter(|(id, _)| {
            r.state.rectifications.values().any(|x| {
                x.finding_id == **id
                    && x.stage != RectificationStage::Verified
                    && x.deadline < day.date
            })
        })
        .count() as u32;
    out
}

fn slippage(r: &ProjectRecord, day: NaiveDate) -> Slippage {
    let mut s = Slippage::default();
    for m in r.state.milestones.values() {
        let finish = match (&m.claim, m.stage) {
            (Some(c), MilestoneStage::Accepted | MilestoneStage::Claimed) => {
                local_date(c.claimed_at)
            }
            _ => day.max(m.due),
        };
        s.against_first_baseline_days = s
            .against_first_baseline_days
            .max((finish - m.baseline_due).num_days());
        s.against_latest_baseline_days = s
            .against_latest_baseline_days
            .max((finish - m.due).num_days());
    }
    s
}

/// The light alone (for lists and counts), without building the whole status.
pub fn light(r: &ProjectRecord, day: Day) -> Light {
    let milestones: Vec<MilestoneStatus> = r
        .state
        .milestones
        .iter()
        .map(|(id, m)| milestone_status(r, *id, m, day))
        .collect();
    day.lights.colour(&measures(r, &milestones, day)).0
}

/// The project's status on `day`. `None` for a project never registered.
pub fn status(r: &ProjectRecord, day: Day) -> Option<ProjectStatus> {
    let info = r.state.info.as_ref()?;
    let milestones: Vec<MilestoneStatus> = r
        .state
        .milestones
        .iter()
        .map(|(id, m)| milestone_status(r, *id, m, day))
        .collect();
    let measured = measures(r, &milestones, day);
    let (colour, reasons) = day.lights.colour(&measured);
    let next_milestone = milestones
        .iter()
        .filter(|m| m.expected_percent.is_some())
        .min_by_key(|m| m.due)
        .map(|m| NextMilestone {
            milestone_id: m.milestone_id,
            title: m.title.clone(),
            due: m.due,
            timing: m.timing.clone(),
        });
    Some(ProjectStatus {
        project_id: r.project_id,
        version: r.version,
        position: r.position,
        name: info.name.clone(),
        industry: info.industry,
        city: info.city,
        description: info.description.clone(),
        source_section: info.source_section.clone(),
        stage: r.stage,
        light: LightView {
            colour,
            policy_version: day.lights.id.clone(),
            calendar_version: day.calendar.version().to_owned(),
            day: day.date,
            measures: measured,
            reasons,
        },
        lead_department: r.state.lead_department().cloned(),
        departments: departments(&r.state),
        next_milestone,
        milestones,
        last_report: r.last_report.clone(),
        open_findings: open_findings(&r.state),
        open_rectifications: open_rectifications(&r.state, day.date),
        latest_assessment: r.state.assessments.last().map(|a| AssessmentView {
            period: a.period.clone(),
            rubric_version: a.rubric_version.clone(),
            score: a.score,
            grade: a.grade.clone(),
            confirmed_by: a.confirmed_by.clone(),
        }),
        confidence: r.state.confidence.as_ref().map(|c| ConfidenceView {
            rating: c.rating,
            assessor: c.assessor.clone(),
            comment: c.comment.clone(),
        }),
        slippage: slippage(r, day.date),
        targets: targets(&r.state),
        hold: r
            .state
            .hold
            .as_ref()
            .filter(|h| day.date <= h.expires_on)
            .map(hold_view),
        closed: r.state.closed,
        cycle: r.state.cycle,
        claims_returned: r.claims_returned,
        registered_at: r.registered_at,
        updated_at: r.updated_at,
    })
}

fn departments(p: &ProjectState) -> Vec<DepartmentView> {
    p.departments
        .iter()
        .map(|(code, a)| DepartmentView {
            department: code.clone(),
            role: a.role,
            status: match a.status {
                AssignmentStatus::Assigned => "assigned",
                AssignmentStatus::Signed => "signed",
                AssignmentStatus::Returned(_) => "returned",
            }
            .into(),
        })
        .collect()
}

fn open_findings(p: &ProjectState) -> Vec<FindingView> {
    p.findings
        .iter()
        .filter(|(_, f)| f.open)
        .map(|(id, f)| FindingView {
            finding_id: *id,
            severity: f.finding.severity,
            description: f.finding.description.clone(),
            found_on: f.found_on,
            milestone_id: f.finding.milestone_id,
        })
        .collect()
}

fn open_rectifications(p: &ProjectState, day: NaiveDate) -> Vec<RectificationView> {
    p.rectifications
        .iter()
        .filter_map(|(id, r)| {
            let stage = match r.stage {
                RectificationStage::Verified => return None,
                RectificationStage::Ordered => "ordered",
                RectificationStage::Reported => "reported",
                RectificationStage::Rejected(_) => "rejected",
            };
            Some(RectificationView {
                rectification_id: *id,
                finding_id: r.finding_id,
                department: r.department.clone(),
                deadline: r.deadline,
                stage: stage.into(),
                past_deadline: r.deadline < day,
            })
        })
        .collect()
}

fn targets(p: &ProjectState) -> Vec<TargetView> {
    p.targets
        .iter()
        .map(|(id, t)| TargetView {
            target_id: *id,
            indicator: t.indicator.clone(),
            unit: t.unit.clone(),
            baseline_value: t.baseline_value,
            value: t.value,
            year: t.year,
            latest_actual: t.latest_actual,
        })
        .collect()
}

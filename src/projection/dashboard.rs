//! A department's dashboard (部门督办看板): what it has to do and how it stands, for one day —
//! its projects by light, its overdue milestones, assignments waiting for its signature,
//! rectifications it owes, and its on-time completion rate with the denominator stated.

use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

use super::models::{ProjectionError, ReadModels};
use super::queries::{LightCounts, OverdueItem, overdue_page};
use super::status::{Day, light};
use crate::domain::*;

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AwaitingSignature {
    pub project_id: ProjectId,
    pub project_name: String,
    pub role: DepartmentRole,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RectificationDue {
    pub project_id: ProjectId,
    pub project_name: String,
    pub rectification_id: RectificationId,
    pub finding_id: FindingId,
    pub deadline: NaiveDate,
    /// ordered, reported (awaiting verification), rejected (to be reported again)
    pub stage: String,
    pub past_deadline: bool,
}

/// Milestones the department is responsible for that were accepted, and how many of those on
/// time (completion on the due date is on time).
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct OnTimeRate {
    pub on_time: usize,
    /// The denominator: accepted milestones the department is responsible for.
    pub completed: usize,
    /// `on_time / completed`; none while nothing was completed.
    pub rate: Option<f64>,
}

/// Overdue milestones a dashboard lists. With 100,000 overdue milestones the whole list made
/// a dashboard of 30 MB.
pub const DASHBOARD_OVERDUE_ITEMS: usize = 100;

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Dashboard {
    pub department: DepartmentCode,
    pub day: NaiveDate,
    pub policy_version: String,
    /// Its projects (as lead or supporting department) by light.
    pub lights: LightCounts,
    /// The most overdue of the milestones it is responsible for, most overdue first: at most
    /// [`DASHBOARD_OVERDUE_ITEMS`]; the whole list is paged at `/api/v1/overdue`.
    pub overdue: Vec<OverdueItem>,
    /// How many milestones it is responsible for are overdue, shown or not.
    pub overdue_total: usize,
    pub awaiting_signature: Vec<AwaitingSignature>,
    /// Rectifications it owes, earliest deadline first.
    pub rectifications_due: Vec<RectificationDue>,
    pub on_time_completion: OnTimeRate,
}

pub fn dashboard(
    models: &ReadModels,
    day: Day,
    dept: &DepartmentCode,
) -> Result<Dashboard, ProjectionError> {
    let overdue = overdue_page(models, day, Some(dept), 1, DASHBOARD_OVERDUE_ITEMS)?;
    let mut board = Dashboard {
        department: dept.clone(),
        day: day.date,
        policy_version: day.lights.id.clone(),
        lights: LightCounts::default(),
        overdue: overdue.items,
        overdue_total: overdue.total,
        awaiting_signature: Vec::new(),
        rectifications_due: Vec::new(),
        on_time_completion: OnTimeRate::default(),
    };
    for id in models.department_projects(dept)? {
        let Some(r) = models.project(id)?.filter(|r| r.involves(dept)) else {
            continue;
        };
        let name = r.name().to_owned();
        board.lights.add(light(&r, day));
        if let Some(a) = r.state.departments.get(dept)
            && a.status == AssignmentStatus::Assigned
        {
            board.awaiting_signature.push(AwaitingSignature {
                project_id: id,
                project_name: name.clone(),
                role: a.role,
            });
        }
        for (rid, x) in &r.state.rectifications {
            let stage = match x.stage {
                _ if &x.department != dept => continue,
                RectificationStage::Verified => continue,
                RectificationStage::Ordered => "ordered",
                RectificationStage::Reported => "reported",
                RectificationStage::Rejected(_) => "rejected",
            };
            board.rectifications_due.push(RectificationDue {
                project_id: id,
                project_name: name.clone(),
                rectification_id: *rid,
                finding_id: x.finding_id,
                deadline: x.deadline,
                stage: stage.into(),
                past_deadline: x.deadline < day.date,
            });
        }
        for m in r.state.milestones.values() {
            if !m.responsible.contains(dept) {
                continue;
            }
            if let Some(late) = m.completion_late() {
                board.on_time_completion.completed += 1;
                board.on_time_completion.on_time += usize::from(!late);
            }
        }
    }
    board.rectifications_due.sort_by_key(|x| x.deadline);
    let rate = &mut board.on_time_completion;
    rate.rate = (rate.completed > 0).then(|| rate.on_time as f64 / rate.completed as f64);
    Ok(board)
}

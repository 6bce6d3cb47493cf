//! The questions users ask of the read models: the project list with filters, the overdue
//! list, a department's dashboard and the province-wide summary. Each answers for one day
//! (lights and lateness are computed for it) from what the projector stored; none reads the
//! log. Who may see what is decided by the caller (`http`), which passes the department a
//! department user is confined to.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

use super::models::{ProjectionError, ReadModels};
use super::record::{LoopStage, ProjectRecord};
use super::status::{Day, light};
use crate::domain::*;
use crate::policy::Light;

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct OverdueItem {
    pub project_id: ProjectId,
    pub project_name: String,
    pub milestone_id: MilestoneId,
    pub title: String,
    pub due: NaiveDate,
    pub working_days_overdue: i64,
    pub days_overdue: i64,
    pub responsible_departments: Vec<DepartmentCode>,
    pub lead_department: Option<DepartmentCode>,
}

/// Overdue milestones on `day`, most overdue first: those past their due date, not done,
/// not under review and not silenced by a hold in force. `dept` keeps those it is
/// responsible for. A range over the due-date index: nothing due today or later is read.
pub fn overdue(
    models: &ReadModels,
    day: Day,
    dept: Option<&DepartmentCode>,
) -> Result<Vec<OverdueItem>, ProjectionError> {
    Ok(overdue_page(models, day, dept, 1, usize::MAX)?.items)
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct OverduePage {
    pub day: NaiveDate,
    /// All overdue milestones the caller may see, on every page.
    pub total: usize,
    pub page: usize,
    pub per_page: usize,
    pub items: Vec<OverdueItem>,
}

/// One page of [`overdue`]: only the rows up to the end of the page are read; the total
/// comes from the counts of each due day ([`ReadModels::overdue_total`]), so it costs the
/// same whether a hundred milestones are overdue or a hundred thousand.
pub fn overdue_page(
    models: &ReadModels,
    day: Day,
    dept: Option<&DepartmentCode>,
    page: usize,
    per_page: usize,
) -> Result<OverduePage, ProjectionError> {
    let mut out = OverduePage {
        day: day.date,
        total: 0,
        page,
        per_page,
        items: Vec::new(),
    };
    let Some(yesterday) = day.date.pred_opt() else {
        return Ok(out);
    };
    out.total = usize::try_from(models.overdue_total(day.date, dept)?).unwrap_or(usize::MAX);
    let skip = (page.max(1) - 1).saturating_mul(per_page);
    let mut seen = 0usize;
    for row in models.open_due(None, Some(yesterday)) {
        if out.items.len() >= per_page {
            break;
        }
        let row = row?;
        if row.entry.held_on(day.date) {
            continue;
        }
        if dept.is_some_and(|d| !row.entry.responsible.contains(d)) {
            continue;
        }
        seen += 1;
        if seen <= skip {
            continue;
        }
        out.items.push(OverdueItem {
            project_id: row.project_id,
            project_name: row.entry.project_name,
            milestone_id: row.milestone_id,
            title: row.entry.title,
            due: row.due,
            working_days_overdue: day.working_days_late(row.due),
            days_overdue: (day.date - row.due).num_days(),
            responsible_departments: row.entry.responsible,
            lead_department: row.entry.lead,
        });
    }
    Ok(out)
}

/// The largest page of the overdue list.
pub const MAX_OVERDUE_PER_PAGE: usize = 1000;
/// The largest page of the project list.
pub const MAX_PROJECTS_PER_PAGE: usize = 500;

/// What the project list is asked for; `http::params::ListQuery` (the query string of
/// `GET /projects`, with its freshness) hands it over.
#[derive(Clone, Debug, Default)]
pub struct ProjectFilter {
    pub industry: Option<Industry>,
    pub city: Option<City>,
    /// Projects this department leads or supports.
    pub department: Option<DepartmentCode>,
    pub light: Option<Light>,
    pub stage: Option<LoopStage>,
    /// Only projects with (true) or without (false) an overdue milestone.
    pub overdue: Option<bool>,
    /// From 1.
    pub page: Option<usize>,
    /// 1 to 500; 50 by default.
    pub per_page: Option<usize>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ProjectRow {
    pub project_id: ProjectId,
    pub name: String,
    pub industry: Industry,
    pub city: City,
    pub stage: LoopStage,
    pub light: Light,
    pub lead_department: Option<DepartmentCode>,
    pub overdue_milestones: usize,
    /// The earliest due date among open milestones.
    pub next_due: Option<NaiveDate>,
    pub version: u64,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ProjectPage {
    pub total: usize,
    pub page: usize,
    pub per_page: usize,
    pub items: Vec<ProjectRow>,
}

fn row(r: &ProjectRecord, day: Day) -> Option<ProjectRow> {
    let info = r.state.info.as_ref()?;
    let live = || {
        r.open_milestones()
            .filter(|(_, m)| r.hold_on(m, day.date).is_none())
    };
    Some(ProjectRow {
        project_id: r.project_id,
        name: info.name.clone(),
        industry: info.industry,
        city: info.city,
        stage: r.stage,
        light: light(r, day),
        lead_department: r.state.lead_department().cloned(),
        overdue_milestones: live().filter(|(_, m)| day.date > m.due).count(),
        next_due: live().map(|(_, m)| m.due).min(),
        version: r.version,
    })
}

/// The projects a caller may see, one record at a time: all, or those a department is active
/// on. Read lazily, so that a list over many projects never holds every record at once.
fn visible<'a>(
    models: &'a ReadModels,
    confined_to: Option<&'a DepartmentCode>,
) -> Result<Box<dyn Iterator<Item = Result<ProjectRecord, ProjectionError>> + 'a>, ProjectionError>
{
    Ok(match confined_to {
        None => Box::new(models.projects()),
        Some(dept) => Box::new(models.department_projects(dept)?.into_iter().filter_map(
            move |id| match models.project(id) {
                Ok(r) => r.filter(|r| r.involves(dept)).map(Ok),
                Err(e) => Some(Err(e)),
            },
        )),
    })
}

pub fn list(
    models: &ReadModels,
    day: Day,
    filter: &ProjectFilter,
    confined_to: Option<&DepartmentCode>,
) -> Result<ProjectPage, ProjectionError> {
    let per_page = filter
        .per_page
        .unwrap_or(50)
        .clamp(1, MAX_PROJECTS_PER_PAGE);
    let page = filter.page.unwrap_or(1).max(1);
    // Each record becomes its small row (or nothing) as it is read.
    let mut rows = Vec::new();
    for r in visible(models, confined_to)? {
        let r = r?;
        if filter.department.as_ref().is_some_and(|d| !r.involves(d)) {
            continue;
        }
        let Some(p) = row(&r, day) else { continue };
        let wanted = filter.industry.is_none_or(|i| p.industry == i)
            && filter.city.is_none_or(|c| p.city == c)
            && filter.stage.is_none_or(|s| p.stage == s)
            && filter.light.is_none_or(|l| p.light == l)
            && filter
                .overdue
                .is_none_or(|o| o == (p.overdue_milestones > 0));
        if wanted {
            rows.push(p);
        }
    }
    let total = rows.len();
    let items = rows
        .into_iter()
        .skip((page - 1).saturating_mul(per_page))
        .take(per_page)
        .collect();
    Ok(ProjectPage {
        total,
        page,
        per_page,
        items,
    })
}

#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct LightCounts {
    pub projects: usize,
    pub green: usize,
    pub yellow: usize,
    pub red: usize,
}

impl LightCounts {
    pub(crate) fn add(&mut self, light: Light) {
        self.projects += 1;
        match light {
            Light::Green => self.green += 1,
            Light::Yellow => self.yellow += 1,
            Light::Red => self.red += 1,
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Summary {
    pub day: NaiveDate,
    pub policy_version: String,
    pub total: LightCounts,
    /// By industry name (the plan's nine industries).
    pub by_industry: BTreeMap<String, LightCounts>,
    /// By city (the 11 cities, and 全省 for province-wide projects).
    pub by_city: BTreeMap<String, LightCounts>,
}

fn name_of<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        other => format!("{other:?}"),
    }
}

/// Counts and lights by industry and by city: the aggregate the public may see.
pub fn summary(models: &ReadModels, day: Day) -> Result<Summary, ProjectionError> {
    let mut s = Summary {
        day: day.date,
        policy_version: day.lights.id.clone(),
        total: LightCounts::default(),
        by_industry: BTreeMap::new(),
        by_city: BTreeMap::new(),
    };
    for r in models.projects() {
        let r = r?;
        let Some(info) = r.state.info.as_ref() else {
            continue;
        };
        let colour = light(&r, day);
        s.total.add(colour);
        s.by_industry
            .entry(name_of(&info.industry))
            .or_default()
            .add(colour);
        s.by_city
            .entry(name_of(&info.city))
            .or_default()
            .add(colour);
    }
    Ok(s)
}

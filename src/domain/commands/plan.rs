//! 规划 plan: what the office asks for when it sets a project up — register it, schedule its
//! milestones, set its targets, assign its departments. Decided in `decide/plan.rs`.

use serde::{Deserialize, Serialize};

use crate::domain::text::{Line, Note};
use crate::domain::values::*;
use chrono::NaiveDate;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegisterProject {
    pub project_id: ProjectId,
    pub name: Line,
    pub industry: Industry,
    pub city: City,
    pub lead_department: DepartmentCode,
    pub supporting_departments: Vec<DepartmentCode>,
    pub description: Note,
    pub source_section: Line,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScheduleMilestone {
    pub milestone_id: MilestoneId,
    pub title: Line,
    pub due_date: NaiveDate,
    pub responsible_departments: Vec<DepartmentCode>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SetTarget {
    pub target_id: TargetId,
    pub indicator: Line,
    pub unit: Line,
    pub target_value: f64,
    pub year: i32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AssignDepartment {
    pub department: DepartmentCode,
    pub role: DepartmentRole,
}

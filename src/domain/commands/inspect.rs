//! 督查 inspect: what an inspector asks for — accept or return a completion claim, record an
//! inspection and its findings, order a finding rectified. Decided in `decide/inspect.rs`.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::events::Finding;
use crate::domain::values::*;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AcceptCompletion {
    pub milestone_id: MilestoneId,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReturnCompletion {
    pub milestone_id: MilestoneId,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordInspection {
    pub inspected_on: NaiveDate,
    pub on_site: bool,
    pub summary: String,
    pub findings: Vec<Finding>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrderRectification {
    pub rectification_id: RectificationId,
    pub finding_id: FindingId,
    pub department: DepartmentCode,
    pub deadline: NaiveDate,
    pub instructions: String,
}
